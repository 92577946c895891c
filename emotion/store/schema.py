"""The tables (SQLAlchemy models) and the UTC timestamp type; the Alembic migrations must match them."""
from __future__ import annotations

from datetime import date, datetime, time as dtime, timezone
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator
from emotion.records import EMOTIONS
from emotion.store.limits import DESCRIPTION_MAX, SESSION_NAME_MAX, MODEL_NAME_MAX, PERSON_NAME_MAX, USER_NAME_MAX, _MYSQL_NAMES


# types


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _to_utc(value: datetime | date) -> datetime:
    """Aware UTC datetime, truncated to milliseconds (what the database keeps)."""
    if not isinstance(value, datetime):  # a plain date: its midnight, UTC
        value = datetime.combine(value, dtime.min)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    value = value.astimezone(timezone.utc)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


class UTCDateTime(TypeDecorator):
    """Stored as a naive UTC DATETIME with milliseconds (DATETIME(3) on MySQL); read back aware."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect):  # noqa: ANN001
        if dialect.name in _MYSQL_NAMES:
            return dialect.type_descriptor(mysql.DATETIME(fsp=3))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value, dialect):  # noqa: ANN001
        if value is None:
            return None
        return _to_utc(value).replace(tzinfo=None)

    def process_result_value(self, value, dialect):  # noqa: ANN001
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


def _blob(mysql_type: Any) -> Any:
    return LargeBinary().with_variant(mysql_type, *_MYSQL_NAMES)


def _key_string(length: int) -> Any:
    """VARCHAR compared byte-wise on MySQL, as on SQLite: uniqueness is decided by our own key
    normalisation, never by a server collation (which would fold accents and pad spaces)."""
    return String(length).with_variant(mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin"),
                                       *_MYSQL_NAMES)


# --------------------------------------------------------------------------------------------
# models (the migrations in emotion/migrations/versions must match them: a test checks it)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
_TABLE_ARGS = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}
# BIGINT on MySQL, INTEGER on SQLite (only INTEGER PRIMARY KEY autoincrements there)
_BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("name_key"), _TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(USER_NAME_MAX))            # as typed at sign-up
    name_key: Mapped[str] = mapped_column(_key_string(USER_NAME_MAX))   # lower-case, unique
    password_hash: Mapped[str] = mapped_column(String(255))
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login: Mapped[datetime | None] = mapped_column(UTCDateTime())

    people: Mapped[list[Person]] = relationship(back_populates="user", cascade="all, delete-orphan",
                                                passive_deletes=True)


class Person(Base):
    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("user_id", "name_key"), _TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(PERSON_NAME_MAX))
    name_key: Mapped[str] = mapped_column(_key_string(PERSON_NAME_MAX))
    created: Mapped[datetime] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(back_populates="people")
    embeddings: Mapped[list[Embedding]] = relationship(back_populates="person", cascade="all, delete-orphan",
                                                       passive_deletes=True)


class Embedding(Base):
    __tablename__ = "embeddings"
    __table_args__ = (Index(None, "person_id", "model_name"), _TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    model_name: Mapped[str] = mapped_column(String(MODEL_NAME_MAX))
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(_blob(mysql.BLOB()))         # float32, little-endian
    thumbnail: Mapped[bytes | None] = mapped_column(_blob(mysql.MEDIUMBLOB()))  # PNG or JPEG
    created: Mapped[datetime] = mapped_column(UTCDateTime())

    person: Mapped[Person] = relationship(back_populates="embeddings")


class SnapshotRow(Base):
    __tablename__ = "snapshots"
    __table_args__ = (Index(None, "user_id", "created"), _TABLE_ARGS)

    id: Mapped[int] = mapped_column(_BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    png: Mapped[bytes] = mapped_column(_blob(mysql.LONGBLOB()))
    description: Mapped[str | None] = mapped_column(String(DESCRIPTION_MAX))


class HistoryRow(Base):
    """One analysed face."""

    __tablename__ = "history"
    __table_args__ = (
        UniqueConstraint("user_id", "row_key"),
        Index(None, "user_id", "ts"),
        Index(None, "user_id", "person_id", "ts"),
        Index(None, "person_id"),
        Index(None, "snapshot_id"),
        Index(None, "user_id", "media_digest"),
        Index(None, "session_id"),
        CheckConstraint("source IN ('photo', 'camera', 'video')", name="source"),
        _TABLE_ARGS,
    )

    id: Mapped[int] = mapped_column(_BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    row_key: Mapped[str | None] = mapped_column(String(36))     # client-made uuid: retries are no-ops
    source: Mapped[str] = mapped_column(String(8))
    time: Mapped[datetime] = mapped_column("ts", UTCDateTime())
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(PERSON_NAME_MAX))  # as seen at the time ("unknown")
    angry: Mapped[float | None] = mapped_column(Float)
    disgust: Mapped[float | None] = mapped_column(Float)
    fear: Mapped[float | None] = mapped_column(Float)
    happy: Mapped[float | None] = mapped_column(Float)
    sad: Mapped[float | None] = mapped_column(Float)
    surprise: Mapped[float | None] = mapped_column(Float)
    neutral: Mapped[float | None] = mapped_column(Float)
    dominant: Mapped[str | None] = mapped_column(String(16))
    confidence: Mapped[float | None] = mapped_column(Float)     # detector confidence
    x: Mapped[int] = mapped_column(Integer)
    y: Mapped[int] = mapped_column(Integer)
    w: Mapped[int] = mapped_column(Integer)
    h: Mapped[int] = mapped_column(Integer)
    track_id: Mapped[int | None] = mapped_column(Integer)
    # same type as snapshots.id (BIGINT on MySQL: InnoDB refuses a foreign key between INT and BIGINT)
    snapshot_id: Mapped[int | None] = mapped_column(_BigId, ForeignKey("snapshots.id", ondelete="SET NULL"))
    #: video rows (migration 0005): seconds from the start of the video, and the file's SHA-256
    offset_s: Mapped[float | None] = mapped_column(Float)
    media_digest: Mapped[str | None] = mapped_column(String(64))
    #: a classroom session's id (migration 0006 adds the foreign key: the session's rows go with it)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))


class SessionRow(Base):
    """A classroom session: a named stretch of history rows (the live camera, an uploaded video)."""

    __tablename__ = "sessions"
    __table_args__ = (Index(None, "user_id", "started"), _TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(SESSION_NAME_MAX))
    started: Mapped[datetime] = mapped_column(UTCDateTime())
    ended: Mapped[datetime | None] = mapped_column(UTCDateTime())        # NULL while it runs
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())    # set while paused
    paused_s: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")  # earlier pauses


class UserSettingsRow(Base):
    """A user's settings: one JSON object of key -> value (emotion.store.settings)."""

    __tablename__ = "user_settings"
    __table_args__ = (_TABLE_ARGS,)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    data: Mapped[str] = mapped_column(Text)
    updated: Mapped[datetime] = mapped_column(UTCDateTime())


class LoginClient(Base):
    """Per client address (hashed): failed sign-ins, back-off, sign-ups (migration 0003)."""
    __tablename__ = "login_clients"
    __table_args__ = (_TABLE_ARGS,)

    client_key: Mapped[str] = mapped_column(_key_string(40), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_failure: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_allowed: Mapped[datetime | None] = mapped_column(UTCDateTime())
    registrations: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    registration_window: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LoginName(Base):
    """Per normalised name (hashed; existing or not): failures in the window, the hard lock, and
    what to tell the owner at the next sign-in (migration 0003)."""
    __tablename__ = "login_names"
    __table_args__ = (_TABLE_ARGS,)

    name_key: Mapped[str] = mapped_column(_key_string(40), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    notice_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    notice_locked: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class LoginNameClient(Base):
    """Which clients failed on which name (to count distinct clients; migration 0003)."""
    __tablename__ = "login_name_clients"
    __table_args__ = (_TABLE_ARGS,)

    name_key: Mapped[str] = mapped_column(_key_string(40), primary_key=True)
    client_key: Mapped[str] = mapped_column(_key_string(40), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_failure: Mapped[datetime] = mapped_column(UTCDateTime())


assert tuple(c for c in EMOTIONS) == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
