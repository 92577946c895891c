"""The face factor's tables (migration 0004) and repository, on SQLite and MariaDB (`store` /
`db_url` fixtures: MariaDB tests skip without a server and fail under CI=true), plus the sign-in
actions of `emotion.faceauth.signin` that write to them."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from sqlalchemy import inspect

from emotion.faceauth import recovery, signin

FACE_TABLES = {"face_factor", "face_embeddings", "recovery_codes", "signin_audit"}
T0 = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


def _user(store, name="alice"):
    from emotion.auth import hash_password

    return store.create_user(name, hash_password("correct horse battery"))


def _emb(n=6, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 128)).astype(np.float32)


def _previous_revision() -> str:
    from alembic.script import ScriptDirectory

    from emotion.store import Store

    store = Store("sqlite://")
    try:
        script = ScriptDirectory.from_config(store._alembic_config())
    finally:
        store.close()
    down = script.get_revision("0004_face_factor").down_revision
    assert isinstance(down, str)
    return down


def test_migration_0004_goes_up_and_down(db_url):
    from emotion.store import Store

    store = Store(db_url)
    try:
        store.migrate()
        assert FACE_TABLES <= set(inspect(store.engine).get_table_names())
        user = _user(store)
        store.enable_face_factor(user.id, _emb(), "Dlib", [recovery.hash_code(c) for c in recovery.new_codes()])
        store.downgrade(_previous_revision())
        inspect(store.engine).clear_cache()
        assert FACE_TABLES.isdisjoint(inspect(store.engine).get_table_names())
        assert store.get_user(user.id).name == "alice"  # the rest of the schema is untouched
        store.migrate()
        assert FACE_TABLES <= set(inspect(store.engine).get_table_names())
        assert store.face_factor(user.id) is None  # down dropped the data with the tables
    finally:
        store.close()


def test_enrolment_stores_embeddings_and_hashed_codes_only(store):
    uid = _user(store).id
    emb = _emb()
    codes = signin.enrol(store, uid, emb, now=T0)
    assert len(codes) == 10
    info = store.face_factor(uid)
    assert (info.enabled, info.embeddings, info.codes_left, info.model_name) == (True, 6, 10, "Dlib")
    np.testing.assert_array_equal(store.face_embeddings(uid), emb)
    hashes = [h for _, h in store.unused_recovery_codes(uid)]
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert not {c for c in codes} & set(hashes)
    assert signin.needs_face_step(store, uid)


def test_factors_of_two_users_are_apart(store):
    a, b = _user(store, "alice").id, _user(store, "bob").id
    code_a = signin.enrol(store, a, _emb(seed=1))[0]
    signin.enrol(store, b, _emb(seed=2))
    assert signin.redeem_recovery_code(store, b, code_a) is None  # alice's code is not bob's
    assert store.face_factor(a).codes_left == 10
    np.testing.assert_array_equal(store.face_embeddings(a), _emb(seed=1))
    store.delete_face_data(b)
    assert store.face_factor(a).enabled and store.face_factor(b) is None


def test_a_recovery_code_works_once_and_says_how_many_remain(store):
    uid = _user(store).id
    codes = signin.enrol(store, uid, _emb())
    assert signin.redeem_recovery_code(store, uid, codes[4], now=T0) == 9
    assert signin.redeem_recovery_code(store, uid, codes[4], now=T0) is None
    assert signin.redeem_recovery_code(store, uid, codes[5].lower(), now=T0) == 8
    events = store.recent_signins(uid)
    assert [(e.result, e.failed_factor, e.method) for e in events] == [
        ("success", None, "password+recovery_code"), ("failure", "recovery_code", "password+recovery_code"),
        ("success", None, "password+recovery_code")]


def test_regenerating_codes_invalidates_the_old_ones(store):
    uid = _user(store).id
    old = signin.enrol(store, uid, _emb())
    new = signin.regenerate_codes(store, uid)
    assert set(old).isdisjoint(new)
    assert signin.redeem_recovery_code(store, uid, old[0]) is None
    assert signin.redeem_recovery_code(store, uid, new[0]) == 9


def test_switching_off_and_deleting_the_face_data(store):
    uid = _user(store).id
    signin.enrol(store, uid, _emb())
    assert store.set_face_factor_enabled(uid, False)
    assert not signin.needs_face_step(store, uid)
    assert store.face_factor(uid).embeddings == 6
    assert store.delete_face_data(uid)
    assert store.face_factor(uid) is None
    assert store.face_embeddings(uid).shape == (0, 128)
    assert store.unused_recovery_codes(uid) == []
    assert not signin.needs_face_step(store, uid)


def test_failed_face_steps_lock_the_step_and_count_toward_the_account_lockout(store):
    uid = _user(store).id
    signin.enrol(store, uid, _emb())
    for i in range(4):
        out = signin.face_step_failed(store, uid, user_agent="Agent/1", now=T0 + timedelta(seconds=i))
        assert out.locked_until is None
        assert store.get_user(uid).failed_logins == i + 1  # the account's own counter moved too
    out = signin.face_step_failed(store, uid, now=T0 + timedelta(seconds=5))
    assert out.locked_until == T0 + timedelta(seconds=5) + timedelta(minutes=15)
    assert signin.face_step_locked_until(store, uid, now=T0 + timedelta(minutes=10)) == out.locked_until
    assert signin.face_step_locked_until(store, uid, now=T0 + timedelta(minutes=21)) is None
    # a correct password (record_successful_login) does not reset the face step's own count
    signin.face_step_failed(store, uid, now=T0 + timedelta(minutes=30))
    store.record_successful_login(uid, now=T0 + timedelta(minutes=31))
    assert store.face_factor(uid).failures == 1
    signin.face_step_passed(store, uid, now=T0 + timedelta(minutes=32))
    assert store.face_factor(uid).failures == 0


def test_the_audit_keeps_time_result_factor_and_user_agent(store):
    uid = _user(store).id
    signin.password_failed(store, uid, user_agent="Mozilla/5.0 \x00\x1b[31m" + "x" * 600, now=T0)
    signin.password_only_success(store, uid, now=T0 + timedelta(seconds=1))
    signin.password_failed(store, None, now=T0)  # unknown names are not audited
    rows = store.recent_signins(uid)
    assert [(r.time, r.result, r.failed_factor, r.method) for r in rows] == [
        (T0 + timedelta(seconds=1), "success", None, "password"), (T0, "failure", "password", "password")]
    agent = rows[1].user_agent
    assert agent.startswith("Mozilla/5.0 [31m") and len(agent) == 255  # control characters dropped, truncated
    assert rows[0].user_agent is None


def test_the_audit_is_bounded_per_user(store, monkeypatch):
    from emotion.store import faceauth as repo

    monkeypatch.setattr(repo, "AUDIT_KEEP", 5)
    uid = _user(store).id
    for i in range(8):
        signin.password_only_success(store, uid, now=T0 + timedelta(seconds=i))
    times = [r.time for r in store.recent_signins(uid, limit=50)]
    assert times == [T0 + timedelta(seconds=i) for i in (7, 6, 5, 4, 3)]


@pytest.mark.parametrize("bad", [np.zeros((0, 128)), np.zeros((13, 128)), np.full((2, 128), np.nan), np.zeros(128)])
def test_malformed_enrolments_are_refused(store, bad):
    uid = _user(store).id
    with pytest.raises(ValueError):
        store.enable_face_factor(uid, bad, "Dlib", [recovery.hash_code(recovery.new_codes(1)[0])])
    assert store.face_factor(uid) is None


def test_deleting_the_account_removes_its_face_data(store):
    uid = _user(store).id
    signin.enrol(store, uid, _emb())
    signin.password_only_success(store, uid)
    assert store.delete_user(uid)
    assert store.face_embeddings(uid).shape == (0, 128)
    assert store.unused_recovery_codes(uid) == [] and store.recent_signins(uid) == []


def test_check_password(store):
    uid = _user(store).id
    assert signin.check_password(store, uid, "correct horse battery")
    assert not signin.check_password(store, uid, "wrong")
    assert not signin.check_password(store, uid, None)
    assert not signin.check_password(store, uid + 99, "correct horse battery")
