"""The database: models and every query, behind one `Store` class.

* Where: `database_url(url)` picks the URL: the argument (e.g. from Streamlit secrets), else the
  ``DATABASE_URL`` environment variable, else an SQLite file ``emotion.db`` in
  `emotion.config.DATA_DIR` (created on demand), so a fresh clone runs without a server.
  MySQL/MariaDB goes through ``mysql+pymysql://user:pass@host/db`` (``mysql://`` and
  ``mariadb://`` are rewritten to PyMySQL; ``charset=utf8mb4`` is added when missing).
* Schema: only through the Alembic migrations in ``emotion/migrations`` (never
  ``metadata.create_all``). `Store.migrate()` (or `open_store()`) runs ``upgrade head``; it takes a
  lock first (``GET_LOCK`` on MySQL, ``BEGIN IMMEDIATE`` on SQLite) so several processes may call it
  at once, and it is a no-op when the schema is current.
* Isolation: every method about people, embeddings, history or snapshots takes the ``user_id`` of
  the signed-in user and filters by it; a person or snapshot of another user is "not found".
* Deleting: a person takes their embeddings along (ON DELETE CASCADE); their history rows stay,
  keeping the name as seen, with ``person_id`` NULL (they then count as "unknown" in filters).
  Deleting a snapshot leaves its history rows (``snapshot_id`` NULL); deleting a user removes
  everything the user owns.
* History retries: `add_history` is idempotent by ``row_key`` (unique per user).
* Errors: `StoreUnavailable` (a message for humans) when the database cannot be reached;
  `NameTaken` for a duplicate user or person name; `PersonNotFound` when a write names a person
  the user does not own; `ValueError` for malformed input.
* Time: all timestamps are stored as UTC with millisecond precision and come back as aware UTC
  datetimes; naive datetimes passed in are taken to be UTC.

This module never imports streamlit.
"""
from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time as dtime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    UniqueConstraint,
    and_,
    create_engine,
    delete,
    event,
    exc as sa_exc,
    false,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

from emotion import config
from emotion.records import EMOTIONS, UNKNOWN, Box, FaceRecord

__all__ = [
    "Store", "open_store", "database_url", "make_engine",
    "StoreError", "StoreUnavailable", "NameTaken", "PersonNotFound",
    "UserInfo", "PersonInfo", "EmbeddingInfo", "HistoryEntry", "SnapshotInfo", "Snapshot",
    "history_row", "SOURCES", "HISTORY_COLUMNS", "MIGRATIONS_DIR",
    "Base", "User", "Person", "Embedding", "HistoryRow", "SnapshotRow",
]

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_FILENAME = "emotion.db"
SOURCES: tuple[str, ...] = ("photo", "camera", "video")
USER_NAME_MAX = 32
PERSON_NAME_MAX = 100
MODEL_NAME_MAX = 64
DESCRIPTION_MAX = 1000
THUMBNAIL_MAX_BYTES = 1 << 20          # "small" PNG/JPEG thumbnails: 1 MiB at most
SNAPSHOT_MAX_BYTES = 15 << 20          # below MariaDB's default max_allowed_packet (16 MiB)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
_MYSQL_NAMES = ("mysql", "mariadb")
_LOCK_TIMEOUT_S = 120


# --------------------------------------------------------------------------------------------
# errors


class StoreError(Exception):
    """Base class of the store's own errors; ``str(e)`` is meant for humans."""


