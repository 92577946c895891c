"""History rows from videos and classroom sessions: offsets, the video's digest, a session id.

Revision ID: 0005_video_sessions
Revises: 0001_initial (the lead chains it to 0004 at merge: ids 0002-0004 belong to other branches)
Create Date: 2026-11-30

* ``offset_s``: seconds from the start of the video (NULL for photos and the camera);
* ``media_digest``: SHA-256 (hex) of the analysed file, the key that saves a video once;
* ``session_id``: the classroom-sessions feature's session (nullable; that feature adds its table
  and the foreign key).
All three nullable, so existing rows and the other sources are untouched; batch mode for SQLite.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_video_sessions"
down_revision: str | Sequence[str] | None = "0004_face_factor"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("history") as batch:
        batch.add_column(sa.Column("offset_s", sa.Float(), nullable=True))
        batch.add_column(sa.Column("media_digest", sa.String(64), nullable=True))
        batch.add_column(sa.Column("session_id", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_history_user_id_media_digest"), ["user_id", "media_digest"])
        batch.create_index(batch.f("ix_history_session_id"), ["session_id"])


def downgrade() -> None:
    with op.batch_alter_table("history") as batch:
        batch.drop_index(batch.f("ix_history_session_id"))
        batch.drop_index(batch.f("ix_history_user_id_media_digest"))
        batch.drop_column("session_id")
        batch.drop_column("media_digest")
        batch.drop_column("offset_s")
