"""Where the database is and how to talk to it: URL, engine, transactions, retries, outage detection, migrations."""
from __future__ import annotations

import contextlib
import logging
import math
import os
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc as sa_exc, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from emotion import config
from emotion.store.errors import StoreUnavailable
from emotion.store.limits import MIGRATIONS_DIR, SQLITE_FILENAME, _LOCK_TIMEOUT_S, _MYSQL_NAMES
from emotion.store.schema import _to_utc, utcnow


log = logging.getLogger(__name__)


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


class Database:
    """Engine, sessions and migrations: the plumbing every repository's queries run on.

    The repositories are mixins over this class (they use ``self._session`` and ``self._now``);
    `emotion.store.Store` combines them."""

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

    def __enter__(self) -> Database:
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
                raise StoreUnavailable(code="store.busy",
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

