"""Shared pytest fixtures.

Sections of this file are owned by different helpers of the team: each appends its own fixtures in
a clearly marked section below and leaves the others' sections alone.
"""
from __future__ import annotations

import os

import pytest

# =============================================================================================
# Section: database (owner: store / auth helper) -- fixtures `db_url`, `store`
# =============================================================================================
#
# `db_url` runs a test once per backend:
#   * "sqlite":  a fresh SQLite file in the test's tmp_path;
#   * "mariadb": a fresh, uniquely named database on the local server (EMOTION_TEST_MYSQL_URL,
#     default mysql+pymysql://root@127.0.0.1:3306/), dropped afterwards. Marked `mysql`
#     (deselect with -m "not mysql"). When the server is unreachable the test is skipped with the
#     reason -- but FAILS when CI=true, where MariaDB is part of the test environment.

_MYSQL_SERVER_DEFAULT = "mysql+pymysql://root@127.0.0.1:3306/"
_mysql_problem: list[str | None] = []  # cached result of the first reachability check


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def _mysql_server_url():
    from sqlalchemy.engine import make_url

    return make_url(os.environ.get("EMOTION_TEST_MYSQL_URL", _MYSQL_SERVER_DEFAULT))


def _mysql_connect(database: str | None = None):
    import pymysql

    u = _mysql_server_url()
    return pymysql.connect(host=u.host or "127.0.0.1", port=u.port or 3306, user=u.username or "root",
                           password=u.password or "", database=database, connect_timeout=3,
                           charset="utf8mb4", autocommit=True)


def _mysql_unreachable() -> str | None:
    """None when the MariaDB/MySQL test server answers, else why not (checked once)."""
    if not _mysql_problem:
        try:
            _mysql_connect().close()
            _mysql_problem.append(None)
        except Exception as err:  # noqa: BLE001 - any failure means "not available"
            u = _mysql_server_url()
            _mysql_problem.append(f"MariaDB/MySQL at {u.host}:{u.port or 3306} unreachable: {err}")
    return _mysql_problem[0]


@pytest.fixture(params=["sqlite", pytest.param("mariadb", marks=pytest.mark.mysql)])
def db_url(request, tmp_path):
    """A URL of an empty database (not migrated), on each backend in turn."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'emotion-test.db'}"
        return
    problem = _mysql_unreachable()
    if problem:
        if _ci():
            pytest.fail(f"{problem} (CI=true: the MariaDB tests must run)")
        pytest.skip(problem)
    import uuid

    name = f"emotion_test_{uuid.uuid4().hex[:12]}"
    conn = _mysql_connect()
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    finally:
        conn.close()
    url = _mysql_server_url().set(drivername="mysql+pymysql", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        conn = _mysql_connect()
        try:
            with conn.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        finally:
            conn.close()


@pytest.fixture
def store(db_url):
    """`emotion.store.open_store(db_url)`: a migrated Store on each backend, closed afterwards."""
    from emotion.store import open_store

    s = open_store(db_url)
    try:
        yield s
    finally:
        s.close()

# ============================================================================== end: database


# =============================================================================================
# Section: engine (owner: engine helper) -- fixtures `astronaut_bgr`, `fer_public_test`
# =============================================================================================


@pytest.fixture(scope="session")
def astronaut_bgr():
    """NASA's astronaut photo shipped by scikit-image (512x512, one smiling face) as BGR uint8."""
    import numpy as np
    from skimage import data

    img = np.ascontiguousarray(data.astronaut()[:, :, ::-1])
    img.setflags(write=False)  # shared by the session: nobody may modify it
    return img


@pytest.fixture(scope="session")
def fer_public_test():
    """FER2013 PublicTest as (images uint8 (N, 48, 48), labels (N,)). Skips when the file is absent,
    FAILS when CI=true (the data set is part of the CI environment)."""
    from emotion.config import FER2013_DIR
    from emotion.train.data import load_npz_xz as load_split

    path = FER2013_DIR / "PublicTest.npz.xz"
    if not path.is_file():
        msg = f"FER2013 PublicTest not found at {path} (set FER2013_DIR)"
        if _ci():
            pytest.fail(f"{msg}; CI=true: it must be present")
        pytest.skip(msg)
    return load_split(path)

# ================================================================================ end: engine
