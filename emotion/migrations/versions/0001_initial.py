"""Initial schema: users, people, embeddings, snapshots, history.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-23

Written by hand to match the models in emotion/store/schema.py (tests/test_store.py compares the migrated
schema with the models on SQLite and MariaDB). Types are spelled out here, not imported from the
store, so that later model changes cannot rewrite history.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0001_initial"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MY = ("mysql", "mariadb")
_TABLE_ARGS = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}


def _ts() -> sa.types.TypeEngine:
    """UTC timestamp with milliseconds."""
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=3), *_MY)


def _key(length: int) -> sa.types.TypeEngine:
    """Normalised-name key, compared byte-wise on MySQL."""
    return sa.String(length).with_variant(mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin"), *_MY)


def _blob(mysql_type: sa.types.TypeEngine) -> sa.types.TypeEngine:
    return sa.LargeBinary().with_variant(mysql_type, *_MY)


def _big_id() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("name_key", _key(32), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created", _ts(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", _ts(), nullable=True),
        sa.Column("last_login", _ts(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("name_key", name=op.f("uq_users_name_key")),
        **_TABLE_ARGS,
    )
    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("name_key", _key(100), nullable=False),
        sa.Column("created", _ts(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_people_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("user_id", "name_key", name=op.f("uq_people_user_id_name_key")),
        **_TABLE_ARGS,
    )
    op.create_table(
        "embeddings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("model_name", sa.String(64), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("vector", _blob(mysql.BLOB()), nullable=False),
        sa.Column("thumbnail", _blob(mysql.MEDIUMBLOB()), nullable=True),
        sa.Column("created", _ts(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_embeddings_person_id_people"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_embeddings")),
        **_TABLE_ARGS,
    )
    op.create_index(op.f("ix_embeddings_person_id_model_name"), "embeddings", ["person_id", "model_name"])
    op.create_table(
        "snapshots",
        sa.Column("id", _big_id(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created", _ts(), nullable=False),
        sa.Column("png", _blob(mysql.LONGBLOB()), nullable=False),
        sa.Column("description", sa.String(1000), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_snapshots_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snapshots")),
        **_TABLE_ARGS,
    )
    op.create_index(op.f("ix_snapshots_user_id_created"), "snapshots", ["user_id", "created"])
    op.create_table(
        "history",
        sa.Column("id", _big_id(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("row_key", sa.String(36), nullable=True),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("ts", _ts(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(100), nullable=False),
        *[sa.Column(e, sa.Float(), nullable=True)
          for e in ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")],
        sa.Column("dominant", sa.String(16), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("x", sa.Integer(), nullable=False),
        sa.Column("y", sa.Integer(), nullable=False),
        sa.Column("w", sa.Integer(), nullable=False),
        sa.Column("h", sa.Integer(), nullable=False),
        sa.Column("track_id", sa.Integer(), nullable=True),
        sa.Column("snapshot_id", _big_id(), nullable=True),
        sa.CheckConstraint("source IN ('photo', 'camera', 'video')", name=op.f("ck_history_source")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_history_user_id_users"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_history_person_id_people"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["snapshot_id"], ["snapshots.id"], name=op.f("fk_history_snapshot_id_snapshots"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_history")),
        sa.UniqueConstraint("user_id", "row_key", name=op.f("uq_history_user_id_row_key")),
        **_TABLE_ARGS,
    )
    op.create_index(op.f("ix_history_user_id_ts"), "history", ["user_id", "ts"])
    op.create_index(op.f("ix_history_user_id_person_id_ts"), "history", ["user_id", "person_id", "ts"])
    op.create_index(op.f("ix_history_person_id"), "history", ["person_id"])
    op.create_index(op.f("ix_history_snapshot_id"), "history", ["snapshot_id"])


def downgrade() -> None:
    op.drop_table("history")
    op.drop_table("snapshots")
    op.drop_table("embeddings")
    op.drop_table("people")
    op.drop_table("users")
