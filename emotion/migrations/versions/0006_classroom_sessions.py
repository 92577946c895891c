"""Classroom sessions: the ``sessions`` table, and history.session_id's foreign key to it.

Revision ID: 0006_classroom_sessions
Revises: 0005_video_sessions
Create Date: 2026-11-30

A session belongs to one user (deleted with the user); it has a name, a start, an end (NULL while it
runs), ``paused_at`` (set while it is paused) and ``paused_s`` (seconds spent paused before, so the
duration leaves the pauses out). Migration 0005 added ``history.session_id`` (nullable); this one adds
its foreign key, ON DELETE CASCADE: deleting a session takes its rows along.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0006_classroom_sessions"
down_revision: str | Sequence[str] | None = "0005_video_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MY = ("mysql", "mariadb")


def _ts() -> sa.types.TypeEngine:
    """UTC timestamp with milliseconds (spelled out, as in 0001: later model changes cannot rewrite it)."""
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=3), *_MY)


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("started", _ts(), nullable=False),
        sa.Column("ended", _ts(), nullable=True),
        sa.Column("paused_at", _ts(), nullable=True),
        sa.Column("paused_s", sa.Float(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_sessions_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
        mysql_engine="InnoDB", mysql_charset="utf8mb4",
    )
    op.create_index(op.f("ix_sessions_user_id_started"), "sessions", ["user_id", "started"])
    with op.batch_alter_table("history") as batch:
        batch.create_foreign_key(batch.f("fk_history_session_id_sessions"), "sessions", ["session_id"], ["id"],
                                 ondelete="CASCADE")


def downgrade() -> None:
    with op.batch_alter_table("history") as batch:
        batch.drop_constraint(batch.f("fk_history_session_id_sessions"), type_="foreignkey")
    # dropping the table drops its index too; MariaDB refuses to drop the index alone while the
    # user_id foreign key needs it
    op.drop_table("sessions")
