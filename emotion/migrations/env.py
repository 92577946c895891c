"""Alembic environment of the emotion store.

The app runs the migrations itself (`emotion.store.Store.migrate`, which passes its connection in
``config.attributes["connection"]`` under a lock). For a new revision, from the repository root:

    python - <<'PY'
    from alembic import command
    from emotion.store import Store
    store = Store()                      # $DATABASE_URL or the SQLite file; migrate it first
    store.migrate()
    command.revision(store._alembic_config(), message="what changed", autogenerate=True,
                     rev_id="0002_what_changed")
    PY

then read and fix the generated file in versions/ (autogenerate misses CHECK constraints and
server defaults; it renders types with variants for MySQL correctly but check them).
"""
from __future__ import annotations

from alembic import context

from emotion.store import Base, make_engine

config = context.config
target_metadata = Base.metadata


def _configure(connection) -> None:  # noqa: ANN001
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        compare_type=True,
    )


def run_migrations_offline() -> None:
    url = config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=url.startswith("sqlite") if url else False,
                      dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or None)
    try:
        with engine.connect() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
