"""Security: sign-in/sign-up throttling tables (issue 17).

Revision ID: 0003_security_throttle
Revises: 0002_user_settings
Create Date: 2026-11-30

``login_clients`` (per client address, hashed), ``login_names`` (per normalised name, hashed,
existing or not) and ``login_name_clients`` (which clients failed on which name), matching
emotion/store/schema.py. The old per-user lock columns (users.failed_logins / locked_until) stay;
sign-in no longer sets them.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0003_security_throttle"
down_revision: str | Sequence[str] | None = "0002_user_settings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MY = ("mysql", "mariadb")
_TABLE_ARGS = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}


def _ts() -> sa.types.TypeEngine:
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=3), *_MY)


def _key(length: int) -> sa.types.TypeEngine:
    return sa.String(length).with_variant(mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin"), *_MY)


def upgrade() -> None:
    op.create_table(
        "login_clients",
        sa.Column("client_key", _key(40), nullable=False),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_failure", _ts(), nullable=True),
        sa.Column("next_allowed", _ts(), nullable=True),
        sa.Column("registrations", sa.Integer(), server_default="0", nullable=False),
        sa.Column("registration_window", _ts(), nullable=True),
        sa.PrimaryKeyConstraint("client_key", name=op.f("pk_login_clients")),
        **_TABLE_ARGS,
    )
    op.create_table(
        "login_names",
        sa.Column("name_key", _key(40), nullable=False),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("window_start", _ts(), nullable=False),
        sa.Column("locked_until", _ts(), nullable=True),
        sa.Column("notice_failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("notice_locked", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("name_key", name=op.f("pk_login_names")),
        **_TABLE_ARGS,
    )
    op.create_table(
        "login_name_clients",
        sa.Column("name_key", _key(40), nullable=False),
        sa.Column("client_key", _key(40), nullable=False),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_failure", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("name_key", "client_key", name=op.f("pk_login_name_clients")),
        **_TABLE_ARGS,
    )


def downgrade() -> None:
    op.drop_table("login_name_clients")
    op.drop_table("login_names")
    op.drop_table("login_clients")
