"""Accounts: password hashing, sign-up rules, sign-in with a lockout kept in the database.

* Passwords are hashed with argon2id (argon2-cffi's `PasswordHasher`, its RFC 9106 "low memory"
  defaults). A hash made with older parameters is replaced on the next successful sign-in.
* The clear password is never logged, stored or put in an exception.
* User names: 3-32 characters; letters (any script: "José", "Zoë"), digits, ``_``, ``.``, ``-``.
  For the minimum a wide CJK character counts as two, so two-character Chinese names ("张伟")
  are accepted. Normalised to NFKC (full-width "ａｌｉｃｅ" is "alice"), then stored; unique
  ignoring letter case (the store's ``name_key``). Names mixing look-alike alphabets (Latin with
  Cyrillic or Greek: "аlice" with a Cyrillic "а") are refused, and a name written wholly in
  look-alike letters of another alphabet ("аlісе") is refused when its Latin look-alike is taken.
* Passwords: at least 8 characters (at most 1024, so hashing cannot be abused); the confirmation
  must match.
* Sign-in: an unknown name and a wrong password give the same message, and an unknown name still
  costs one hash verification so timing does not tell them apart. Throttling follows
  `emotion.throttle`: an exponential back-off per client address, and a hard lock of a *name*
  (existing or not, so "locked" tells nothing) only after many failures from many clients, with a
  `LoginNotice` for the owner at the next sign-in. Sign-ups are rate-limited per client. The
  counters live in the database, so they hold across sessions, restarts and processes.

Every refusal carries a ``code`` (and ``params``) that the UI translates; ``str(err)`` is English.

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

from emotion.errors import AccountLocked, AuthError, TooManyAttempts
from emotion.throttle import DEFAULT_POLICY, LoginNotice, ThrottlePolicy, client_key

if TYPE_CHECKING:  # pragma: no cover
    from emotion.store import Store, UserInfo

__all__ = [
    "AuthError", "AccountLocked", "TooManyAttempts", "hash_password", "normalise_username",
    "login_with_notice", "record_second_factor_failure", "verify_password", "needs_rehash", "latin_lookalike",
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


#: alphabets whose letters look alike (Latin "a", Cyrillic "а", Greek "α"): never mixed in one name
_CONFUSABLE_SCRIPTS = frozenset({"LATIN", "CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "COPTIC"})
#: Cyrillic and Greek letters that look like Latin ones (Unicode confusables, the common subset)
_LATIN_LOOKALIKE = str.maketrans({
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t",
    "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l",
    "ɡ": "g", "ο": "o", "α": "a", "ν": "v", "ρ": "p", "ι": "i", "κ": "k", "χ": "x", "υ": "u",
    "τ": "t", "ε": "e", "β": "b", "η": "n", "μ": "u", "ϲ": "c", "ϳ": "j",
})


def normalise_username(name: str) -> str:
    """NFKC (full-width, ligatures and other compatibility forms become plain letters), stripped."""
    return unicodedata.normalize("NFKC", name).strip()


def _script(ch: str) -> str | None:
    """The alphabet of a letter from its Unicode name ("CYRILLIC SMALL LETTER A" -> CYRILLIC)."""
    if unicodedata.category(ch)[0] != "L":
        return None
    word = unicodedata.name(ch, "UNKNOWN").split(" ", 1)[0]
    return word


def _mixes_confusable_scripts(name: str) -> bool:
    scripts = {_script(ch) for ch in name} & _CONFUSABLE_SCRIPTS
    return len(scripts) > 1


def latin_lookalike(name: str) -> str | None:
    """The Latin name that `name` imitates when it is written only in look-alike Cyrillic/Greek
    letters (and digits, _ . -), else None."""
    letters = [ch for ch in name.casefold() if unicodedata.category(ch)[0] == "L"]
    if not letters or all(_script(ch) == "LATIN" for ch in letters):
        return None
    mapped = name.casefold().translate(_LATIN_LOOKALIKE)
    if all(_script(ch) == "LATIN" for ch in mapped if unicodedata.category(ch)[0] == "L"):
        return mapped
    return None


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
    if _mixes_confusable_scripts(name):
        return AuthError("auth.username_mixed_scripts")
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


def register(store: Store, name: str, password: str, confirm: str, *, client: str | None = None,
             now: datetime | None = None, policy: ThrottlePolicy = DEFAULT_POLICY) -> UserInfo:
    """Create an account under the NFKC form of `name`. `AuthError` with the reason when a rule is
    broken, the name is taken (in any letter case, or imitated in look-alike letters), or this
    client (its address) opened too many accounts lately (`TooManyAttempts`); `StoreUnavailable`
    passes through."""
    from emotion.store import NameTaken

    if isinstance(name, str):
        name = normalise_username(name)
    error = username_error(name) or password_error(password, confirm)
    if error is not None:
        raise error
    now = now or datetime.now(timezone.utc)
    wait = store.throttle_registration(client_key(client), now=now, policy=policy)  # counts every try
    if wait is not None:
        raise TooManyAttempts(wait, "sign-up")
    imitated = latin_lookalike(name)
    if imitated is not None and store.get_user_by_name(imitated) is not None:
        raise AuthError("auth.name_taken")
    try:
        user = store.create_user(name, hash_password(password))
    except NameTaken as err:
        raise AuthError("auth.name_taken") from err
    log.info("registered user id=%s", user.id)
    return user


def _wrong() -> AuthError:
    return AuthError("auth.wrong_credentials", WRONG_CREDENTIALS)


def login_with_notice(store: Store, name: str, password: str, *, client: str | None = None,
                      now: datetime | None = None,
                      policy: ThrottlePolicy = DEFAULT_POLICY) -> tuple[UserInfo, LoginNotice | None]:
    """The user and, when their name saw failed sign-ins since their last one, a `LoginNotice`.

    Raises (the same for an existing and an unknown name, at every step):
    `TooManyAttempts` (code ``auth.too_many_attempts``) while this client (`client`: its address)
    must wait; `AccountLocked` (``auth.locked``) while the name is hard-locked (including on the
    failure that locks it); `AuthError` (``auth.wrong_credentials``, text `WRONG_CREDENTIALS`) for
    an unknown name or a wrong password (about the same time: an unknown name costs one hash
    verification too). `StoreUnavailable` passes through."""
    now = now or datetime.now(timezone.utc)
    if not isinstance(name, str) or not isinstance(password, str) or not name.strip() or not password:
        raise _wrong()
    name = normalise_username(name)
    ckey, nkey = client_key(client), _throttle_name_key(name)
    state = store.throttle_state(ckey, nkey, now=now)
    wait = state.client_wait(now)
    if wait is not None:
        raise TooManyAttempts(wait)
    if state.name_locked(now):
        _dummy_verify(password)  # a locked name answers no faster either
        raise AccountLocked(state.name_locked_until, now)
    user = store.get_user_by_name(name)
    if user is None:
        _dummy_verify(password)
        ok = False
    else:
        ok = verify_password(user.password_hash, password)
    if not ok:
        after = store.throttle_failure(ckey, nkey, now=now, policy=policy)
        if after.name_locked(now):
            log.warning("sign-in name locked after failures from many clients")
            raise AccountLocked(after.name_locked_until, now)
        raise _wrong()
    new_hash = hash_password(password) if needs_rehash(user.password_hash) else None
    info = store.record_successful_login(user.id, now=now, new_password_hash=new_hash)
    if info is None:  # deleted meanwhile
        raise _wrong()
    notice = store.throttle_success(ckey, nkey, now=now)
    return info, notice


def login(store: Store, name: str, password: str, *, client: str | None = None,
          now: datetime | None = None, policy: ThrottlePolicy = DEFAULT_POLICY) -> UserInfo:
    """`login_with_notice` without the notice."""
    return login_with_notice(store, name, password, client=client, now=now, policy=policy)[0]


def record_second_factor_failure(store: Store, user_id: int, *, client: str | None = None,
                                 now: datetime | None = None,
                                 policy: ThrottlePolicy = DEFAULT_POLICY) -> None:
    """A failed second factor (face step, wrong recovery code) counts like a wrong password: the
    same per-client back-off and per-name counters as `login_with_notice`'s failures."""
    user = store.get_user(user_id)
    if user is None:
        return
    store.throttle_failure(client_key(client), _throttle_name_key(normalise_username(user.name)),
                           now=now or datetime.now(timezone.utc), policy=policy)


def _throttle_name_key(name: str) -> str:
    """The per-name counters' key: the case-folded NFKC name, hashed (any length, any name)."""
    import hashlib

    return hashlib.sha256(("emotion-name:" + name.casefold()[:256]).encode("utf-8")).hexdigest()[:40]


def session_expired(last_seen: datetime, now: datetime, timeout: timedelta) -> bool:
    """True when more than `timeout` passed since `last_seen` (naive datetimes are UTC)."""
    if last_seen.tzinfo is None:
        last_seen = last_seen.replace(tzinfo=timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return now - last_seen > timeout