class StoreUnavailable(StoreError):
    """The database cannot be reached (down, wrong address, timeout, locked for too long).

    ``str(e)`` is a sentence for the page; ``e.detail`` the driver's message for the log."""

    def __init__(self, message: str = "The database is unreachable right now. Please try again in a moment.",
                 detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail


class NameTaken(StoreError, ValueError):
    """A user name (case-insensitive) or a person's name (per user, case-insensitive) is in use."""


class PersonNotFound(StoreError, LookupError):
    """The person does not exist or belongs to another user."""


# --------------------------------------------------------------------------------------------
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


assert tuple(c for c in EMOTIONS) == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


# --------------------------------------------------------------------------------------------
# plain results (no ORM objects leave the store: nothing to detach, safe to cache)


@dataclass(frozen=True)
class UserInfo:
    id: int
    name: str
    created: datetime
    failed_logins: int
    locked_until: datetime | None
    last_login: datetime | None
    password_hash: str = field(repr=False)

    def locked_at(self, now: datetime) -> bool:
        return self.locked_until is not None and _to_utc(now) < self.locked_until


@dataclass(frozen=True)
class PersonInfo:
    id: int
    name: str
    created: datetime
    embedding_count: int = 0


@dataclass(frozen=True)
class EmbeddingInfo:
    id: int
    person_id: int
    model_name: str
    dim: int
    created: datetime
    thumbnail: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    time: datetime
    source: str
    person_id: int | None
    name: str
    angry: float | None
    disgust: float | None
    fear: float | None
    happy: float | None
    sad: float | None
    surprise: float | None
    neutral: float | None
    dominant: str | None
    confidence: float | None
    x: int
    y: int
    w: int
    h: int
    track_id: int | None
    snapshot_id: int | None
    row_key: str | None

    @property
    def box(self) -> Box:
        return Box(self.x, self.y, self.w, self.h)

    @property
    def scores(self) -> dict[str, float | None]:
        return {e: getattr(self, e) for e in EMOTIONS}


#: `Store.history_frame`'s columns, in order (the CSV export writes them as they are)
HISTORY_COLUMNS: tuple[str, ...] = (
    "time", "source", "person", "person_id", "dominant", *EMOTIONS, "confidence",
    "box", "x", "y", "w", "h", "track", "id", "snapshot_id", "row_key",
)


@dataclass(frozen=True)
class SnapshotInfo:
    id: int
    created: datetime
    description: str | None
    size: int


@dataclass(frozen=True)
class Snapshot:
    id: int
    created: datetime
    description: str | None
    png: bytes = field(repr=False)


# --------------------------------------------------------------------------------------------
# engine


def database_url(url: str | URL | None = None) -> URL:
    """The URL to use: `url`, else ``$DATABASE_URL``, else ``sqlite:///<DATA_DIR>/emotion.db``.

    ``mysql://`` / ``mariadb://`` without a driver become ``mysql+pymysql://`` with utf8mb4."""
    raw = url if url not in (None, "") else os.environ.get("DATABASE_URL", "").strip() or None
    if raw is None:
        return URL.create("sqlite", database=str(Path(config.DATA_DIR) / SQLITE_FILENAME))
    u = make_url(raw)
    if u.get_backend_name() in _MYSQL_NAMES:
        if "+" not in u.drivername:
            u = u.set(drivername="mysql+pymysql")
        if "charset" not in u.query:
            u = u.update_query_dict({"charset": "utf8mb4"})
    return u


def _sqlite_file(u: URL) -> str | None:
    db = u.database
    if not db or db == ":memory:" or db.startswith("file:") and "mode=memory" in db:
        return None
    return db


def make_engine(url: str | URL | None = None, *, connect_timeout: float = 5.0, pool_recycle: int = 1800,
                echo: bool = False) -> Engine:
    """An engine for `database_url(url)`, set up for this app.

    SQLite: the folder is created; foreign keys on; WAL; 30 s busy timeout; real transactions
    (``BEGIN``, or ``BEGIN IMMEDIATE`` for writers, so that concurrent writers queue instead of
    failing). MySQL: pre-ping, `pool_recycle`, connect/read/write timeouts."""
    u = database_url(url)
    backend = u.get_backend_name()
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if backend == "sqlite":
        path = _sqlite_file(u)
        connect_args: dict[str, Any] = {"timeout": 30, "check_same_thread": False}
        if path is None:
            kwargs["poolclass"] = StaticPool
        else:
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = connect_args
        engine = create_engine(u, **kwargs)
        _setup_sqlite(engine, wal=path is not None)
        return engine
    if backend in _MYSQL_NAMES:
        kwargs.update(
            pool_pre_ping=True,
            pool_recycle=pool_recycle,
            connect_args={"connect_timeout": max(1, int(math.ceil(connect_timeout))),
                          "read_timeout": 60, "write_timeout": 60},
        )
        return create_engine(u, **kwargs)
    kwargs.update(pool_pre_ping=True, pool_recycle=pool_recycle)
    return create_engine(u, **kwargs)


def _setup_sqlite(engine: Engine, *, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # noqa: ANN001
        # Take transaction control away from the sqlite3 module (which never wraps DDL in a
        # transaction and begins lazily); SQLAlchemy's "begin" event below emits BEGIN itself.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        try:
            cur.execute("PRAGMA foreign_keys=ON")
            if wal:
                with contextlib.suppress(Exception):
                    cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # noqa: ANN001
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def _driver_errors() -> tuple[type[BaseException], ...]:
    """Connection errors a driver may raise unwrapped (e.g. from a pool ping or a lost socket)."""
    found: list[type[BaseException]] = []
    with contextlib.suppress(ImportError):
        import pymysql.err

        found += [pymysql.err.OperationalError, pymysql.err.InterfaceError]
    return tuple(found)


_UNAVAILABLE_ERRORS = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError,
                       sa_exc.TimeoutError, ConnectionError, *_driver_errors())
#: MySQL/MariaDB "deadlock found" and "lock wait timeout": the transaction may simply be retried
_RETRY_MYSQL_CODES = (1213, 1205)


def _is_retryable(err: BaseException) -> bool:
    orig = getattr(err, "orig", None)
    args = getattr(orig, "args", None) or ()
    return bool(args) and args[0] in _RETRY_MYSQL_CODES


def _unavailable(err: BaseException) -> StoreUnavailable:
    text = str(getattr(err, "orig", None) or err).strip()
    detail = text.splitlines()[0][:300] if text else type(err).__name__
    log.warning("database unavailable: %s", detail)
    return StoreUnavailable(detail=detail)


# --------------------------------------------------------------------------------------------
# input normalisation


def _end_bound(end: datetime | date) -> datetime:
    """Exclusive upper bound: a datetime as is; a plain date includes that whole (UTC) day."""
    if not isinstance(end, datetime):
        return _to_utc(end) + timedelta(days=1)
    return _to_utc(end)


def _is_unknown(person: Any) -> bool:
    return isinstance(person, str) and person.strip().casefold() == UNKNOWN.casefold()


def _name_key(name: str) -> str:
    return unicodedata.normalize("NFC", name).casefold()


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _clean_person_name(name: str) -> str:
    if not isinstance(name, str):
        raise ValueError("A name must be text.")
    name = unicodedata.normalize("NFC", name).strip()
    if not name:
        raise ValueError("A name cannot be empty.")
    if len(name) > PERSON_NAME_MAX:
        raise ValueError(f"A name can have at most {PERSON_NAME_MAX} characters.")
    if _CONTROL.search(name):
        raise ValueError("A name cannot contain control characters (tabs, line breaks...).")
    return name


def _float_or_none(v: Any, what: str) -> float | None:
    if v is None:
        return None
    f = float(v)
    if not math.isfinite(f):
        raise ValueError(f"{what} must be a finite number, not {v!r}")
    return f


def _int_or_none(v: Any) -> int | None:
    return None if v is None else int(v)


def _scores_dict(scores: Any) -> dict[str, float | None]:
    if scores is None:
        return {e: None for e in EMOTIONS}
    if isinstance(scores, Mapping):
        unknown = set(scores) - set(EMOTIONS)
        if unknown:
            raise ValueError(f"unknown emotion(s) {sorted(unknown)}; expected {EMOTIONS}")
        return {e: _float_or_none(scores.get(e), e) for e in EMOTIONS}
    arr = np.asarray(scores, dtype=np.float64).ravel()
    if arr.shape != (len(EMOTIONS),):
        raise ValueError(f"scores must have {len(EMOTIONS)} values in the order {EMOTIONS}")
    return {e: _float_or_none(v, e) for e, v in zip(EMOTIONS, arr)}


def history_row(record: FaceRecord, *, time: datetime | None = None, row_key: str | None = None,
                snapshot_id: int | None = None, source: str | None = None) -> dict[str, Any]:
    """A `FaceRecord` as a dict for `Store.add_history` (add a `row_key` to make retries no-ops)."""
    row: dict[str, Any] = {
        "box": record.box,
        "confidence": record.confidence,
        "name": record.identity.name,
        "person_id": record.identity.person_id,
        "scores": record.scores,
        "track_id": record.track_id,
    }
    for key, value in (("time", time), ("row_key", row_key), ("snapshot_id", snapshot_id), ("source", source)):
        if value is not None:
            row[key] = value
    return row


def _check_row_key(key: Any) -> str:
    key = str(key)
    if not 1 <= len(key) <= 36:
        raise ValueError("row_key must be 1-36 characters (a uuid)")
    return key


def _normalise_history_row(row: FaceRecord | Mapping[str, Any], *, user_id: int, source: str,
                           time: datetime, snapshot_id: int | None) -> dict[str, Any]:
    if isinstance(row, FaceRecord):
        row = history_row(row)
    elif not isinstance(row, Mapping):
        raise TypeError(f"history rows are FaceRecords or dicts, not {type(row).__name__}")
    src = row.get("source", source)
    if src not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, not {src!r}")
    box = row.get("box")
    if box is None:
        x, y, w, h = (row[k] for k in ("x", "y", "w", "h"))
    elif isinstance(box, Box):
        x, y, w, h = box.as_tuple()
    elif isinstance(box, Mapping):
        x, y, w, h = (box[k] for k in ("x", "y", "w", "h"))
    else:
        x, y, w, h = box
    if "scores" in row:
        scores = _scores_dict(row["scores"])
    else:
        scores = {e: _float_or_none(row.get(e), e) for e in EMOTIONS}
    dominant = row.get("dominant", row.get("emotion"))
    if dominant is None and all(v is not None for v in scores.values()):
        dominant = max(EMOTIONS, key=lambda e: scores[e])  # first of equals, like np.argmax
    if dominant is not None and dominant not in EMOTIONS:
        raise ValueError(f"dominant emotion must be one of {EMOTIONS}, not {dominant!r}")
    name = row.get("name")
    name = UNKNOWN if name in (None, "") else str(name).strip()[:PERSON_NAME_MAX] or UNKNOWN
    row_key = row.get("row_key")
    if row_key is not None:
        row_key = _check_row_key(row_key)
    ts = row.get("time", row.get("ts", time))
    return {
        "user_id": user_id,
        "row_key": row_key,
        "source": src,
        "ts": _to_utc(ts),
        "person_id": _int_or_none(row.get("person_id")),
        "name": name,
        **scores,
        "dominant": dominant,
        "confidence": _float_or_none(row.get("confidence"), "confidence"),
        "x": int(x), "y": int(y), "w": int(w), "h": int(h),
        "track_id": _int_or_none(row.get("track_id")),
        "snapshot_id": _int_or_none(row.get("snapshot_id", snapshot_id)),
    }


# --------------------------------------------------------------------------------------------
# the store


class Store:
    """Engine + sessions + every query. Thread-safe; one per process is enough (cache it).

    Nothing is created on construction: call `migrate()` once at start (or use `open_store`)."""

    def __init__(self, url: str | URL | None = None, *, engine: Engine | None = None,
                 clock: Callable[[], datetime] = utcnow, connect_timeout: float = 5.0,
                 pool_recycle: int = 1800, echo: bool = False) -> None:
        self.engine = engine if engine is not None else make_engine(
            url, connect_timeout=connect_timeout, pool_recycle=pool_recycle, echo=echo)
        self.clock = clock
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(self.engine.execution_options(sqlite_begin="IMMEDIATE"),
                                   expire_on_commit=False)

    # ---- plumbing ---------------------------------------------------------------------------

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def url(self) -> str:
        """The URL without its password (for logs and the About page)."""
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _now(self, now: datetime | None = None) -> datetime:
        return _to_utc(now if now is not None else self.clock())

    @contextlib.contextmanager
    def _session(self, write: bool = False) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on error; connection trouble
        becomes `StoreUnavailable`."""
        try:
            with (self._write if write else self._read)() as session:
                with session.begin():
                    yield session
        except _UNAVAILABLE_ERRORS as err:
            raise _unavailable(err) from err

    def ping(self) -> None:
        """Raise `StoreUnavailable` unless the database answers."""
        with self._session() as s:
            s.execute(select(1))

    def is_available(self) -> bool:
        try:
            self.ping()
        except StoreUnavailable:
            return False
        return True

    # ---- migrations -------------------------------------------------------------------------

    def _alembic_config(self):  # noqa: ANN202
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        return cfg

    def migrate(self, revision: str = "head") -> None:
        """``alembic upgrade <revision>`` under a lock: safe from several processes at once, a
        no-op when current. On SQLite the whole upgrade is one transaction with foreign keys
        off (batch table rebuilds must not cascade-delete)."""
        self._alembic("upgrade", revision)

    def downgrade(self, revision: str) -> None:
        """``alembic downgrade <revision>`` (tests and manual rollbacks only)."""
        self._alembic("downgrade", revision)

    def _alembic(self, action: str, revision: str) -> None:
        from alembic import command

        cfg = self._alembic_config()
        try:
            with self.engine.connect() as conn:
                with self._migration_lock(conn):
                    with conn.begin():
                        cfg.attributes["connection"] = conn
                        getattr(command, action)(cfg, revision)
        except _UNAVAILABLE_ERRORS as err:
            raise _unavailable(err) from err

    @contextlib.contextmanager
    def _migration_lock(self, conn) -> Iterator[None]:  # noqa: ANN001
        name = self.dialect
        if name == "sqlite":
            # PRAGMA foreign_keys is ignored inside a transaction, so it goes straight to the
            # DBAPI connection (autocommit mode, see _setup_sqlite): Connection.exec_driver_sql
            # would autobegin first. BEGIN IMMEDIATE then serialises concurrent migrators (the
            # second waits, then finds the schema at head).
            raw = conn.connection.driver_connection
            raw.execute("PRAGMA foreign_keys=OFF")
            conn.execution_options(sqlite_begin="IMMEDIATE")
            try:
                yield
            finally:
                with contextlib.suppress(Exception):
                    conn.rollback()
                    conn.execution_options(sqlite_begin="DEFERRED")
                    raw.execute("PRAGMA foreign_keys=ON")
        elif name in _MYSQL_NAMES:
            lock = f"emotion_migrate:{conn.engine.url.database}"[:64]
            got = conn.exec_driver_sql("SELECT GET_LOCK(%s, %s)", (lock, _LOCK_TIMEOUT_S)).scalar()
            conn.commit()
            if got != 1:
                raise StoreUnavailable("The database is busy with an upgrade; please try again in a minute.",
                                       detail=f"GET_LOCK({lock!r}) returned {got!r}")
            try:
                yield
            finally:
                with contextlib.suppress(Exception):
                    conn.rollback()
                    conn.exec_driver_sql("SELECT RELEASE_LOCK(%s)", (lock,))
                    conn.commit()
        elif name == "postgresql":
            conn.exec_driver_sql("SELECT pg_advisory_lock(4242424242)")
            conn.commit()
            try:
                yield
            finally:
                with contextlib.suppress(Exception):
                    conn.rollback()
                    conn.exec_driver_sql("SELECT pg_advisory_unlock(4242424242)")
                    conn.commit()
        else:
            yield

    def current_revision(self) -> str | None:
        """The schema's Alembic revision, None when not migrated."""
        from alembic.runtime.migration import MigrationContext

        try:
            with self.engine.connect() as conn:
                return MigrationContext.configure(conn).get_current_revision()
        except _UNAVAILABLE_ERRORS as err:
            raise _unavailable(err) from err

    @staticmethod
    def head_revision() -> str | None:
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        return ScriptDirectory.from_config(cfg).get_current_head()

    # ---- users ------------------------------------------------------------------------------

    @staticmethod
    def _user_info(u: User) -> UserInfo:
        return UserInfo(id=u.id, name=u.name, created=u.created, failed_logins=u.failed_logins or 0,
                        locked_until=u.locked_until, last_login=u.last_login, password_hash=u.password_hash)

    def create_user(self, name: str, password_hash: str, *, now: datetime | None = None) -> UserInfo:
        """Insert a user (name rules are `emotion.auth`'s job). `NameTaken` if the name is in use
        in any letter case."""
        name = name.strip()
        if not name or len(name) > USER_NAME_MAX:
            raise ValueError(f"A user name has 1 to {USER_NAME_MAX} characters.")
        if not password_hash:
            raise ValueError("password_hash is required")
        key = _name_key(name)
        try:
            with self._session(write=True) as s:
                if s.scalar(select(User.id).where(User.name_key == key)) is not None:
                    raise NameTaken("That user name is already taken.")
                user = User(name=name, name_key=key, password_hash=password_hash, created=self._now(now),
                            failed_logins=0)
                s.add(user)
                s.flush()
                return self._user_info(user)
        except sa_exc.IntegrityError as err:  # a concurrent sign-up won the race
            raise NameTaken("That user name is already taken.") from err

    def get_user(self, user_id: int) -> UserInfo | None:
        with self._session() as s:
            u = s.get(User, user_id)
            return None if u is None else self._user_info(u)

    def get_user_by_name(self, name: str) -> UserInfo | None:
        """Case-insensitive lookup."""
        if not isinstance(name, str) or not name.strip():
            return None
        with self._session() as s:
            u = s.scalar(select(User).where(User.name_key == _name_key(name.strip())))
            return None if u is None else self._user_info(u)

    def record_failed_login(self, user_id: int, *, now: datetime | None = None, max_failures: int = 5,
                            lock_for: timedelta = timedelta(minutes=15)) -> UserInfo | None:
        """Count one failed sign-in; the `max_failures`-th in a row locks the account until
        ``now + lock_for`` (and restarts the count). Attempts while locked are not counted.
        Atomic across processes (row lock / SQLite write lock)."""
        now = self._now(now)
        with self._session(write=True) as s:
            u = s.scalar(select(User).where(User.id == user_id).with_for_update())
            if u is None:
                return None
            if u.locked_until is not None and now < u.locked_until:
                return self._user_info(u)
            count = (u.failed_logins or 0) + 1
            if count >= max_failures:
                u.failed_logins, u.locked_until = 0, now + lock_for
            else:
                u.failed_logins, u.locked_until = count, None
            s.flush()
            return self._user_info(u)

    def record_successful_login(self, user_id: int, *, now: datetime | None = None,
                                new_password_hash: str | None = None) -> UserInfo | None:
        """Reset the failure count, set last_login (and store a re-hashed password) -- unless
        the account got locked meanwhile: then nothing changes and the returned info says so."""
        now = self._now(now)
        with self._session(write=True) as s:
            u = s.scalar(select(User).where(User.id == user_id).with_for_update())
            if u is None:
                return None
            if u.locked_until is not None and now < u.locked_until:
                return self._user_info(u)
            u.failed_logins, u.locked_until, u.last_login = 0, None, now
            if new_password_hash:
                u.password_hash = new_password_hash
            s.flush()
            return self._user_info(u)

    def set_password_hash(self, user_id: int, password_hash: str) -> bool:
        if not password_hash:
            raise ValueError("password_hash is required")
        with self._session(write=True) as s:
            res = s.execute(update(User).where(User.id == user_id).values(password_hash=password_hash))
            return res.rowcount > 0

    def unlock_user(self, user_id: int) -> bool:
        with self._session(write=True) as s:
            res = s.execute(update(User).where(User.id == user_id).values(failed_logins=0, locked_until=None))
            return res.rowcount > 0

    def delete_user(self, user_id: int) -> bool:
        """Delete an account and everything it owns (people, embeddings, history, snapshots)."""
        with self._session(write=True) as s:
            u = s.get(User, user_id)
            if u is None:
                return False
            s.delete(u)
            return True

    # ---- people and embeddings --------------------------------------------------------------

    def _owned_person(self, s: Session, user_id: int, person_id: int, *, lock: bool = False) -> Person | None:
        stmt = select(Person).where(Person.id == person_id, Person.user_id == user_id)
        if lock:
            stmt = stmt.with_for_update()
        return s.scalar(stmt)

    def _name_in_use(self, s: Session, user_id: int, key: str, *, other_than: int | None = None) -> bool:
        stmt = select(Person.id).where(Person.user_id == user_id, Person.name_key == key)
        if other_than is not None:
            stmt = stmt.where(Person.id != other_than)
        return s.scalar(stmt) is not None

    def add_person(self, user_id: int, name: str, *, now: datetime | None = None) -> PersonInfo:
        """A new person for `user_id`. `NameTaken` if the user already has one of that name
        (ignoring letter case and surrounding spaces); `ValueError` for an empty/too long name."""
        name = _clean_person_name(name)
        key = _name_key(name)
        taken = NameTaken(f"You already have someone called {name!r}.")
        try:
            with self._session(write=True) as s:
                if self._name_in_use(s, user_id, key):
                    raise taken
                p = Person(user_id=user_id, name=name, name_key=key, created=self._now(now))
                s.add(p)
                s.flush()
                return PersonInfo(p.id, p.name, p.created, 0)
        except sa_exc.IntegrityError as err:
            if self.get_user(user_id) is None:
                raise StoreError(f"No user with id {user_id}.") from err
            raise taken from err

    def rename_person(self, user_id: int, person_id: int, new_name: str) -> bool:
        """False when the person does not exist or is another user's (nothing changes)."""
        name = _clean_person_name(new_name)
        key = _name_key(name)
        taken = NameTaken(f"You already have someone called {name!r}.")
        try:
            with self._session(write=True) as s:
                p = self._owned_person(s, user_id, person_id, lock=True)
                if p is None:
                    return False
                if self._name_in_use(s, user_id, key, other_than=person_id):
                    raise taken
                p.name, p.name_key = name, key
                return True
        except sa_exc.IntegrityError as err:
            raise taken from err

    def delete_person(self, user_id: int, person_id: int) -> bool:
        """Delete a person and their embeddings; their history rows stay, as "unknown person,
        name as seen". False when not found / not the user's."""
        with self._session(write=True) as s:
            p = self._owned_person(s, user_id, person_id)
            if p is None:
                return False
            s.delete(p)  # ORM cascade; ON DELETE CASCADE does the same in the database
            return True

    def get_person(self, user_id: int, person_id: int) -> PersonInfo | None:
        with self._session() as s:
            row = s.execute(
                select(Person.id, Person.name, Person.created, func.count(Embedding.id))
                .outerjoin(Embedding, Embedding.person_id == Person.id)
                .where(Person.id == person_id, Person.user_id == user_id)
                .group_by(Person.id, Person.name, Person.created)
            ).first()
            return None if row is None else PersonInfo(*row)

    def list_people(self, user_id: int, *, model_name: str | None = None) -> list[PersonInfo]:
        """The user's people by name, each with its number of embeddings (of `model_name` only,
        when given)."""
        join_on = Embedding.person_id == Person.id
        if model_name is not None:
            join_on = and_(join_on, Embedding.model_name == model_name)
        with self._session() as s:
            rows = s.execute(
                select(Person.id, Person.name, Person.created, func.count(Embedding.id))
                .outerjoin(Embedding, join_on)
                .where(Person.user_id == user_id)
                .group_by(Person.id, Person.name, Person.created, Person.name_key)
                .order_by(Person.name_key, Person.id)
            ).all()
            return [PersonInfo(*r) for r in rows]

    def add_embeddings(self, user_id: int, person_id: int, items: Iterable[Sequence[Any]],
                       *, now: datetime | None = None) -> list[int]:
        """Store face vectors for one of the user's people; returns the new ids.

        Items are ``(model_name, vector)`` or ``(model_name, vector, thumbnail)`` (the contract's
        order; ``(vector, model_name[, thumbnail])`` is accepted too: the text is the model
        name). The thumbnail is small PNG or JPEG bytes, or None. `PersonNotFound` when the
        person is not the user's; `ValueError` for an empty/non-finite vector, a missing model
        name or a thumbnail that is not a small PNG/JPEG. All or nothing."""
        rows = []
        created = self._now(now)
        for item in items:
            item = tuple(item)
            if len(item) not in (2, 3):
                raise ValueError("An embedding item is (model_name, vector) or (model_name, vector, thumbnail).")
            first, second = item[0], item[1]
            thumb = item[2] if len(item) == 3 else None
            if isinstance(first, str):
                model_name, vector = first, second
            elif isinstance(second, str):
                vector, model_name = first, second
            else:
                raise ValueError("An embedding item needs a model name (text).")
            v = np.asarray(vector, dtype="<f4").ravel()
            if v.size == 0 or not np.all(np.isfinite(v)):
                raise ValueError("An embedding must be a non-empty vector of finite numbers.")
            if not model_name.strip() or len(model_name) > MODEL_NAME_MAX:
                raise ValueError(f"model_name must be 1-{MODEL_NAME_MAX} characters")
            if thumb is not None:
                thumb = bytes(thumb)
                if not (thumb.startswith(PNG_MAGIC) or thumb.startswith(JPEG_MAGIC)):
                    raise ValueError("The thumbnail must be PNG or JPEG bytes.")
                if len(thumb) > THUMBNAIL_MAX_BYTES:
                    raise ValueError(f"The thumbnail is larger than {THUMBNAIL_MAX_BYTES // 1024} KiB.")
            rows.append(Embedding(person_id=person_id, model_name=model_name.strip(), dim=int(v.size),
                                  vector=v.tobytes(), thumbnail=thumb, created=created))
        with self._session(write=True) as s:
            if self._owned_person(s, user_id, person_id, lock=True) is None:
                raise PersonNotFound("That person does not exist (any more).")
            s.add_all(rows)
            s.flush()
            return [r.id for r in rows]

    def list_embeddings(self, user_id: int, person_id: int, *, model_name: str | None = None,
                        with_thumbnails: bool = True) -> list[EmbeddingInfo]:
        """A person's samples (oldest first); empty when the person is not the user's."""
        cols = [Embedding.id, Embedding.person_id, Embedding.model_name, Embedding.dim, Embedding.created]
        if with_thumbnails:
            cols.append(Embedding.thumbnail)
        stmt = (select(*cols).join(Person, Person.id == Embedding.person_id)
                .where(Person.user_id == user_id, Embedding.person_id == person_id)
                .order_by(Embedding.created, Embedding.id))
        if model_name is not None:
            stmt = stmt.where(Embedding.model_name == model_name)
        with self._session() as s:
            return [EmbeddingInfo(*r) for r in s.execute(stmt).all()]

    def delete_embedding(self, user_id: int, embedding_id: int) -> bool:
        with self._session(write=True) as s:
            owned = select(Person.id).where(Person.user_id == user_id)
            res = s.execute(delete(Embedding).where(Embedding.id == embedding_id, Embedding.person_id.in_(owned)))
            return res.rowcount > 0

    def gallery(self, user_id: int, model_name: str, *, metric: str | None = None,
                threshold: float | None = None) -> Any:
        """The user's known faces for recogniser `model_name`.

        Without `metric`/`threshold`: the entries list of `gallery_entries` (the store does not
        know a recogniser's metric or tuned threshold; the caller wraps it, e.g.
        ``Gallery(entries, recognizer.metric, recognizer.threshold)``). With both given and
        `emotion.recognize.gallery` present: a ``Gallery(entries, metric, threshold)``."""
        entries = self.gallery_entries(user_id, model_name)
        if metric is None or threshold is None:
            return entries
        try:
            from emotion.recognize.gallery import Gallery
        except ImportError:
            return entries
        return Gallery(entries, metric, float(threshold))

    def gallery_entries(self, user_id: int, model_name: str) -> list[tuple[int, str, np.ndarray]]:
        """``(person_id, name, float32 vector)`` for every stored embedding of `model_name` of the
        user's people (several per person possible), ordered by name."""
        with self._session() as s:
            rows = s.execute(
                select(Person.id, Person.name, Embedding.vector, Embedding.dim)
                .join(Embedding, Embedding.person_id == Person.id)
                .where(Person.user_id == user_id, Embedding.model_name == model_name)
                .order_by(Person.name_key, Person.id, Embedding.id)
            ).all()
        out = []
        for pid, name, blob, dim in rows:
            vec = np.frombuffer(blob, dtype="<f4").astype(np.float32)
            if vec.size != dim:  # a damaged row: skip rather than break recognition
                log.warning("embedding of person %s has %s values, expected %s; skipped", pid, vec.size, dim)
                continue
            out.append((pid, name, vec))
        return out

    # ---- history ----------------------------------------------------------------------------

    def add_history(self, user_id: int, rows: Iterable[FaceRecord | Mapping[str, Any]], *,
                    source: str = "photo", time: datetime | None = None,
                    row_keys: Sequence[str | None] | None = None,
                    snapshot_id: int | None = None) -> int:
        """Insert analysed faces in one transaction; returns how many rows were new.

        Rows are `FaceRecord`s or dicts (see `history_row`): keys ``box`` (Box, (x, y, w, h) or
        dict) or ``x, y, w, h``; ``scores`` (7 values in EMOTIONS order or a name->score dict)
        or the seven emotion keys; optional ``name``, ``person_id``, ``dominant``,
        ``confidence``, ``track_id``, ``snapshot_id``, ``time`` (else `time`, else now),
        ``source`` (else `source`) and ``row_key`` (else ``row_keys[i]``, one per row).

        Idempotent: a row whose ``row_key`` is already stored for this user (or repeated in
        the batch) is skipped, so a batch retried after an outage is never written twice, and
        concurrent writers of the same keys write each key once (INSERT IGNORE on MySQL /
        ON CONFLICT DO NOTHING on SQLite on the (user_id, row_key) unique key; a deadlock
        between writers is retried). Rows without a key are always inserted.
        A ``person_id``/``snapshot_id`` that is not the user's (e.g. deleted meanwhile) is
        stored as NULL; the name as seen is kept."""
        default_time = self._now(time)
        rows = list(rows)
        if row_keys is not None:
            row_keys = list(row_keys)
            if len(row_keys) != len(rows):
                raise ValueError(f"row_keys has {len(row_keys)} keys for {len(rows)} rows")
        values = []
        for i, r in enumerate(rows):
            v = _normalise_history_row(r, user_id=user_id, source=source, time=default_time,
                                       snapshot_id=snapshot_id)
            if v["row_key"] is None and row_keys is not None and row_keys[i] is not None:
                v["row_key"] = _check_row_key(row_keys[i])
            values.append(v)
        # duplicates inside the batch: keep the first
        seen: set[str] = set()
        unique_values = []
        for v in values:
            if v["row_key"] is not None:
                if v["row_key"] in seen:
                    continue
                seen.add(v["row_key"])
            unique_values.append(v)
        # one order for every writer (keys first, sorted): fewer lock-order deadlocks on InnoDB
        unique_values.sort(key=lambda v: (v["row_key"] is None, v["row_key"] or ""))
        if not unique_values:
            return 0
        for attempt in range(5):
            try:
                return self._insert_history(user_id, [dict(v) for v in unique_values], seen)
            except StoreUnavailable as err:
                cause = err.__cause__
                if cause is None or not _is_retryable(cause) or attempt == 4:
                    raise
                log.info("add_history: %s; retrying", err.detail)
                import time as _time

                _time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover

    def _insert_history(self, user_id: int, values: list[dict[str, Any]], keys: set[str]) -> int:
        with self._session(write=True) as s:
            person_ids = {v["person_id"] for v in values if v["person_id"] is not None}
            if person_ids:
                owned = set(s.scalars(select(Person.id).where(Person.user_id == user_id,
                                                              Person.id.in_(person_ids))))
                for v in values:
                    if v["person_id"] is not None and v["person_id"] not in owned:
                        v["person_id"] = None
            snap_ids = {v["snapshot_id"] for v in values if v["snapshot_id"] is not None}
            if snap_ids:
                owned = set(s.scalars(select(SnapshotRow.id).where(SnapshotRow.user_id == user_id,
                                                                   SnapshotRow.id.in_(snap_ids))))
                for v in values:
                    if v["snapshot_id"] is not None and v["snapshot_id"] not in owned:
                        v["snapshot_id"] = None
            if keys:
                # retries are settled here; the conflict clause below settles concurrent writers
                existing: set[str] = set()
                ordered = sorted(keys)
                for i in range(0, len(ordered), 500):
                    existing.update(s.scalars(select(HistoryRow.row_key).where(
                        HistoryRow.user_id == user_id, HistoryRow.row_key.in_(ordered[i:i + 500]))))
                values = [v for v in values if v["row_key"] is None or v["row_key"] not in existing]
            if not values:
                return 0
            res = s.execute(self._insert_ignore_history(), values)
            count = res.rowcount
            return len(values) if count is None or count < 0 else int(count)

    def _insert_ignore_history(self):  # noqa: ANN202
        """INSERT that skips rows whose (user_id, row_key) exists; its rowcount is the number of
        rows really inserted (INSERT IGNORE's affected rows on MySQL; not ON DUPLICATE KEY UPDATE,
        whose count PyMySQL's FOUND_ROWS flag makes include the duplicates)."""
        table = HistoryRow.__table__
        name = self.dialect
        if name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            return sqlite_insert(table).on_conflict_do_nothing(index_elements=["user_id", "row_key"])
        if name in _MYSQL_NAMES:
            # IGNORE also turns other errors into warnings: the values are validated above
            # (lengths, sources, owned person/snapshot ids), so only duplicates are left.
            return insert(table).prefix_with("IGNORE")
        if name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(table).on_conflict_do_nothing(index_elements=["user_id", "row_key"])
        return insert(table)

    @staticmethod
    def _history_filters(user_id: int, start: datetime | date | None, end: datetime | date | None,
                         person_ids: Iterable[int | None] | None, sources: Iterable[str] | None,
                         emotions: Iterable[str] | None, names: Iterable[str] | None = None, *,
                         person: int | str | None = None, source: str | None = None) -> list[Any]:
        conds: list[Any] = [HistoryRow.user_id == user_id]
        if start is not None:
            conds.append(HistoryRow.time >= _to_utc(start))
        if end is not None:
            conds.append(HistoryRow.time < _end_bound(end))
        if person is not None:
            one: list[int | None] = [None] if _is_unknown(person) else [int(person)]
            person_ids = one if person_ids is None else [i for i in person_ids if i in one]
        if person_ids is not None:
            ids = list(person_ids)
            wanted = [int(i) for i in ids if i is not None and not _is_unknown(i)]
            alternatives = []
            if wanted:
                alternatives.append(HistoryRow.person_id.in_(wanted))
            if any(i is None or _is_unknown(i) for i in ids):
                alternatives.append(HistoryRow.person_id.is_(None))
            conds.append(or_(*alternatives) if alternatives else false())
        if source is not None:
            sources = [source] if sources is None else [x for x in sources if x == source]
            if source not in SOURCES:
                raise ValueError(f"unknown source {source!r}; expected {SOURCES}")
        if sources is not None:
            src = list(sources)
            bad = set(src) - set(SOURCES)
            if bad:
                raise ValueError(f"unknown source(s) {sorted(bad)}; expected {SOURCES}")
            conds.append(HistoryRow.source.in_(src) if src else false())
        if emotions is not None:
            emo = list(emotions)
            bad = set(emo) - set(EMOTIONS)
            if bad:
                raise ValueError(f"unknown emotion(s) {sorted(bad)}; expected {EMOTIONS}")
            conds.append(HistoryRow.dominant.in_(emo) if emo else false())
        if names is not None:
            nm = list(names)
            conds.append(HistoryRow.name.in_(nm) if nm else false())
        return conds

    def history(self, user_id: int, *, start: datetime | date | None = None, end: datetime | date | None = None,
                person: int | str | None = None, source: str | None = None,
                person_ids: Iterable[int | None] | None = None, sources: Iterable[str] | None = None,
                emotions: Iterable[str] | None = None, names: Iterable[str] | None = None,
                limit: int | None = None, offset: int = 0, newest_first: bool = True) -> list[HistoryEntry]:
        """The user's analysed faces, filtered and paged.

        ``start <= time < end``: datetimes (naive = UTC) or dates; a *date* as `end` includes
        that whole day (UTC). ``person``: a person id or ``"unknown"`` (faces not recognised,
        or recognised as someone since deleted); ``source``: "photo", "camera" or "video".
        The plural filters take several values: ``person_ids`` (``None`` in it = unknown),
        ``sources``, ``emotions`` (dominant), ``names`` (as seen); an empty list matches
        nothing, ``None`` means no filter. Paged with limit/offset, newest first unless told
        otherwise (ties broken by id)."""
        conds = self._history_filters(user_id, start, end, person_ids, sources, emotions, names,
                                      person=person, source=source)
        order = (HistoryRow.time.desc(), HistoryRow.id.desc()) if newest_first else (HistoryRow.time, HistoryRow.id)
        stmt = select(HistoryRow).where(*conds).order_by(*order)
        if limit is not None:
            stmt = stmt.limit(max(0, int(limit)))
        if offset:
            if limit is None:
                stmt = stmt.limit(2**62)  # MySQL needs a LIMIT with OFFSET
            stmt = stmt.offset(max(0, int(offset)))
        with self._session() as s:
            return [HistoryEntry(
                id=r.id, time=r.time, source=r.source, person_id=r.person_id, name=r.name,
                angry=r.angry, disgust=r.disgust, fear=r.fear, happy=r.happy, sad=r.sad,
                surprise=r.surprise, neutral=r.neutral, dominant=r.dominant, confidence=r.confidence,
                x=r.x, y=r.y, w=r.w, h=r.h, track_id=r.track_id, snapshot_id=r.snapshot_id,
                row_key=r.row_key) for r in s.scalars(stmt)]

    def history_count(self, user_id: int, *, start: datetime | date | None = None,
                      end: datetime | date | None = None, person: int | str | None = None,
                      source: str | None = None, person_ids: Iterable[int | None] | None = None,
                      sources: Iterable[str] | None = None, emotions: Iterable[str] | None = None,
                      names: Iterable[str] | None = None) -> int:
        """How many rows `history` would return without paging."""
        conds = self._history_filters(user_id, start, end, person_ids, sources, emotions, names,
                                      person=person, source=source)
        with self._session() as s:
            return int(s.scalar(select(func.count(HistoryRow.id)).where(*conds)) or 0)

    def history_frame(self, user_id: int, start: datetime | date | None = None,
                      end: datetime | date | None = None, person: int | str | None = None,
                      source: str | None = None, *, person_ids: Iterable[int | None] | None = None,
                      sources: Iterable[str] | None = None, emotions: Iterable[str] | None = None,
                      names: Iterable[str] | None = None, limit: int | None = None, offset: int = 0,
                      newest_first: bool = False):  # noqa: ANN201 -> pandas.DataFrame
        """`history` (same filters) as a pandas DataFrame with `HISTORY_COLUMNS`, oldest first by
        default (for charts):

        ``time`` tz-aware UTC (ms); ``source``; ``person`` the name as seen ("unknown" for a
        stranger); ``person_id`` (nullable Int64; <NA> for unknown or deleted people);
        ``dominant``; the seven scores and ``confidence`` (float64); ``box`` as text
        ``"x,y,w,h"`` plus ``x, y, w, h`` (Int64); ``track`` (Int64, camera/video only);
        ``id`` and ``snapshot_id`` (Int64), ``row_key``. Same columns, zero rows, when nothing
        matches."""
        import pandas as pd

        entries = self.history(user_id, start=start, end=end, person=person, source=source,
                               person_ids=person_ids, sources=sources, emotions=emotions, names=names,
                               limit=limit, offset=offset, newest_first=newest_first)
        cols: dict[str, list[Any]] = {
            "time": [e.time for e in entries],
            "source": [e.source for e in entries],
            "person": [e.name for e in entries],
            "person_id": [e.person_id for e in entries],
            "dominant": [e.dominant for e in entries],
            **{emo: [getattr(e, emo) for e in entries] for emo in EMOTIONS},
            "confidence": [e.confidence for e in entries],
            "box": [f"{e.x},{e.y},{e.w},{e.h}" for e in entries],
            "x": [e.x for e in entries], "y": [e.y for e in entries],
            "w": [e.w for e in entries], "h": [e.h for e in entries],
            "track": [e.track_id for e in entries],
            "id": [e.id for e in entries],
            "snapshot_id": [e.snapshot_id for e in entries],
            "row_key": [e.row_key for e in entries],
        }
        assert tuple(cols) == HISTORY_COLUMNS
        data: dict[str, Any] = {}
        for c, values in cols.items():
            if c == "time":
                data[c] = pd.to_datetime(pd.Series(values, dtype=object), utc=True).astype("datetime64[ms, UTC]")
            elif c in ("id", "person_id", "x", "y", "w", "h", "track", "snapshot_id"):
                data[c] = pd.array(values, dtype="Int64")
            elif c in EMOTIONS or c == "confidence":
                data[c] = pd.array([np.nan if v is None else v for v in values], dtype="float64")
            else:
                data[c] = pd.Series(values, dtype=object)
        return pd.DataFrame(data, columns=list(HISTORY_COLUMNS))

    def delete_history(self, user_id: int, *, start: datetime | date | None = None,
                       end: datetime | date | None = None, person: int | str | None = None,
                       source: str | None = None, person_ids: Iterable[int | None] | None = None,
                       sources: Iterable[str] | None = None, ids: Iterable[int] | None = None) -> int:
        """Delete the user's history (all of it, or what the filters / ids select); returns the
        number of rows deleted. Snapshots are kept (see `delete_snapshot`)."""
        conds = self._history_filters(user_id, start, end, person_ids, sources, None,
                                      person=person, source=source)
        if ids is not None:
            id_list = [int(i) for i in ids]
            conds.append(HistoryRow.id.in_(id_list) if id_list else false())
        with self._session(write=True) as s:
            return s.execute(delete(HistoryRow).where(*conds)).rowcount

    # ---- snapshots --------------------------------------------------------------------------

    def save_snapshot(self, user_id: int, png: bytes, description: str | None = None, *,
                      time: datetime | None = None) -> int:
        """Store an annotated image (PNG bytes, at most 15 MiB); returns its id."""
        png = bytes(png)
        if not png.startswith(PNG_MAGIC):
            raise ValueError("A snapshot must be PNG bytes.")
        if len(png) > SNAPSHOT_MAX_BYTES:
            raise ValueError(f"The snapshot is larger than {SNAPSHOT_MAX_BYTES >> 20} MiB.")
        if description is not None:
            description = description.strip()[:DESCRIPTION_MAX] or None
        with self._session(write=True) as s:
            row = SnapshotRow(user_id=user_id, created=self._now(time), png=png, description=description)
            s.add(row)
            s.flush()
            return row.id

    def list_snapshots(self, user_id: int, *, limit: int | None = 50, offset: int = 0,
                       start: datetime | date | None = None, end: datetime | date | None = None) -> list[SnapshotInfo]:
        """The user's snapshots, newest first, without their bytes."""
        stmt = (select(SnapshotRow.id, SnapshotRow.created, SnapshotRow.description, func.length(SnapshotRow.png))
                .where(SnapshotRow.user_id == user_id)
                .order_by(SnapshotRow.created.desc(), SnapshotRow.id.desc()))
        if start is not None:
            stmt = stmt.where(SnapshotRow.created >= _to_utc(start))
        if end is not None:
            stmt = stmt.where(SnapshotRow.created < _end_bound(end))
        if limit is not None:
            stmt = stmt.limit(max(0, int(limit)))
        if offset:
            if limit is None:
                stmt = stmt.limit(2**62)
            stmt = stmt.offset(max(0, int(offset)))
        with self._session() as s:
            return [SnapshotInfo(i, c, d, int(n or 0)) for i, c, d, n in s.execute(stmt).all()]

    def get_snapshot(self, user_id: int, snapshot_id: int) -> Snapshot | None:
        with self._session() as s:
            row = s.scalar(select(SnapshotRow).where(SnapshotRow.id == snapshot_id, SnapshotRow.user_id == user_id))
            return None if row is None else Snapshot(row.id, row.created, row.description, row.png)

    def delete_snapshot(self, user_id: int, snapshot_id: int) -> bool:
        """History rows that pointed at it keep their data (snapshot_id becomes NULL)."""
        with self._session(write=True) as s:
            res = s.execute(delete(SnapshotRow).where(SnapshotRow.id == snapshot_id, SnapshotRow.user_id == user_id))
            return res.rowcount > 0


def open_store(url: str | URL | None = None, *, migrate: bool = True, **kwargs: Any) -> Store:
    """A `Store` for `database_url(url)`, migrated to head (the app's entry point; cache it)."""
    store = Store(url, **kwargs)
    if migrate:
        try:
            store.migrate()
        except BaseException:
            store.close()
            raise
    return store


def new_row_key() -> str:
    """A fresh client-side `row_key` for `Store.add_history`."""
    return str(uuid.uuid4())


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m emotion.store [upgrade|current|head]`` (URL from $DATABASE_URL)."""
    import sys

    args = list(sys.argv[1:] if argv is None else argv) or ["upgrade"]
    store = Store()
    try:
        if args[0] == "upgrade":
            store.migrate()
            print(f"{store.url}: at {store.current_revision()}")
        elif args[0] == "current":
            print(store.current_revision())
        elif args[0] == "head":
            print(store.head_revision())
        else:
            print(main.__doc__)
            return 2
    except StoreUnavailable as err:
        print(f"{err} ({err.detail})", file=sys.stderr)
        return 1
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
