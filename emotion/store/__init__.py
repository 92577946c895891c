"""The database behind one simple `Store` facade; each concern lives in its own module here.

* Modules: `engine` (URL, connection, transactions, outage detection, migrations), `schema`
  (tables), `results` (plain frozen results), repositories `accounts`, `people`, `history`,
  `snapshots`, `settings` (each user's settings, a small JSON object), `faceauth` (face sign-in factor,
  recovery codes, sign-in audit), `throttle` (sign-in/sign-up counters), `sessions` (classroom sessions);
  `Store` combines them so pages call ``store.add_history(...)`` as before.

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
* Errors (typed, with codes: `emotion.errors`): `StoreUnavailable` when the database cannot be
  reached; `NameTaken` for a duplicate user or person name; `PersonNotFound` when a write names a
  person the user does not own; `InvalidName` (a ValueError) for a name that cannot be stored;
  plain `ValueError` for other malformed input (programming errors).
* Time: all timestamps are stored as UTC with millisecond precision and come back as aware UTC
  datetimes; naive datetimes passed in are taken to be UTC.

This module never imports streamlit.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import URL

from emotion.store.accounts import AccountsRepository
from emotion.store.engine import Database, database_url, make_engine
from emotion.store.errors import InvalidName, NameTaken, PersonNotFound, StoreError, StoreUnavailable
from emotion.store.faceauth import FaceAuthRepository
from emotion.store.history import HistoryRepository, history_row
from emotion.store.limits import MIGRATIONS_DIR, SOURCES
from emotion.store.people import PeopleRepository
from emotion.store.results import (
    HISTORY_COLUMNS,
    EmbeddingInfo,
    HistoryEntry,
    PersonInfo,
    Snapshot,
    SnapshotInfo,
    UserInfo,
)
from emotion.store.schema import Base, Embedding, HistoryRow, Person, SessionRow, SnapshotRow, User
from emotion.store.sessions import SessionEnded, SessionInfo, SessionNotFound, SessionsRepository
from emotion.store.settings import SettingsRepository
from emotion.store.snapshots import SnapshotsRepository
from emotion.store.throttle import ThrottleRepository

__all__ = [
    "Store", "open_store", "new_row_key", "database_url", "make_engine",
    "StoreError", "StoreUnavailable", "NameTaken", "PersonNotFound", "InvalidName",
    "UserInfo", "PersonInfo", "EmbeddingInfo", "HistoryEntry", "SnapshotInfo", "Snapshot",
    "history_row", "SOURCES", "HISTORY_COLUMNS", "MIGRATIONS_DIR",
    "Base", "User", "Person", "Embedding", "HistoryRow", "SnapshotRow", "SessionRow",
    "SessionInfo", "SessionNotFound", "SessionEnded",
]


class Store(AccountsRepository, PeopleRepository, HistoryRepository, SnapshotsRepository, SettingsRepository,
            FaceAuthRepository, ThrottleRepository, SessionsRepository, Database):
    """Engine + sessions (`Database`) and every repository's queries. Thread-safe; one per
    process is enough (cache it). Nothing is created on construction: call `migrate()` once at
    start (or use `open_store`)."""


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
