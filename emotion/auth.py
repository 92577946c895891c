"""Accounts: password hashing, sign-up rules, sign-in with a lockout kept in the database.

* Passwords are hashed with argon2id (argon2-cffi's `PasswordHasher`, its RFC 9106 "low memory"
  defaults). A hash made with older parameters is replaced on the next successful sign-in.
* The clear password is never logged, stored or put in an exception.
* User names: 3-32 characters; letters (any script: "José", "Zoë"), digits, ``_``, ``.``, ``-``.
  For the minimum a wide CJK character counts as two, so two-character Chinese names ("张伟")
  are accepted. Stored exactly as typed; unique ignoring letter case (the store's ``name_key``).
* Passwords: at least 8 characters (at most 1024, so hashing cannot be abused); the confirmation
  must match.
* Sign-in: an unknown name and a wrong password give the same message, and an unknown name still
  costs one hash verification so timing does not tell them apart. After `MAX_FAILURES`
  consecutive failures the account is locked for `LOCKOUT`; the count and the lock live in the
  database (``users.failed_logins`` / ``users.locked_until``), so they hold across browser
  sessions, app restarts and processes.

This module never imports streamlit.
"""
from __future__ import annotations

import logging
import threading
import unicodedata
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from emotion.errors import AccountLocked, AuthError

if TYPE_CHECKING:  # pragma: no cover
    from emotion.store import Store, UserInfo

__all__ = [
    "AuthError", "AccountLocked", "hash_password", "verify_password", "needs_rehash",
    "validate_username", "validate_password", "username_error", "password_error", "register", "login",
    "session_expired",
    "MAX_FAILURES", "LOCKOUT", "USERNAME_MIN", "USERNAME_MAX", "PASSWORD_MIN", "PASSWORD_MAX",
    "WRONG_CREDENTIALS",
]

log = logging.getLogger(__name__)

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
USERNAME_MIN, USERNAME_MAX = 3, 32
PASSWORD_MIN, PASSWORD_MAX = 8, 1024
WRONG_CREDENTIALS = "Wrong user name or password."
_NAME_PUNCTUATION = frozenset("_.-")

_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile
_dummy_lock = threading.Lock()
_dummy_hash: str | None = None


# --------------------------------------------------------------------------------------------
# hashing


def hash_password(password: str, *, hasher: PasswordHasher | None = None) -> str:
    """An argon2id hash string (``$argon2id$v=19$m=...``) of `password`."""
    if not isinstance(password, str):
        raise TypeError("password must be text")
    return (hasher or _hasher).hash(password)


def verify_password(password_hash: str, password: str, *, hasher: PasswordHasher | None = None) -> bool:
    """True when `password` matches; False for a mismatch or a malformed/foreign hash."""
    if not isinstance(password_hash, str) or not isinstance(password, str) or not password_hash:
        return False
    try:
        return (hasher or _hasher).verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str, *, hasher: PasswordHasher | None = None) -> bool:
    """True when the hash was made with other parameters than the current hasher's."""
    try:
        return (hasher or _hasher).check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):
        return True


def _dummy_verify(password: str) -> None:
    """Spend the time of one real verification (for unknown user names)."""
    global _dummy_hash
    with _dummy_lock:
        if _dummy_hash is None:
            _dummy_hash = _hasher.hash("not the password of anyone")
        dummy = _dummy_hash
    verify_password(dummy, password)


# --------------------------------------------------------------------------------------------
# rules


