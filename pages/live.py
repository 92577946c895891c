"""Live: the camera at camera speed (streamlit-webrtc).

The page only wires things up; the work is `emotion.live.StreamingAnalyzer` (one per session, kept
in session_state, built with the process-wide cached Analyzer). The video callback runs on
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

import json
import logging
import os
from datetime import datetime, timezone

import streamlit as st

from ui import charts, app_config, gate, outage, resources, sessions_live, text, uploads, user_settings
from ui.i18n import t

log = logging.getLogger(__name__)

STREAM_KEY = "live_stream"
STREAM_ID_KEY = "live_stream_id"
CAPTURE_KEY = "live_capture_png"
WEBRTC_KEY = "live-camera"


def ice_servers() -> list:
    raw = os.environ.get("EMOTION_ICE_SERVERS", "").strip()
    if not raw:
        return []
    try:
        servers = json.loads(raw)
    except json.JSONDecodeError:
        log.warning("EMOTION_ICE_SERVERS is not valid JSON; using no ICE servers")
        return []
    return servers if isinstance(servers, list) else []


def history_period() -> float:
    """Seconds between two history rows of one tracked face: EMOTION_LIVE_HISTORY_PERIOD_S, else 1."""
    try:
        return max(0.1, float(os.environ.get("EMOTION_LIVE_HISTORY_PERIOD_S", "1")))
    except ValueError:
        return 1.0


class _StoreRef:
    """The Store for the background threads (history writer, gallery refresh): the page's cached
    one, or, when the database was down when the page ran, one built on first use there. Calls no
    Streamlit function, so it is safe off the script thread."""

    def __init__(self, url: str | None, store=None) -> None:
        self.url = url
        self.store = store

    def __call__(self):
        if self.store is None:
            from emotion.store import Store

            self.store = Store(self.url)
        return self.store


def _build_stream(user: dict, settings: user_settings.Settings, analyzer):
    from emotion.recognize.gallery import Gallery
    from emotion.live import HistoryWriter, RefreshingGallery, StreamingAnalyzer, store_sink

    store = None
    with outage.db_guard(show=False):
        store = resources.get_store()
    ref = _StoreRef(app_config.database_url(), store)
    uid = int(user["id"])
    defaults = resources.recognizer_defaults(settings.recognizer) or ("euclidean_l2", 0.4)
    metric = defaults[0]
    threshold = settings.threshold if settings.threshold is not None else defaults[1]

    def load_gallery():  # background thread: no Streamlit calls
        entries = ref().gallery(uid, settings.recognizer)
        if isinstance(entries, Gallery):
            return entries.with_threshold(threshold)
        return Gallery(list(entries), metric=metric, threshold=threshold)

    gallery = RefreshingGallery(load_gallery, ttl=2.0)
    gallery.refresh()
    writer = HistoryWriter(store_sink(ref, uid, source="camera"))
    # recognition in a worker process: dlib's ResNet holds the GIL, a thread would stall the video
    return StreamingAnalyzer(analyzer, mode="fast", gallery_provider=gallery, history_sink=writer,
                             landmarks=settings.show_landmarks, recognition="process",
                             row_interval_s=history_period())


def session_stream(user: dict, settings: user_settings.Settings):
    """This session's StreamingAnalyzer, rebuilt when the user or the models change."""
    ident = (user["id"], settings.analyzer_key(), settings.threshold)
    stream = st.session_state.get(STREAM_KEY)
    if stream is not None and st.session_state.get(STREAM_ID_KEY) == ident:
        return stream
    analyzer = resources.get_analyzer(settings)
    if stream is not None:
        stream.stop(timeout=2.0)
    with st.spinner(t("loading_models"), show_time=True):
        stream = _build_stream(user, settings, analyzer)
    st.session_state[STREAM_KEY] = stream
    st.session_state[STREAM_ID_KEY] = ident
    return stream


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
c1, c2, c3 = st.columns(3)
mode = c1.radio(t("live_mode"), list(modes), format_func=modes.get, horizontal=True, key="live_mode",
                help=t("live_mode_help"))
show_landmarks = c2.toggle(t("show_landmarks"), value=settings.show_landmarks, key="live_landmarks")
save = c3.toggle(t("live_save"), value=settings.save_history, key="live_save")

stream = session_stream(user, settings)
stream.mode = mode
stream.landmarks = show_landmarks
# a classroom session (ui.sessions_live) stamps its id on the stream's rows; a running one saves them
session = sessions_live.session_controls(user, stream)
sessions_live.classroom_mode(stream, st.toggle(t("sess_many_faces"), key="live_many_faces",
                                               help=t("sess_many_faces_help")))
stream.history_enabled = save or stream.session_id is not None
if getattr(stream.analyzer, "classifier_error", None):
    st.warning(t("classifier_missing"), icon="⚠️")


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
    rtc_configuration={"iceServers": ice_servers()},
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
    if snap.get("error"):
        st.caption(t("live_error", error=snap["error"]))
    hist = snap.get("history")
    if hist:
        if hist.get("last_error"):
            st.warning(t("live_db_down", pending=hist["pending"]), icon="🛑")
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

if st.button(t("live_capture"), icon="📸", key="live_capture_button"):
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
            st.toast(t("live_captured", n=len(faces)), icon="💾")

capture = st.session_state.get(CAPTURE_KEY)
if capture:
    st.image(capture, width=320)
    st.download_button(t("live_capture_download"), data=capture, file_name="live-capture.png", mime="image/png",
                       icon="⬇️", key="live_capture_download", on_click="ignore")
