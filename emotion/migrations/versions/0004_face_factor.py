"""Face sign-in factor: enrolled embeddings, hashed recovery codes, the factor's state, sign-in audit.

Revision ID: 0004_face_factor
Revises: 0001_initial (the lead chains it to 0003 at merge: ids 0002-0003 belong to other branches)
Create Date: 2026-11-30

Written by hand to match emotion/store/faceauth_tables.py (the schema test compares them on SQLite
and MariaDB); types are spelled out here so later model changes cannot rewrite history.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0004_face_factor"
down_revision: str | Sequence[str] | None = "0002_user_settings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MY = ("mysql", "mariadb")
_TABLE_ARGS = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}


def _ts() -> sa.types.TypeEngine:
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=3), *_MY)


def _big_id() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users"),
                                   ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "face_factor",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("model_name", sa.String(64), nullable=False),
        sa.Column("enrolled_at", _ts(), nullable=False),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", _ts(), nullable=True),
        _user_fk("face_factor"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_face_factor")),
        **_TABLE_ARGS,
    )
    op.create_table(
        "face_embeddings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("model_name", sa.String(64), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary().with_variant(mysql.BLOB(), *_MY), nullable=False),
        sa.Column("created", _ts(), nullable=False),
        _user_fk("face_embeddings"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_face_embeddings")),
        **_TABLE_ARGS,
    )
    op.create_index(op.f("ix_face_embeddings_user_id"), "face_embeddings", ["user_id"])
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(255), nullable=False),
        sa.Column("created", _ts(), nullable=False),
        sa.Column("used_at", _ts(), nullable=True),
        _user_fk("recovery_codes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
        **_TABLE_ARGS,
    )
    op.create_index(op.f("ix_recovery_codes_user_id"), "recovery_codes", ["user_id"])
    op.create_table(
        "signin_audit",
        sa.Column("id", _big_id(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("time", _ts(), nullable=False),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("failed_factor", sa.String(16), nullable=True),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("user_agent", sa.String(255), nullable=True),
        _user_fk("signin_audit"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signin_audit")),
        **_TABLE_ARGS,
    )
    op.create_index(op.f("ix_signin_audit_user_id_time"), "signin_audit", ["user_id", "time"])


def downgrade() -> None:
    # dropping a table drops its indexes (MariaDB refuses to drop an index a foreign key needs first)
    for table in ("signin_audit", "recovery_codes", "face_embeddings", "face_factor"):
        op.drop_table(table)
