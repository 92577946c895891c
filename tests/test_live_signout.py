"""Issue 17, finding 4: after sign-out, the live page's background HistoryWriter writes no more rows
for the old user, although the camera callback (which holds the session's StreamingAnalyzer) may
still deliver frames.

Under AppTest with the real app.py gate, a real SQLite database and the real engine; the same
stand-in as tests/test_live_page.py (streamlit-webrtc's session lookup outside a server, see
tests/live_apptest.py).
Frames are fed to the session's StreamingAnalyzer the way the video callback feeds them."""
from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("streamlit.testing.v1")
pytest.importorskip("streamlit_webrtc")
from streamlit.testing.v1 import AppTest  # noqa: E402

from tests.live_apptest import _navigation_mode, _webrtc_outside_server, env, ok  # noqa: E402,F401
from ui.i18n import t  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
TIMEOUT = 240
PASSWORD = "correct horse 1"


def _button(buttons, label: str):
    for b in buttons:
        if b.label == label:
            return b
    raise AssertionError(f"no button {label!r} in {[b.label for b in buttons]}")


def test_history_writer_stops_writing_for_the_old_user_after_sign_out(env):
    from emotion.bench.scenes import moving_face_frames
    from emotion.store import Store

    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    ok(at.run())
    at.switch_page("pages/register.py").run()
    at.text_input(key="register_name").set_value("leaver")
    at.text_input(key="register_password").set_value(PASSWORD)
    at.text_input(key="register_confirm").set_value(PASSWORD)
    _button(at.button, t("register_button")).click().run()
    at.switch_page("pages/live.py").run()
    ok(at)
    uid = at.session_state["auth_user"]["id"]
    stream = at.session_state["live_stream"]
    frames = list(moving_face_frames(40))
    # signed in: frames over two seconds of stream time make rows (one per track per second)
    for i, frame in enumerate(frames[:20]):
        stream.process(frame, timestamp=1000.0 + i * 0.1)
    _button(at.sidebar.button, t("logout")).click().run()
    ok(at)
    assert "auth_user" not in at.session_state
    store = Store(env)
    try:
        before = store.history_count(uid)
        assert before >= 1  # the rows made while signed in were kept
        # the camera callback still holds the stream and keeps delivering frames
        for i, frame in enumerate(frames[20:]):
            stream.process(frame, timestamp=1002.0 + i * 0.1)
        assert stream.writer is None or stream.writer.stop(timeout=10)  # everything buffered is flushed
        assert store.history_count(uid) == before, "rows were written for a signed-out user"
    finally:
        store.close()
        stream.close(timeout=5)
