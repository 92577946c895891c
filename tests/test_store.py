"""emotion.store on a real database: SQLite always, MariaDB when reachable (see `db_url` in conftest).

Nothing is mocked: every test opens a fresh database, migrates it with the project's Alembic
revisions and talks to it through the Store's public methods (plus a few raw SQL checks)."""
from __future__ import annotations

import threading
import uuid
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pytest
from sqlalchemy import event, inspect, text

from emotion.records import EMOTIONS, UNKNOWN, Box, FaceRecord, Identity
from emotion.store import (
    HISTORY_COLUMNS,
    NameTaken,
    PersonNotFound,
    Store,
    StoreUnavailable,
    open_store,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00fake-png-body" * 10
T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
NASTY_NAMES = ["Robert'); DROP TABLE users;--", "<script>alert(1)</script>", "张伟"]


def _vec(seed: int, dim: int = 128) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(dim).astype(np.float32)


def _row(i: int = 0, *, name: str = UNKNOWN, person_id: int | None = None, key: str | None = None,
         emotion: str = "happy", time: datetime | None = None) -> dict:
    scores = [0.01] * 7
    scores[EMOTIONS.index(emotion)] = 0.94
    row = {"box": (10 + i, 20, 30, 40), "scores": scores, "name": name, "person_id": person_id,
           "track_id": i, "confidence": 0.9}
    if key is not None:
        row["row_key"] = key
    if time is not None:
        row["time"] = time
    return row


def _user(store: Store, name: str = "alice"):
    return store.create_user(name, "$argon2id$v=19$m=65536,t=3,p=4$not-a-real-hash")


def _table_count(store: Store, table: str) -> int:
    with store.engine.connect() as conn:
        return conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()


# ------------------------------------------------------------------------------------------- schema


def test_migrations_apply_on_empty_db_and_are_idempotent(db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from emotion.store import Base

    store = Store(db_url)
    try:
        assert store.current_revision() is None
        store.migrate()
        head = Store.head_revision()
        assert head is not None
        assert store.current_revision() == head
        store.migrate()  # a second run is a no-op
        assert store.current_revision() == head
        tables = set(inspect(store.engine).get_table_names())
        assert {"users", "people", "embeddings", "history", "snapshots", "alembic_version"} <= tables
        # the migrated schema is exactly what the models describe
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert diff == []
        # and the store works on it
        assert store.get_user_by_name("nobody") is None
    finally:
        store.close()
    # a new Store on the same database finds it current
    again = open_store(db_url)
    try:
        assert again.current_revision() == head
    finally:
        again.close()


def test_migrations_found_from_the_package_not_the_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no alembic.ini / migrations folder here
    store = open_store(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        assert store.current_revision() == Store.head_revision()
    finally:
        store.close()


def test_default_url_is_sqlite_in_data_dir(tmp_path, monkeypatch):
    from emotion import config
    from emotion.store import database_url

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setattr(config, "DATA_DIR", tmp_path / "data")
    u = database_url()
    assert u.get_backend_name() == "sqlite"
    assert u.database == str(tmp_path / "data" / "emotion.db")
    monkeypatch.setenv("DATABASE_URL", "mysql://me:pw@db.example/emo")
    u = database_url()
    assert u.drivername == "mysql+pymysql" and u.query["charset"] == "utf8mb4"
    assert database_url("sqlite:///other.db").database == "other.db"  # explicit URL wins


# -------------------------------------------------------------------------------------------- users


def test_user_names_unique_ignoring_case(store):
    alice = _user(store, "Alice")
    with pytest.raises(NameTaken):
        _user(store, "aLICE")
    assert store.get_user_by_name("ALICE").id == alice.id
    assert store.get_user(alice.id).name == "Alice"  # stored as typed
    assert store.get_user(alice.id + 1000) is None


@pytest.mark.parametrize("name", NASTY_NAMES)
def test_sql_and_html_characters_stored_verbatim(store, name):
    user = _user(store, name)
    assert store.get_user_by_name(name).name == name
    assert store.get_user(user.id).name == name
    person = store.add_person(user.id, name)
    assert [p.name for p in store.list_people(user.id)] == [name]
    store.add_embeddings(user.id, person.id, [("Dlib", _vec(1), None)])
    assert [n for _, n, _ in store.gallery(user.id, "Dlib")] == [name]
    store.add_history(user.id, [_row(name=name, person_id=person.id)])
    assert store.history(user.id)[0].name == name
    assert store.history_frame(user.id)["person"].tolist() == [name]
    sid = store.save_snapshot(user.id, PNG, description=name)
    assert store.get_snapshot(user.id, sid).description == name
    assert store.history(user.id, names=[name])[0].person_id == person.id
    # nothing was executed: every table is still there, with its rows
    assert {"users", "people"} <= set(inspect(store.engine).get_table_names())
    assert _table_count(store, "users") == 1


# ------------------------------------------------------------------------------ people, embeddings


def test_people_and_embeddings_round_trip(store):
    uid = _user(store).id
    bob = store.add_person(uid, "Bob")
    with pytest.raises(NameTaken):
        store.add_person(uid, " bob ")
    with pytest.raises(ValueError):
        store.add_person(uid, "   ")
    v1, v2 = _vec(1), _vec(2)
    thumb = b"\x89PNG\r\n\x1a\n" + b"thumb"
    ids = store.add_embeddings(uid, bob.id, [("Dlib", v1, thumb), ("Dlib", v2, None), ("Facenet", _vec(3, 512), None)])
    assert len(ids) == 3
    entries = store.gallery(uid, "Dlib")
    assert [(pid, name) for pid, name, _ in entries] == [(bob.id, "Bob"), (bob.id, "Bob")]
    np.testing.assert_array_equal(entries[0][2], v1)
    assert entries[0][2].dtype == np.float32
    assert [p.embedding_count for p in store.list_people(uid)] == [3]
    assert [p.embedding_count for p in store.list_people(uid, model_name="Facenet")] == [1]
    infos = store.list_embeddings(uid, bob.id, model_name="Dlib")
    assert [i.thumbnail for i in infos] == [thumb, None]
    assert store.rename_person(uid, bob.id, "Robert") is True
    assert store.get_person(uid, bob.id).name == "Robert"
    with pytest.raises(ValueError):
        store.add_embeddings(uid, bob.id, [("Dlib", [np.nan] * 4, None)])
    with pytest.raises(PersonNotFound):
        store.add_embeddings(uid, bob.id + 99, [("Dlib", v1, None)])


def test_delete_person_cascades_embeddings_and_keeps_history_names(store):
    uid = _user(store).id
    ann = store.add_person(uid, "Ann")
    keep = store.add_person(uid, "Keep")
    store.add_embeddings(uid, ann.id, [("Dlib", _vec(1), None), ("Dlib", _vec(2), None)])
    store.add_embeddings(uid, keep.id, [("Dlib", _vec(3), None)])
    store.add_history(uid, [_row(name="Ann", person_id=ann.id)])
    assert _table_count(store, "embeddings") == 3
    assert store.delete_person(uid, ann.id) is True
    assert _table_count(store, "embeddings") == 1  # Ann's two are gone, in the database itself
    assert [p.name for p in store.list_people(uid)] == ["Keep"]
    (h,) = store.history(uid)
    assert (h.name, h.person_id) == ("Ann", None)  # name as seen kept, person_id NULL
    assert store.delete_person(uid, ann.id) is False


def test_delete_user_removes_everything_it_owns(store):
    uid = _user(store).id
    p = store.add_person(uid, "P")
    store.add_embeddings(uid, p.id, [("Dlib", _vec(1), None)])
    store.add_history(uid, [_row()])
    store.save_snapshot(uid, PNG)
    assert store.delete_user(uid) is True
    for table in ("users", "people", "embeddings", "history", "snapshots"):
        assert _table_count(store, table) == 0, table


# -------------------------------------------------------------------------------------- isolation


def test_one_user_cannot_see_or_change_another_users_data(store):
    a = _user(store, "alice").id
    b = _user(store, "bob").id
    pa = store.add_person(a, "Carol")
    (emb_a,) = store.add_embeddings(a, pa.id, [("Dlib", _vec(1), None)])
    store.add_history(a, [_row(name="Carol", person_id=pa.id, key="k1"), _row(1)])
    snap_a = store.save_snapshot(a, PNG, "alice's")

    # reads: nothing of A's
    assert store.list_people(b) == []
    assert store.get_person(b, pa.id) is None
    assert store.list_embeddings(b, pa.id) == []
    assert store.gallery(b, "Dlib") == []
    assert store.history(b) == []
    assert store.history(b, person=pa.id) == []
    assert store.history_count(b) == 0
    assert store.history_frame(b).empty
    assert store.list_snapshots(b) == []
    assert store.get_snapshot(b, snap_a) is None
    # writes: refused, nothing changes
    assert store.rename_person(b, pa.id, "Mallory") is False
    assert store.delete_person(b, pa.id) is False
    assert store.delete_embedding(b, emb_a) is False
    with pytest.raises(PersonNotFound):
        store.add_embeddings(b, pa.id, [("Dlib", _vec(2), None)])
    assert store.delete_history(b) == 0
    assert store.delete_history(b, ids=[h.id for h in store.history(a)]) == 0
    assert store.delete_snapshot(b, snap_a) is False
    # B's history cannot point at A's person or snapshot; the same row_key is B's own
    assert store.add_history(b, [_row(person_id=pa.id, key="k1")], snapshot_id=snap_a) == 1
    (hb,) = store.history(b)
    assert hb.person_id is None and hb.snapshot_id is None

    # A's data is intact
    assert [p.name for p in store.list_people(a)] == ["Carol"]
    assert len(store.list_embeddings(a, pa.id)) == 1
    assert store.history_count(a) == 2
    assert store.get_snapshot(a, snap_a).png == PNG
    # and A can of course change it
    assert store.delete_embedding(a, emb_a) is True
    assert store.delete_snapshot(a, snap_a) is True


# ---------------------------------------------------------------------------------------- history


def test_add_history_is_idempotent_by_row_key(store):
    uid = _user(store).id
    rows = [_row(i, key=f"key-{i}") for i in range(3)]
    assert store.add_history(uid, rows) == 3
    assert store.add_history(uid, rows) == 0  # a retried batch
    assert store.add_history(uid, rows + [_row(3, key="key-3")]) == 1
    assert store.add_history(uid, [_row(9, key="dup"), _row(10, key="dup")]) == 1  # duplicate inside a batch
    # keys given beside the rows (row_keys=...), FaceRecords as rows
    rec = FaceRecord(box=Box(1, 2, 3, 4), confidence=0.8, landmarks=None, identity=Identity(UNKNOWN),
                     scores=np.array([0.1, 0, 0, 0.6, 0.1, 0.1, 0.1], dtype=np.float32), track_id=7)
    assert store.add_history(uid, [rec, rec], source="camera", row_keys=["r1", "r2"]) == 2
    assert store.add_history(uid, [rec, rec], source="camera", row_keys=["r1", "r2"]) == 0
    assert store.add_history(uid, [rec]) == 1  # no key: always a new row
    assert store.history_count(uid) == 8
    cam = store.history(uid, source="camera")
    assert {h.row_key for h in cam} == {"r1", "r2"}
    assert cam[0].dominant == "happy" and cam[0].track_id == 7 and cam[0].box == Box(1, 2, 3, 4)


def test_add_history_concurrent_writers_write_each_key_once(db_url):
    """10 threads, each with its own Store (own engine and connections), write the same keyed
    batch at once plus rows of their own."""
    setup = open_store(db_url)
    uid = _user(setup).id
    shared = [_row(i, key=f"shared-{i:03d}") for i in range(60)]
    results: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(10)

    def writer(n: int) -> None:
        s = Store(db_url)
        try:
            barrier.wait(timeout=60)
            own = [_row(100 + n, key=f"own-{n}-{j}") for j in range(3)]
            batch = shared[n * 6:] + own + shared[: n * 6]  # different orders
            results.append(s.add_history(uid, batch, source="video"))
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)
        finally:
            s.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    try:
        assert not errors, errors
        assert sum(results) == 60 + 10 * 3  # the counts say exactly what was new
        assert setup.history_count(uid) == 90
        keys = [h.row_key for h in setup.history(uid)]
        assert len(keys) == len(set(keys)) == 90
    finally:
        setup.close()


def test_add_history_skips_a_key_another_transaction_is_inserting(store):
    """The race the pre-check cannot see: another connection has inserted the same row_key but
    not committed yet. add_history must wait for it and then skip the row (the conflict clause),
    not fail on the unique key nor write it twice."""
    from tests.waiting import wait_until

    uid = _user(store).id
    other = store.engine.connect()
    got: list[object] = []
    at_lock = threading.Event()

    def on_execute(conn, cursor, statement, *args):  # noqa: ANN001 - SQLAlchemy's hook
        # the writer's statement that has to wait for our transaction: SQLite's write lock, or
        # MySQL's INSERT on the same unique key
        if statement.startswith("BEGIN IMMEDIATE") or statement.lstrip().upper().startswith("INSERT"):
            at_lock.set()

    try:
        with other.begin():
            other.execute(text(
                "INSERT INTO history (user_id, row_key, source, ts, name, x, y, w, h) "
                "VALUES (:u, 'race-key', 'photo', :t, 'unknown', 1, 2, 3, 4)"), {"u": uid, "t": T0.replace(tzinfo=None)})
            event.listen(store.engine, "before_cursor_execute", on_execute)

            def writer() -> None:
                try:
                    got.append(store.add_history(uid, [_row(key="race-key"), _row(1, key="fresh-key")]))
                except BaseException as err:  # noqa: BLE001 - checked below
                    got.append(err)

            thread = threading.Thread(target=writer)
            thread.start()
            assert at_lock.wait(60), "the writer never reached the database"
            if store.dialect != "sqlite":  # the server says when the INSERT waits on our row lock
                with store.engine.connect() as probe:
                    wait_until(lambda: probe.execute(text(
                        "SELECT COUNT(*) FROM information_schema.innodb_trx WHERE trx_state = 'LOCK WAIT'")).scalar(),
                        60, "the writer's INSERT to wait on our uncommitted row")
            # on SQLite the writer holds the GIL until sqlite3 blocks in BEGIN IMMEDIATE's busy wait,
            # so by the time this thread runs again the writer is waiting on our write lock
        thread.join(timeout=120)
    finally:
        if event.contains(store.engine, "before_cursor_execute", on_execute):
            event.remove(store.engine, "before_cursor_execute", on_execute)
        other.close()
    assert got == [1], got
    assert sorted(h.row_key for h in store.history(uid)) == ["fresh-key", "race-key"]


def test_history_filters_pagination_and_frame(store):
    uid = _user(store).id
    ann = store.add_person(uid, "Ann")
    rows = []
    for i in range(6):
        rows.append(_row(i, name="Ann" if i % 2 else UNKNOWN, person_id=ann.id if i % 2 else None,
                         emotion="sad" if i < 3 else "happy", time=T0 + timedelta(days=i)))
    store.add_history(uid, rows[:4], source="photo")
    store.add_history(uid, rows[4:], source="camera")

    assert store.history_count(uid) == 6
    assert [h.track_id for h in store.history(uid)] == [5, 4, 3, 2, 1, 0]  # newest first
    assert [h.track_id for h in store.history(uid, limit=2, offset=2)] == [3, 2]
    assert [h.track_id for h in store.history(uid, offset=4)] == [1, 0]
    assert [h.track_id for h in store.history(uid, person=ann.id)] == [5, 3, 1]
    assert [h.track_id for h in store.history(uid, person="unknown")] == [4, 2, 0]
    assert [h.track_id for h in store.history(uid, source="camera")] == [5, 4]
    assert [h.track_id for h in store.history(uid, emotions=["sad"])] == [2, 1, 0]
    # datetimes: start inclusive, end exclusive; a date as end includes that whole day
    assert [h.track_id for h in store.history(uid, start=T0 + timedelta(days=1), end=T0 + timedelta(days=3))] == [2, 1]
    assert [h.track_id for h in store.history(uid, start=date(2026, 3, 2), end=date(2026, 3, 3))] == [2, 1]
    assert store.history_count(uid, person="unknown", source="photo") == 2

    df = store.history_frame(uid, T0, None, ann.id, "photo")
    assert list(df.columns) == list(HISTORY_COLUMNS)
    for col in ("time", "source", "person", "dominant", *EMOTIONS, "box", "track"):
        assert col in df.columns
    assert df["track"].tolist() == [1, 3]  # oldest first
    assert df["person"].tolist() == ["Ann", "Ann"]
    assert df["box"].tolist() == ["11,20,30,40", "13,20,30,40"]
    assert df["dominant"].tolist() == ["sad", "happy"]
    assert str(df["time"].dt.tz) == "UTC"
    assert df["time"].iloc[0] == T0 + timedelta(days=1)
    assert df["sad"].iloc[0] == pytest.approx(0.94, abs=1e-6)
    empty = store.history_frame(uid, source="video")
    assert empty.empty and list(empty.columns) == list(HISTORY_COLUMNS)

    assert store.delete_history(uid, source="camera") == 2
    assert store.delete_history(uid) == 4
    assert store.history_count(uid) == 0


def test_snapshots(store):
    uid = _user(store).id
    s1 = store.save_snapshot(uid, PNG, "first", time=T0)
    s2 = store.save_snapshot(uid, PNG + b"2", "second", time=T0 + timedelta(hours=1))
    assert [s.id for s in store.list_snapshots(uid)] == [s2, s1]
    snap = store.get_snapshot(uid, s1)
    assert snap.png == PNG and snap.description == "first" and snap.created == T0
    with pytest.raises(ValueError):
        store.save_snapshot(uid, b"GIF89a...")
    store.add_history(uid, [_row()], snapshot_id=s1)
    assert store.history(uid)[0].snapshot_id == s1
    assert store.delete_snapshot(uid, s1) is True
    assert store.history(uid)[0].snapshot_id is None  # the row stays


# ------------------------------------------------------------------------------------ unreachable


def test_store_unavailable_on_a_closed_port():
    url = "mysql+pymysql://root@127.0.0.1:1/x"
    with pytest.raises(StoreUnavailable) as info:
        open_store(url)
    assert "database is unreachable" in str(info.value)
    assert "Connection refused" in info.value.detail or "connect" in info.value.detail.lower()
    store = Store(url)
    seen: list[dict] = []

    @event.listens_for(store.engine, "do_connect")
    def _record(dialect, conn_rec, cargs, cparams):  # noqa: ANN001
        seen.append(dict(cparams))

    try:
        calls = [
            lambda: store.get_user(1),
            lambda: store.get_user_by_name("x"),
            lambda: store.create_user("someone", "$argon2id$x"),
            lambda: store.record_failed_login(1),
            lambda: store.list_people(1),
            lambda: store.add_person(1, "x"),
            lambda: store.rename_person(1, 1, "y"),
            lambda: store.delete_person(1, 1),
            lambda: store.add_embeddings(1, 1, [("Dlib", [1.0], None)]),
            lambda: store.gallery(1, "Dlib"),
            lambda: store.add_history(1, [_row(key="k")]),
            lambda: store.history(1),
            lambda: store.history_count(1),
            lambda: store.history_frame(1),
            lambda: store.delete_history(1),
            lambda: store.save_snapshot(1, PNG),
            lambda: store.list_snapshots(1),
            lambda: store.get_snapshot(1, 1),
            lambda: store.current_revision(),
            lambda: store.migrate(),
        ]
        for call in calls:
            with pytest.raises(StoreUnavailable, match="unreachable"):
                call()
        assert store.is_available() is False
        # every attempt had a short connect timeout (no minutes-long hang when a server is down)
        assert seen and all(0 < c["connect_timeout"] <= 10 for c in seen)
    finally:
        store.close()


def test_new_row_key_is_unique():
    from emotion.store import new_row_key

    keys = {new_row_key() for _ in range(100)}
    assert len(keys) == 100 and all(len(k) == 36 and uuid.UUID(k) for k in keys)
