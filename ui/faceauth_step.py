"""The face step of the sign-in (shown on the login page while a sign-in waits for it).

After a correct password with the factor on, `ui.gate.begin_second_factor` keeps the user as
*pending* (not signed in: every page but Login/Register stays out of reach). This page part runs the
challenge on the camera, or takes a recovery code; only then `gate.sign_in`. A reload or a second tab
starts a new Streamlit session, which has no pending sign-in: it starts again at the password.
"""
from __future__ import annotations

import math
from datetime import datetime, timezone

import streamlit as st

from emotion.faceauth import signin
from emotion.faceauth.challenge import FAILED, PASSED, Challenge, UnsafeSetting
from ui import gate, outage, resources
from ui.i18n import t

SESSION_KEY = "fa_step_session"
NONCE_KEY = "fa_step_nonce"
RECORDED_KEY = "fa_step_recorded"
#: the camera component's session keys ("fa-step-<n>", "fa-step-<n>:frontend")
COMPONENT_PREFIX = "fa-step-"


def user_agent() -> str | None:
    try:
        return st.context.headers.get("User-Agent")
    except Exception:  # noqa: BLE001 - outside a browser run
        return None


def _minutes_until(until: datetime) -> int:
    return max(1, math.ceil((until - datetime.now(timezone.utc)).total_seconds() / 60))


def _new_session(store, uid: int):
    from ui.faceauth_camera import ChallengeSession, get_probe

    old = st.session_state.pop(SESSION_KEY, None)
    if old is not None:
        old.stop()
    try:
        challenge = Challenge.for_sign_in()
    except UnsafeSetting:
        st.error(t("fa_unsafe_setting"), icon="⛔")
        st.stop()
    with st.spinner(t("loading_models"), show_time=True):
        probe = get_probe()  # models load here, on the script thread, never in the video callback
    session = ChallengeSession(challenge, signin.enrolled_embeddings(store, uid), probe=probe)
    st.session_state[SESSION_KEY] = session
    st.session_state[NONCE_KEY] = st.session_state.get(NONCE_KEY, 0) + 1
    st.session_state.pop(RECORDED_KEY, None)
    return session


def _finish(user: dict, flash: str | None = None) -> None:
    session = st.session_state.pop(SESSION_KEY, None)
    if session is not None:
        session.stop()
    gate.sign_in(user, keep_prefixes=(COMPONENT_PREFIX,))
    if flash:
        st.session_state[gate.FLASH_KEY] = flash
    st.rerun()


def _recovery_form(store, user: dict) -> None:
    with st.expander(t("fa_use_code")):
        with st.form("fa_code_form"):
            code = st.text_input(t("fa_code_label"), max_chars=32, key="fa_code", autocomplete="one-time-code")
            used = st.form_submit_button(t("fa_code_button"))
        if used:
            left = None
            with outage.db_guard():
                left = signin.redeem_recovery_code(store, user["id"], code, user_agent=user_agent(),
                                                    client=gate.client_address())
            if left is None:
                st.error(t("fa_code_wrong"))
            else:
                msg = t("fa_code_used", n=left) + ("" if left else " " + t("fa_code_last"))
                _finish(user, flash=msg)


def render(pending: dict) -> None:
    """The face step for the pending user {"id", "name"}."""
    store = resources.get_store()
    user = {"id": int(pending["id"]), "name": str(pending["name"])}
    st.subheader(t("fa_step_title"))
    if st.button(t("fa_cancel"), key="fa_cancel"):
        session = st.session_state.pop(SESSION_KEY, None)
        if session is not None:
            session.stop()
        gate.clear_pending()
        st.rerun()

    locked = signin.face_step_locked_until(store, user["id"])
    if locked is not None:
        st.error(t("fa_locked", minutes=_minutes_until(locked)), icon="🔒")
        _recovery_form(store, user)
        return

    session = st.session_state.get(SESSION_KEY) or _new_session(store, user["id"])
    status = session.snapshot()
    if status is not None and status.state == PASSED:
        # signed in here, in a full run of the page, never inside the fragment's own run; _finish
        # clears the session and reruns, so this is reached once per passed check
        signin.face_step_passed(store, user["id"], user_agent=user_agent())
        _finish(user, flash=t("fa_step_passed"))
    st.write(t("fa_step_intro"))
    st.markdown("\n".join(f"{i}. {t('fa_action_' + a)}" for i, a in enumerate(session.challenge.actions, 1)))

    try:
        import av
        from streamlit_webrtc import WebRtcMode, webrtc_streamer
    except ImportError:  # pragma: no cover - a requirement of the app
        st.error(t("fa_no_camera_lib"))
        _recovery_form(store, user)
        return
    from ui.app_config import ice_servers

    def video_frame_callback(frame):  # streamlit-webrtc's worker thread: no Streamlit calls
        session.worker.submit(frame.to_ndarray(format="bgr24"))
        return frame

    webrtc_streamer(key=f"{COMPONENT_PREFIX}{st.session_state.get(NONCE_KEY, 0)}", mode=WebRtcMode.SENDRECV,
                    video_frame_callback=video_frame_callback, rtc_configuration={"iceServers": ice_servers()},
                    media_stream_constraints={"video": True, "audio": False}, async_processing=True)

    @st.fragment(run_every=0.5)
    def progress() -> None:
        status = session.snapshot()
        if status is None:
            st.info(t("fa_step_waiting"))
        elif status.state == PASSED:
            st.rerun(scope="app")  # the page's own run signs the user in (above)
        elif status.state == FAILED:
            if not st.session_state.get(RECORDED_KEY):
                st.session_state[RECORDED_KEY] = True
                signin.face_step_failed(store, user["id"], user_agent=user_agent(), client=gate.client_address())
            st.error(t(f"fa_fail_{status.reason}"), icon="⛔")
            if st.button(t("fa_try_again"), key="fa_retry"):
                _new_session(store, user["id"])
                st.rerun()
        elif status.calibrating:
            st.info(t("fa_step_calibrating"))
        else:
            st.info(t("fa_step_now", action=t("fa_action_" + status.action)))
            st.progress(status.step / len(session.challenge.actions))
        if status is not None and status.state != PASSED:
            st.caption(t("fa_step_frames", n=status.frames_used))

    progress()
    _recovery_form(store, user)


def after_password(user) -> bool:
    """Right after a correct password: True when the face step must follow (else the password-only
    sign-in is audited and the caller signs the user in)."""
    store = resources.get_store()
    if signin.needs_face_step(store, int(user.id)):
        return True
    signin.password_only_success(store, int(user.id), user_agent=user_agent())
    return False


def audit_password_failure(name: object) -> None:
    """Audit a wrong password of an existing account (unknown names leave no trace)."""
    if isinstance(name, str) and name.strip():
        store = resources.get_store()
        user = store.get_user_by_name(name)
        signin.password_failed(store, None if user is None else user.id, user_agent=user_agent())
