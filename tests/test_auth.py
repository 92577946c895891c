"""emotion.auth: argon2id hashing, the sign-up rules and sign-in with a lockout kept in the database
(real Store on SQLite and, when reachable, MariaDB; nothing mocked)."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text

from emotion import auth
from emotion.auth import AccountLocked, AuthError
from emotion.store import Store, open_store

PW = "correct horse battery"
NOW = datetime(2026, 5, 1, 8, 0, tzinfo=timezone.utc)


# ---------------------------------------------------------------------------------------- hashing


def test_hash_is_argon2id_and_verifies():
    h = auth.hash_password(PW)
    assert h.startswith("$argon2id$")
    assert PW not in h
    assert auth.verify_password(h, PW) is True
    assert auth.verify_password(h, PW + "x") is False
    assert auth.verify_password("not a hash", PW) is False
    assert auth.verify_password("", PW) is False
    assert auth.hash_password(PW) != h  # salted
    assert auth.needs_rehash(h) is False
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PW)
    assert auth.needs_rehash(weak) is True


# ------------------------------------------------------------------------------------------ rules


@pytest.mark.parametrize("name", ["alice", "Bob_2", "j.doe-x", "张伟", "王小明", "José", "Zoë99", "नमस्ते", "a" * 32])
def test_valid_user_names(name):
    assert auth.validate_username(name) is None


@pytest.mark.parametrize("name", ["", "ab", "a", "x" * 33, "has space", " alice", "alice ", "semi;colon",
                                  "<script>", "Robert'); DROP TABLE users;--", "tab\there", "quote'", None])
def test_invalid_user_names(name):
    error = auth.validate_username(name)
    assert isinstance(error, str) and error


def test_password_rules():
    assert auth.validate_password("12345678", "12345678") is None
    assert "8" in auth.validate_password("1234567", "1234567")
    assert "match" in auth.validate_password("12345678", "12345679")
    assert auth.validate_password("", "") is not None
    assert auth.validate_password("x" * 5000, "x" * 5000) is not None


def test_session_expired():
    assert auth.session_expired(NOW, NOW + timedelta(minutes=29), timedelta(minutes=30)) is False
    assert auth.session_expired(NOW, NOW + timedelta(minutes=31), timedelta(minutes=30)) is True
    assert auth.session_expired(NOW.replace(tzinfo=None), NOW + timedelta(minutes=31), timedelta(minutes=30))


# -------------------------------------------------------------------------------- register, login


def test_register_and_login(store):
    user = auth.register(store, "张伟", PW, PW)
    assert user.name == "张伟"
    assert store.get_user(user.id).password_hash.startswith("$argon2id$")
    assert auth.login(store, "张伟", PW, now=NOW).id == user.id
    with pytest.raises(AuthError, match="taken"):
        auth.register(store, "张伟", PW, PW)
    auth.register(store, "Alice", PW, PW)
    with pytest.raises(AuthError, match="taken"):
        auth.register(store, "ALICE", PW, PW)  # unique ignoring case
    assert auth.login(store, "alice", PW, now=NOW).name == "Alice"  # sign in in any case
    with pytest.raises(AuthError, match="match"):
        auth.register(store, "carol", PW, PW + "!")
    with pytest.raises(AuthError):
        auth.register(store, "no spaces please", PW, PW)
    assert store.get_user_by_name("carol") is None


def test_clear_password_never_stored_or_logged(store, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "Sup3r-Secret-Pa55word"
    auth.register(store, "dora", secret, secret)
    auth.login(store, "dora", secret, now=NOW)
    with pytest.raises(AuthError):
        auth.login(store, "dora", secret + "?", now=NOW)
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM users")).all()
    assert rows and all(secret not in str(value) for row in rows for value in row)
    assert secret not in caplog.text


def test_same_message_for_unknown_user_and_wrong_password(store):
    auth.register(store, "erin", PW, PW)
    with pytest.raises(AuthError) as unknown:
        auth.login(store, "nobody-here", PW, now=NOW)
    with pytest.raises(AuthError) as wrong:
        auth.login(store, "erin", "wrong password", now=NOW)
    assert type(unknown.value) is type(wrong.value) is AuthError
    assert str(unknown.value) == str(wrong.value) == "Wrong user name or password."


def test_hard_lock_holds_across_stores(db_url):
    """The name-wide lock (many failures from many clients, issue 17) lives in the database."""
    from emotion.throttle import DEFAULT_POLICY

    first = open_store(db_url)
    try:
        user = auth.register(first, "frank", PW, PW)
        for i in range(DEFAULT_POLICY.hard_failures - 1):
            with pytest.raises(AuthError) as err:
                auth.login(first, "frank", "wrong password", client=f"10.1.{i // 3}.9", now=NOW)
            assert not isinstance(err.value, AccountLocked)
        with pytest.raises(AccountLocked) as locked:  # the 50th failure from the 17th client locks
            auth.login(first, "frank", "wrong password", client="10.1.99.9", now=NOW)
        assert "try again" in str(locked.value).lower()
    finally:
        first.close()

    # a new Store (new engine, new connections: like another process) sees the lock
    second = open_store(db_url)
    try:
        with pytest.raises(AccountLocked):  # even the right password, from the owner's own address
            auth.login(second, "frank", PW, client="10.9.9.9", now=NOW + timedelta(minutes=59))
        assert auth.login(second, "frank", PW, client="10.9.9.9", now=NOW + timedelta(minutes=61)).id == user.id
    finally:
        second.close()


def test_one_client_never_locks_the_account(store):
    """Typos (or a single guesser) cost that client seconds of waiting, never a lockout."""
    from emotion.auth import TooManyAttempts

    auth.register(store, "gina", PW, PW)
    when = NOW
    outcomes = []
    for _ in range(12):
        try:
            auth.login(store, "gina", "nope nope", client="10.2.0.1", now=when)
        except TooManyAttempts as err:
            outcomes.append("wait")
            when += err.retry_after
        except AccountLocked:
            outcomes.append("locked")
        except AuthError:
            outcomes.append("wrong")
    assert "locked" not in outcomes and outcomes[:4] == ["wrong"] * 4 and outcomes[4] == "wait"
    assert auth.login(store, "gina", PW, client="10.2.0.2", now=when).name == "gina"


def test_old_hash_parameters_are_upgraded_on_login(store):
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PW)
    user = store.create_user("henry", weak)
    auth.login(store, "henry", PW, now=NOW)
    new_hash = store.get_user(user.id).password_hash
    assert new_hash != weak and new_hash.startswith("$argon2id$")
    assert auth.needs_rehash(new_hash) is False
    assert auth.verify_password(new_hash, PW)


def test_store_unavailable_passes_through_login():
    from emotion.store import StoreUnavailable

    store = Store("mysql+pymysql://root@127.0.0.1:1/x")
    try:
        with pytest.raises(StoreUnavailable):
            auth.login(store, "anyone", PW)
        with pytest.raises(StoreUnavailable):
            auth.register(store, "anyone", PW, PW)
    finally:
        store.close()
