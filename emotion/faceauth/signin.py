"""The face factor's sign-in and settings actions on the store (no Streamlit; the pages call these).

* `needs_face_step(store, user_id)`: a correct password leads to the face step when this is true.
* `face_step_passed` / `face_step_failed`: the audit row, and for a failure the factor's own count
  (5 failed face steps in a row lock the face step for 15 minutes; a correct password does NOT
  reset it) plus the account's failed-sign-in counter, exactly as a wrong password counts.
* `redeem_recovery_code`: a code replaces the face step once; returns how many are left.
* `enrol` / `regenerate_codes`: store embeddings (never images) and fresh codes; the plain codes are
  returned once, for the page to show, and only their argon2id hashes are stored.
* `check_password`: the password asked again before the factor is switched on or off.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np

from emotion.faceauth import recovery
from emotion.faceauth.probe import RECOGNIZER

METHOD_PASSWORD = "password"
METHOD_FACE = "password+face"
METHOD_CODE = "password+recovery_code"


@dataclass(frozen=True)
class FaceStepOutcome:
    locked_until: datetime | None   # the face step is locked until then (None: may try again)


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(timezone.utc)


def needs_face_step(store: Any, user_id: int) -> bool:
    return bool(store.face_factor_enabled(user_id))


def face_step_locked_until(store: Any, user_id: int, now: datetime | None = None) -> datetime | None:
    info = store.face_factor(user_id)
    now = _now(now)
    return info.locked_until if info is not None and info.locked_at(now) else None


def enrolled_embeddings(store: Any, user_id: int) -> np.ndarray:
    return store.face_embeddings(user_id)


def face_step_passed(store: Any, user_id: int, *, user_agent: str | None = None, now: datetime | None = None) -> None:
    store.record_face_success(user_id)
    store.add_signin_event(user_id, "success", method=METHOD_FACE, user_agent=user_agent, now=now)


def face_step_failed(store: Any, user_id: int, *, user_agent: str | None = None,
                     now: datetime | None = None) -> FaceStepOutcome:
    now = _now(now)
    info = store.record_face_failure(user_id, now=now)
    store.record_failed_login(user_id, now=now)  # lockout hook: a failed face step counts like a wrong password
    store.add_signin_event(user_id, "failure", method=METHOD_FACE, failed_factor="face", user_agent=user_agent,
                           now=now)
    return FaceStepOutcome(info.locked_until if info is not None and info.locked_at(now) else None)


def password_failed(store: Any, user_id: int | None, *, user_agent: str | None = None,
                    now: datetime | None = None) -> None:
    """Audit a wrong password of an existing account (unknown names are not audited)."""
    if user_id is not None:
        store.add_signin_event(user_id, "failure", method=METHOD_PASSWORD, failed_factor="password",
                               user_agent=user_agent, now=now)


def password_only_success(store: Any, user_id: int, *, user_agent: str | None = None,
                          now: datetime | None = None) -> None:
    store.add_signin_event(user_id, "success", method=METHOD_PASSWORD, user_agent=user_agent, now=now)


def redeem_recovery_code(store: Any, user_id: int, typed: object, *, user_agent: str | None = None,
                         now: datetime | None = None) -> int | None:
    """Codes left after spending `typed`, or None when it is not an unused code of this user (that
    counts as a failed second factor, like a failed face step)."""
    now = _now(now)
    rows = store.unused_recovery_codes(user_id)
    idx = recovery.find_code(typed, [h for _, h in rows])
    left = store.spend_recovery_code(user_id, rows[idx][0], now=now) if idx is not None else None
    if left is None:
        store.record_face_failure(user_id, now=now)
        store.record_failed_login(user_id, now=now)  # lockout hook
        store.add_signin_event(user_id, "failure", method=METHOD_CODE, failed_factor="recovery_code",
                               user_agent=user_agent, now=now)
        return None
    store.add_signin_event(user_id, "success", method=METHOD_CODE, user_agent=user_agent, now=now)
    return left


def enrol(store: Any, user_id: int, embeddings: np.ndarray, *, now: datetime | None = None) -> list[str]:
    """Switch the factor on with these embeddings; returns the ten new recovery codes (show once)."""
    codes = recovery.new_codes()
    store.enable_face_factor(user_id, embeddings, RECOGNIZER, [recovery.hash_code(c) for c in codes], now=now)
    return codes


def regenerate_codes(store: Any, user_id: int, *, now: datetime | None = None) -> list[str]:
    codes = recovery.new_codes()
    store.replace_recovery_codes(user_id, [recovery.hash_code(c) for c in codes], now=now)
    return codes


def check_password(store: Any, user_id: int, password: object) -> bool:
    from emotion.auth import verify_password

    user = store.get_user(user_id)
    return user is not None and isinstance(password, str) and verify_password(user.password_hash, password)