def _min_length_units(name: str) -> int:
    """Length for the minimum: a wide (CJK) character counts as two, so that two-character
    Chinese names such as "张伟" are allowed while "ab" is not."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in name)


def username_error(name: object) -> AuthError | None:
    """None when `name` is acceptable as typed, else the typed reason (code ``auth.username_*``)."""
    if not isinstance(name, str) or not name:
        return AuthError("auth.username_missing")
    if _min_length_units(name) < USERNAME_MIN or len(name) > USERNAME_MAX:
        return AuthError("auth.username_length", min=USERNAME_MIN, max=USERNAME_MAX)
    for ch in name:
        cat = unicodedata.category(ch)
        # letters of any script, their combining marks (e.g. Devanagari vowel signs), digits
        if cat[0] == "L" or cat in ("Mn", "Mc") or cat == "Nd" or ch in _NAME_PUNCTUATION:
            continue
        if ch.isspace():
            return AuthError("auth.username_spaces")
        return AuthError("auth.username_chars")
    if unicodedata.category(name[0]) in ("Mn", "Mc"):
        return AuthError("auth.username_chars")
    return None


def password_error(password: object, confirm: object) -> AuthError | None:
    """None when `password` is acceptable and `confirm` matches it, else the typed reason."""
    if not isinstance(password, str) or not password:
        return AuthError("auth.password_missing")
    if len(password) < PASSWORD_MIN:
        return AuthError("auth.password_short", min=PASSWORD_MIN)
    if len(password) > PASSWORD_MAX:
        return AuthError("auth.password_long", max=PASSWORD_MAX)
    if not isinstance(confirm, str) or confirm != password:
        return AuthError("auth.password_mismatch")
    return None


def validate_username(name: object) -> str | None:
    """None when `name` is acceptable as typed, else the reason in English."""
    err = username_error(name)
    return None if err is None else str(err)


def validate_password(password: object, confirm: object) -> str | None:
    """None when `password` is acceptable and `confirm` matches it, else the reason in English."""
    err = password_error(password, confirm)
    return None if err is None else str(err)


# --------------------------------------------------------------------------------------------
# sign-up / sign-in


def register(store: Store, name: str, password: str, confirm: str) -> UserInfo:
    """Create an account. `AuthError` with the reason when a rule is broken or the name is
    taken (in any letter case); `StoreUnavailable` passes through."""
    from emotion.store import NameTaken

    error = username_error(name) or password_error(password, confirm)
    if error is not None:
        raise error
    try:
        user = store.create_user(name, hash_password(password))
    except NameTaken as err:
        raise AuthError("auth.name_taken") from err
    log.info("registered user id=%s", user.id)
    return user


def login(store: Store, name: str, password: str, *, now: datetime | None = None) -> UserInfo:
    """The user, when `name` and `password` match and the account is not locked.

    Raises `AuthError` (code ``auth.wrong_credentials``, text `WRONG_CREDENTIALS`) for an unknown name or a wrong password (same text,
    about the same time), `AccountLocked` while locked -- including on the failure that locks
    it. `StoreUnavailable` passes through (nothing is counted then)."""
    now = now or datetime.now(timezone.utc)
    if not isinstance(name, str) or not isinstance(password, str) or not name.strip() or not password:
        raise AuthError("auth.wrong_credentials")
    user = store.get_user_by_name(name)
    if user is None:
        _dummy_verify(password)
        raise AuthError("auth.wrong_credentials")
    if user.locked_at(now):
        _dummy_verify(password)  # a locked account answers no faster either
        raise AccountLocked(user.locked_until, now)
    if not verify_password(user.password_hash, password):
        info = store.record_failed_login(user.id, now=now, max_failures=MAX_FAILURES, lock_for=LOCKOUT)
        if info is not None and info.locked_at(now):
            log.warning("user id=%s locked after %d failed sign-ins", user.id, MAX_FAILURES)
            raise AccountLocked(info.locked_until, now)
        raise AuthError("auth.wrong_credentials")
    new_hash = hash_password(password) if needs_rehash(user.password_hash) else None
    info = store.record_successful_login(user.id, now=now, new_password_hash=new_hash)
    if info is None:  # deleted meanwhile
        raise AuthError("auth.wrong_credentials")
    if info.locked_at(now):  # locked by a concurrent failure
        raise AccountLocked(info.locked_until, now)
    return info


def session_expired(last_seen: datetime, now: datetime, timeout: timedelta) -> bool:
    """True when more than `timeout` passed since `last_seen` (naive datetimes are UTC)."""
    if last_seen.tzinfo is None:
        last_seen = last_seen.replace(tzinfo=timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return now - last_seen > timeout
