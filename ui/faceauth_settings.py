"""Settings -> Security: turn face sign-in on (guided enrolment on the camera) or off, recovery codes
(shown once, regenerate), "delete my face data", and the user's recent sign-ins.

Every change asks for the password again (`signin.check_password`). Enrolment keeps embeddings only.
"""
from __future__ import annotations

import streamlit as st

from emotion.faceauth import signin
from ui import outage, resources
from ui.i18n import t

ENROL_KEY = "fa_enrol_session"
ARMED_KEY = "fa_enrol_armed"
CODES_KEY = "fa_codes_once"


def _password_form(key: str, label: str) -> bool:
    """A password form; True on the run where the correct password was submitted."""
    with st.form(key):
        pw = st.text_input(t("fa_password_again"), type="password", max_chars=256, key=f"{key}_pw",
                           autocomplete="current-password")
        ok = st.form_submit_button(label)
    if not ok:
        return False
    if signin.check_password(resources.get_store(), st.session_state["_fa_uid"], pw):
        return True
    st.error(t("fa_password_wrong"))
    return False


def _show_codes_once() -> None:
    codes = st.session_state.pop(CODES_KEY, None)
    if not codes:
        return
    st.warning(t("fa_codes_once"), icon="🔑")
    st.code("\n".join(codes), language=None)
    st.download_button(t("fa_codes_download"), "\n".join(codes) + "\n", file_name="recovery-codes.txt",
                       mime="text/plain", key="fa_codes_dl")


def _enrolment(uid: int) -> None:
    from ui.faceauth_camera import EnrolmentSession, get_probe
    from ui.app_config import ice_servers

    try:
        from streamlit_webrtc import WebRtcMode, webrtc_streamer
    except ImportError:  # pragma: no cover
        st.error(t("fa_no_camera_lib"))
        return
    session = st.session_state.get(ENROL_KEY)
    if session is None:
        with st.spinner(t("loading_models"), show_time=True):
            probe = get_probe()  # models load here, on the script thread, never in the video callback
        session = st.session_state[ENROL_KEY] = EnrolmentSession(probe=probe)
    st.info(t("fa_enrol_start"))

    def video_frame_callback(frame):  # worker thread: no Streamlit calls
        session.worker.submit(frame.to_ndarray(format="bgr24"))
        return frame

    webrtc_streamer(key="fa-enrol", mode=WebRtcMode.SENDRECV, video_frame_callback=video_frame_callback,
                    rtc_configuration={"iceServers": ice_servers()},
                    media_stream_constraints={"video": True, "audio": False}, async_processing=True)

    @st.fragment(run_every=0.7)
    def progress() -> None:
        pose, done, problems = session.snapshot()
        st.progress(done / session.total(), text=t("fa_enrol_progress", done=done, total=session.total()))
        if pose is not None:
            st.write(t(f"fa_pose_{pose}"))
            for p in problems:
                st.caption(t(f"fa_problem_{p}"))
            return
        if st.button(t("fa_enrol_save"), type="primary", key="fa_enrol_save"):
            with outage.db_guard():
                codes = signin.enrol(resources.get_store(), uid, session.embeddings())
                st.session_state[CODES_KEY] = codes
                st.session_state.pop(ENROL_KEY, None)
                st.session_state.pop(ARMED_KEY, None)
                session.stop()
                st.rerun(scope="app")

    progress()


def _recent(uid: int) -> None:
    st.subheader(t("fa_recent_title"))
    rows = resources.get_store().recent_signins(uid, limit=20)
    if not rows:
        st.caption(t("fa_recent_empty"))
        return
    st.dataframe([{
        t("fa_col_time"): r.time.strftime("%Y-%m-%d %H:%M:%S"),
        t("fa_col_result"): t(f"fa_result_{r.result}"),
        t("fa_col_failed"): t(f"fa_factor_{r.failed_factor}") if r.failed_factor else "",
        t("fa_col_method"): t(f"fa_method_{r.method}"),
        t("fa_col_agent"): r.user_agent or "",
    } for r in rows], hide_index=True, use_container_width=True)


def render(user: dict) -> None:
    uid = int(user["id"])
    st.session_state["_fa_uid"] = uid
    st.header(t("fa_security_title"))
    with outage.db_guard():
        store = resources.get_store()
        info = store.face_factor(uid)
        _show_codes_once()
        if info is not None and info.enabled:
            st.success(t("fa_factor_on"), icon="🛡️")
            st.caption(t("fa_codes_left", n=info.codes_left))
            c1, c2, c3 = st.columns(3)
            with c1:
                if _password_form("fa_off_form", t("fa_disable")):
                    store.set_face_factor_enabled(uid, False)
                    st.toast(t("fa_disabled"))
                    st.rerun()
            with c2:
                if _password_form("fa_codes_form", t("fa_codes_regenerate")):
                    st.session_state[CODES_KEY] = signin.regenerate_codes(store, uid)
                    st.rerun()
            with c3:
                if _password_form("fa_delete_form", t("fa_delete")):
                    store.delete_face_data(uid)
                    st.toast(t("fa_deleted"))
                    st.rerun()
        else:
            st.info(t("fa_factor_off"))
            st.caption(t("fa_factor_explain"))
            if st.session_state.get(ARMED_KEY):
                _enrolment(uid)
            elif _password_form("fa_on_form", t("fa_enable")):
                st.session_state[ARMED_KEY] = True
                st.rerun()
            if info is not None and st.button(t("fa_delete"), key="fa_delete_off"):
                store.delete_face_data(uid)
                st.toast(t("fa_deleted"))
                st.rerun()
        _recent(uid)
