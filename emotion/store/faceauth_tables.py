"""Tables of the face sign-in factor (migration 0004): the factor's state per user, its embeddings,
hashed recovery codes and the sign-in audit trail. Kept apart from `schema` so the feature's tables
live together; they share `schema.Base`'s metadata, so the schema-vs-migration check covers them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column

from emotion.store.limits import MODEL_NAME_MAX
from emotion.store.schema import _TABLE_ARGS, Base, UTCDateTime, _BigId, _blob

USER_AGENT_MAX = 255
RESULTS = ("success", "failure")
FACTORS = ("password", "face", "recovery_code")


class FaceFactor(Base):
    """One row per user who enrolled a face: whether the factor is on, and its own failure lock."""

    __tablename__ = "face_factor"
    __table_args__ = (_TABLE_ARGS,)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    model_name: Mapped[str] = mapped_column(String(MODEL_NAME_MAX))
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class FaceEmbedding(Base):
    """An enrolled face embedding (float32 little-endian); never an image."""

    __tablename__ = "face_embeddings"
    __table_args__ = (Index(None, "user_id"), _TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    model_name: Mapped[str] = mapped_column(String(MODEL_NAME_MAX))
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(_blob(mysql.BLOB()))
    created: Mapped[datetime] = mapped_column(UTCDateTime())


class RecoveryCode(Base):
    """A one-time recovery code's argon2id hash; `used_at` is set when it is spent."""

    __tablename__ = "recovery_codes"
    __table_args__ = (Index(None, "user_id"), _TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(255))
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SignInEvent(Base):
    """One sign-in attempt of an existing account: when, the result, which factor failed, the
    browser's user agent (truncated)."""

    __tablename__ = "signin_audit"
    __table_args__ = (Index(None, "user_id", "time"), _TABLE_ARGS)

    id: Mapped[int] = mapped_column(_BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    time: Mapped[datetime] = mapped_column(UTCDateTime())
    result: Mapped[str] = mapped_column(String(16))
    failed_factor: Mapped[str | None] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(32))
    user_agent: Mapped[str | None] = mapped_column(String(USER_AGENT_MAX))
