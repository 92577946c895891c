"""The Live page's classroom-session controls: start a named session, pause / resume it, end it.

The running session's id is kept in session_state and handed to the `StreamingAnalyzer`
(``stream.session_id``), which stamps it on every history row it makes; while paused (or with no
session) the stream's rows carry none. Database trouble shows the usual outage message; the camera
keeps running.
"""
from __future__ import annotations

import streamlit as st

from emotion.store import SessionEnded, SessionInfo, SessionNotFound
from emotion.store.limits import SESSION_NAME_MAX
from ui import gate, outage, resources, text
from ui.i18n import t

ACTIVE_KEY = "sess_active_id"


def duration_text(info: SessionInfo) -> str:
    from emotion.sessions.export import clock

    return clock(info.duration_s(gate.now_utc()))


def _act(method: str, *args) -> SessionInfo | None:
    """``store.<method>(*args)``; None (with a message) when the database is down or the session is gone."""
    try:
        with outage.db_guard():
            return getattr(resources.get_store(), method)(*args)
    except SessionNotFound:
        st.session_state.pop(ACTIVE_KEY, None)
        st.error(t("sess_not_found"))
    except SessionEnded:
        st.error(t("sess_already_ended"))
    return None


def active_session(uid: int) -> SessionInfo | None:
    sid = st.session_state.get(ACTIVE_KEY)
    if sid is None:
        return None
    return _act("get_session", uid, sid)


def classroom_mode(stream, on: bool) -> None:
    """Many small faces (a class on one camera): `emotion.live.rolling.classroom_settings` - a rolling
    tile scan plus windows centred on the tracks instead of the 320 px pass, up to 40 faces, a quarter of
    the class classified per frame, names shown once matched twice, faces under 24 px flagged "too
    small". Off: the page's usual set-up (one to a few faces near the camera), as it was."""
    if on and stream.rolling is None:
        from emotion import registry
        from emotion.live.rolling import classroom_settings

        setup = classroom_settings(registry.get_detector("blazeface"))  # short range, per 200 px window
        stream.classroom_saved = {k: getattr(stream, k) for k in setup}
        for k, v in setup.items():
            setattr(stream, k, v)
    elif not on and stream.rolling is not None:
        saved = getattr(stream, "classroom_saved", None) or {"rolling": None}
        for k, v in saved.items():
            setattr(stream, k, v)
        stream.rolling = None


def session_controls(user: dict, stream) -> SessionInfo | None:
    """The controls; sets ``stream.session_id`` (the running session, else None). Returns the session."""
    uid = int(user["id"])
    info = active_session(uid)
    with st.container(border=True, key="sess_live_box"):
        st.markdown(f"**{t('sess_live_box')}**")
        if info is None or info.state == "ended":
            if info is not None:
                st.caption(t("sess_ended", name=text.md(info.name), duration=duration_text(info)))
            c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
            name = c1.text_input(t("sess_name"), key="sess_name_input", max_chars=SESSION_NAME_MAX,
                                 placeholder=t("sess_name_placeholder"))
            if c2.button(t("sess_start"), key="sess_start", icon="▶️", type="primary"):
                if not " ".join((name or "").split()):
                    st.error(t("sess_name_needed"))
                else:
                    new = _act("start_session", uid, name)
                    if new is not None:
                        st.session_state[ACTIVE_KEY] = new.id
                        st.rerun()
        else:
            key = "sess_running" if info.state == "running" else "sess_paused"
            st.caption(t(key, name=text.md(info.name), duration=duration_text(info)))
            c1, c2, _ = st.columns([1, 1, 3])
            if info.state == "running":
                if c1.button(t("sess_pause"), key="sess_pause", icon="⏸️"):
                    if _act("pause_session", uid, info.id) is not None:
                        st.rerun()
            elif c1.button(t("sess_resume"), key="sess_resume", icon="▶️"):
                if _act("resume_session", uid, info.id) is not None:
                    st.rerun()
            if c2.button(t("sess_end"), key="sess_end", icon="⏹️"):
                stream.session_id = None
                if _act("end_session", uid, info.id) is not None:
                    st.rerun()
    stream.session_id = info.id if info is not None and info.state == "running" else None
    return info
