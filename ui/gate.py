"""The session gate: who is signed in, the inactivity timeout, sign-in/out, and the run-through-app.py check.

A folder named ``pages/`` makes a fresh Streamlit process start in its old multipage mode (see
`ensure_gate`); every page calls `require_user` or `ensure_gate` first."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import streamlit as st

from ui.app_config import session_timeout
from ui.i18n import t
from ui.outage import db_guard, reset_outage


#: session_state keys owned by this module
USER_KEY = "auth_user"
LAST_SEEN_KEY = "auth_last_seen"
FLASH_KEY = "flash_message"
_GATE_KEY = "_through_app"
#: session_state keys that survive a log-out (everything else is the user's and is dropped)
KEEP_ON_LOGOUT = ("lang",)


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def begin_run() -> None:
    """Called once at the top of every app run (app.py)."""
    reset_outage()
    st.session_state[_GATE_KEY] = True


def ensure_gate() -> None:
    """Top of every page: make sure this run went through app.py's gate.

    A folder named ``pages/`` makes Streamlit start a fresh process in its old multipage mode,
    where every pages/*.py is a page of its own, until the first ``st.navigation`` call switches
    that off. So the very first visitor of a new server who opens a deep link (``/history``) would
    run the page script alone, without app.py (no login gate, no language switch). This switches
    the old mode off and reruns, so app.py routes the request like any other."""
    if st.session_state.pop(_GATE_KEY, False):
        return
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except Exception:  # pragma: no cover - a Streamlit without that switch has no old mode either
        return
    if PagesManager.uses_pages_directory:  # else: a page run on its own (require_user guards it)
        PagesManager.uses_pages_directory = False
        st.rerun()



# ---- a sign-in waiting for its second factor (face step) -----------------------------------------
#: session_state key of a user whose password was right but whose face step is still to come; they
#: are NOT signed in (`current_user` is None), so app.py offers only Login/Register meanwhile. A reload
#: or a second tab is a new session without it: the sign-in starts again at the password.
PENDING_KEY = "auth_pending_second_factor"
PENDING_TTL = timedelta(minutes=5)


def begin_second_factor(user: Any) -> dict:
    """Hold `user` (password checked) until the face step passes; nothing of theirs is reachable."""
    _clear_session()
    info = {"id": int(getattr(user, "id", None) or user["id"]), "name": str(getattr(user, "name", None) or user["name"]),
            "since": now_utc()}
    st.session_state[PENDING_KEY] = info
    return info


def pending_second_factor() -> dict | None:
    """The user waiting for the face step (expires after `PENDING_TTL`), or None."""
    info = st.session_state.get(PENDING_KEY)
    if not info:
        return None
    if _expired(info.get("since"), now_utc(), PENDING_TTL):
        st.session_state.pop(PENDING_KEY, None)
        return None
    return dict(info)


def clear_pending() -> None:
    st.session_state.pop(PENDING_KEY, None)


def current_user() -> dict | None:
    """``{"id": int, "name": str}`` of the signed-in user, or None."""
    user = st.session_state.get(USER_KEY)
    return dict(user) if user else None


def sign_in(user: Any, keep_prefixes: tuple[str, ...] = ()) -> dict:
    """Store the authenticated user (an object with .id/.name or .username, or a dict) in the session.

    `keep_prefixes`: session keys of this same sign-in to keep (the face step's camera component,
    whose own callback still reads its keys when the browser closes the stream)."""
    if isinstance(user, dict):
        uid, name = user.get("id"), user.get("name") or user.get("username")
    else:
        uid = getattr(user, "id")
        name = getattr(user, "name", None) or getattr(user, "username", None)
    info = {"id": int(uid), "name": str(name)}
    # a new user starts clean: nothing of a previous user's session may leak into theirs
    _clear_session(keep_prefixes)
    st.session_state[USER_KEY] = info
    st.session_state[LAST_SEEN_KEY] = now_utc()
    _restore_settings(info["id"])
    return info


def _restore_settings(user_id: int) -> None:
    """The user's saved settings into the session; the defaults (and a message) when the database
    cannot give them now."""
    from ui import resources, user_settings

    with db_guard(t("settings_not_restored")) as guard:
        user_settings.restore(resources.get_store(), user_id)
    if guard.failed:
        user_settings.get_settings()


def _clear_session(keep_prefixes: tuple[str, ...] = ()) -> None:
    for key in list(st.session_state.keys()):
        if key not in KEEP_ON_LOGOUT and not (keep_prefixes and str(key).startswith(keep_prefixes)):
            del st.session_state[key]


def sign_out(flash: str | None = None) -> None:
    """Forget the user and everything of theirs in the session (the language choice stays)."""
    _clear_session()
    if flash:
        st.session_state[FLASH_KEY] = flash


def _expired(last_seen: datetime, now: datetime, timeout: timedelta) -> bool:
    if not isinstance(last_seen, datetime):
        return True  # something odd in the session: treat it as expired rather than trust it
    if last_seen.tzinfo is None:
        last_seen = last_seen.replace(tzinfo=timezone.utc)
    return now - last_seen > timeout


def check_session() -> dict | None:
    """The signed-in user after applying the inactivity timeout (and recording this activity), or
    None. An expired session is signed out with a message shown on the login page."""
    user = current_user()
    if user is None:
        return None
    now = now_utc()
    last_seen = st.session_state.get(LAST_SEEN_KEY) or now
    if _expired(last_seen, now, session_timeout()):
        sign_out(flash=t("session_expired"))
        return None
    st.session_state[LAST_SEEN_KEY] = now
    return user


def touch_session() -> None:
    """Record activity without a full rerun (e.g. from a fragment)."""
    if current_user() is not None:
        st.session_state[LAST_SEEN_KEY] = now_utc()


def require_user() -> dict:
    """Top of every protected page: the user, or a login prompt and ``st.stop()``.

    app.py only routes signed-in users to these pages; this covers a page script run on its own."""
    ensure_gate()
    user = check_session()
    if user is None:
        flash = st.session_state.pop(FLASH_KEY, None)
        if flash:
            st.info(flash)
        st.warning(t("login_required"), icon=":material/lock:")
        st.stop()
    return user


def pop_flash() -> str | None:
    return st.session_state.pop(FLASH_KEY, None)

