"""Live: the camera at camera speed (streamlit-webrtc).

The page only wires things up; the work is `emotion.live.StreamingAnalyzer` (one per session, kept
in session_state, built by `ui.live_session` with the process-wide cached Analyzer). The video callback runs on
streamlit-webrtc's worker thread and calls no Streamlit function: frame -> ndarray -> `process` ->
frame. The panel below the video is a fragment re-run every second while the camera plays; it reads
the analyzer's thread-safe `snapshot()`.

Classroom sessions: the box above the camera starts / pauses / ends a named session; its rows carry
its id (see `ui.sessions_live`).

History: one row per tracked face every ``EMOTION_LIVE_HISTORY_PERIOD_S`` seconds (1 by default),
sooner when its dominant emotion or name changes, written in the background (see HistoryWriter).

ICE servers: ``EMOTION_ICE_SERVERS`` (a JSON list of RTCIceServer dicts, e.g.
``[{"urls": ["stun:stun.l.google.com:19302"]}]``). The default is ``[]``: no STUN/TURN, so the browser
and this server must reach each other directly (same machine or LAN), and nothing is asked of any
outside server. Set it when users connect through NAT.
"""
from __future__ import annotations

from datetime import datetime, timezone

import streamlit as st

from ui import app_config, charts, gate, live_session, outage, resources, sessions_live, text, uploads, user_settings
from ui.i18n import drawn_labels, t

CAPTURE_KEY = "live_capture_png"
WEBRTC_KEY = "live-camera"


user = gate.require_user()
settings = user_settings.get_settings()

st.title(t("live_title"))
st.caption(t("live_hint"))

try:
    import av
    from streamlit_webrtc import WebRtcMode, webrtc_streamer
except ImportError:  # pragma: no cover - a requirement of the app
    st.error(t("live_no_webrtc"))
    st.stop()

modes = {"fast": t("live_mode_fast"), "accurate": t("live_mode_accurate")}
c1, c2 = st.columns(2)  # the toggles stacked in one column: their labels never get cut
mode = c1.radio(t("live_mode"), list(modes), format_func=modes.get, horizontal=True, key="live_mode",
                help=t("live_mode_help"))
show_landmarks = c2.toggle(t("show_landmarks"), value=settings.show_landmarks, key="live_landmarks")
save = c2.toggle(t("live_save_short"), value=settings.save_history, key="live_save", help=t("live_save"))

stream = live_session.session_stream(user, settings)
stream.mode = mode
stream.labels = drawn_labels()
stream.landmarks = show_landmarks
# a classroom session (ui.sessions_live) stamps its id on the stream's rows; a running one saves them
session = sessions_live.session_controls(user, stream)
sessions_live.classroom_mode(stream, st.toggle(t("sess_many_faces"), key="live_many_faces",
                                               help=t("sess_many_faces_help")))
stream.history_enabled = save or stream.session_id is not None
if getattr(stream.analyzer, "classifier_error", None):
    st.warning(t("classifier_missing"), icon=":material/warning:")


def video_frame_callback(frame):
    """streamlit-webrtc's worker thread: no Streamlit calls here."""
    img = frame.to_ndarray(format="bgr24")
    out, _ = stream.process(img)
    return av.VideoFrame.from_ndarray(out, format="bgr24")


ctx = webrtc_streamer(
    key=WEBRTC_KEY,
    mode=WebRtcMode.SENDRECV,
    video_frame_callback=video_frame_callback,
    media_stream_constraints={"video": True, "audio": False},
    rtc_configuration={"iceServers": app_config.ice_servers()},
    async_processing=True,
)
playing = bool(ctx.state.playing)
if not playing:
    # the camera stopped (or never started): write what is buffered; if the database is down the
    # rows stay buffered and the writer keeps retrying in the background
    if stream.writer is not None and stream.writer.pending:
        if not stream.stop(timeout=2.0):
            stream.writer.start()


@st.fragment(run_every=1.0 if playing else None)
def live_panel() -> None:
    gate.guard_fragment()  # a fragment run skips app.py's checks
    snap = stream.snapshot(10.0)
    if playing:
        gate.touch_session()  # watching the camera is activity
    m1, m2, m3 = st.columns(3)
    fps = snap.get("fps")
    lat = snap.get("latency_ms") or {}
    m1.metric(t("live_fps"), "–" if fps is None else f"{fps:.1f}")
    p50, p95 = lat.get("p50"), lat.get("p95")
    m2.metric(t("live_latency"), "–" if p50 is None else f"{p50:.0f} / {p95:.0f} ms")
    m3.metric(t("live_faces"), len(snap.get("faces") or []))
    faces = snap.get("faces") or []
    if faces:
        st.markdown("  \n".join(
            t("live_face_line", track=f["track_id"], name=text.md(f["name"]),
              emotion=t("emo_" + f["emotion"]) if f.get("emotion") else "–",
              score=f"{f['score']:.0%}" if f.get("score") is not None else "")
            for f in faces))
    st.caption(t("live_frames", n=snap.get("frames", 0), mode=modes.get(snap.get("mode"), "")))
    rolling = stream.rolling
    if rolling is not None:  # "Many faces" is on
        st.caption(t("sess_many_faces_on", n=rolling.per_frame, tile=rolling.tile, focus=rolling.focus))
    if snap.get("error"):
        st.caption(t("live_error", error=snap["error"]))
    hist = snap.get("history")
    if hist:
        if hist.get("last_error"):
            st.warning(t("live_db_down", pending=hist["pending"]), icon=":material/cloud_off:")
        elif hist.get("written") or hist.get("pending"):
            st.caption(t("live_history_status", written=hist["written"], pending=hist["pending"]))
    if snap.get("last_time") is None or not snap.get("person_mix"):
        st.info(t("live_waiting"))
        return
    left, right = st.columns(2)
    with left:
        st.subheader(t("live_mix_title"))
        st.plotly_chart(charts.mix_chart(snap["mix"]), key="live_mix_chart")
    with right:
        st.subheader(t("live_person_title"))
        st.plotly_chart(charts.person_mix_chart(snap["person_mix"]), key="live_person_chart")


live_panel()

if st.button(t("live_capture"), icon=":material/photo_camera:", key="live_capture_button"):
    frame, faces, when = stream.last_frame()
    if frame is None:
        st.info(t("live_capture_none"))
    else:
        from emotion.draw import to_png
        from emotion.live import make_row

        taken = datetime.fromtimestamp(when, tz=timezone.utc) if when else gate.now_utc()
        png = to_png(uploads.shrink(frame, uploads.SNAPSHOT_MAX_SIDE))
        st.session_state[CAPTURE_KEY] = png
        with outage.db_guard(t("db_unreachable_not_saved")):
            store = resources.get_store()
            snap_id = store.save_snapshot(user["id"], png, description="live capture", time=taken)
            rows = [dict(make_row(f, taken, session_id=stream.session_id), snapshot_id=snap_id) for f in faces]
            store.add_history(user["id"], rows, source="camera")
            st.toast(t("live_captured", n=len(faces)), icon=":material/save:")

capture = st.session_state.get(CAPTURE_KEY)
if capture:
    st.image(capture, width=320)
    st.download_button(t("live_capture_download"), data=lambda png=capture: png,  # made on click
                       file_name="live-capture.png", mime="image/png", icon=":material/download:",
                       key="live_capture_download", on_click="ignore")
