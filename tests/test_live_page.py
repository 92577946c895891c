"""pages/live.py under streamlit.testing.v1.AppTest: the real app.py gate, a real SQLite database in
tmp_path, the real engine. No browser and no camera here (AppTest cannot run the WebRTC component;
the real-browser camera test is tests/e2e's): frames are fed to the session's StreamingAnalyzer the
way the video callback feeds them, then the page's Capture button is pressed.

One stand-in: AppTest runs scripts against a MagicMock of Streamlit's Runtime that has no session
manager, and streamlit-webrtc's `get_this_session_info` (which returns None "outside a live
Streamlit run", its own documented fallback) only catches the errors a missing runtime raises, not
the mock's AttributeError. The `_webrtc_outside_server` fixture (tests/live_apptest.py) makes it
take that fallback; the component itself, the page and everything behind it are real."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("streamlit.testing.v1")
pytest.importorskip("streamlit_webrtc")
from streamlit.testing.v1 import AppTest  # noqa: E402

from tests.live_apptest import _navigation_mode, _webrtc_outside_server, env, ok  # noqa: E402,F401
from ui.i18n import t  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
LIVE = "pages/live.py"
TIMEOUT = 240
PASSWORD = "correct horse 1"


def button(at: AppTest, label: str):
    for b in at.button:
        if b.label == label:
            return b
    raise AssertionError(f"no button {label!r} in {[b.label for b in at.button]}")


def signed_in(name: str = "livia") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    ok(at.run())
    at.switch_page("pages/register.py").run()
    at.text_input(key="register_name").set_value(name)
    at.text_input(key="register_password").set_value(PASSWORD)
    at.text_input(key="register_confirm").set_value(PASSWORD)
    button(at, t("register_button")).click().run()
    return ok(at)


def test_live_page_is_not_offered_to_visitors(env):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    ok(at.run())
    with pytest.raises(ValueError) as err:
        at.switch_page(LIVE)
    assert "live.py" not in re.search(r"Known pages: (\[.*\])", str(err.value)).group(1)
    assert t("live_title") not in [x.value for x in at.title]


def test_live_page_alone_asks_for_a_login(env):
    """The page script run without app.py (a deep link before the gate) stops at require_user."""
    at = AppTest.from_file(str(ROOT / LIVE), default_timeout=TIMEOUT)
    ok(at.run())
    assert t("login_required") in [w.value for w in at.warning]
    assert t("live_title") not in [x.value for x in at.title]
    assert "live_stream" not in at.session_state


def test_live_page_renders_for_a_user_and_captures(env):
    from emotion.bench.scenes import moving_face_frames
    from emotion.store import Store

    at = signed_in()
    at.switch_page(LIVE).run()
    ok(at)
    assert [x.value for x in at.title] == [t("live_title")]
    stream = at.session_state["live_stream"]
    # a fresh session stream in fast mode, saving history (its writer has written nothing yet)
    assert stream.mode == "fast" and stream.history_enabled
    assert (stream.writer.written, stream.writer.pending, stream.snapshot()["frames"]) == (0, 0, 0)
    # the mode select and the landmarks toggle reach the running analyzer
    at.radio(key="live_mode").set_value("accurate").run()
    assert ok(at).session_state["live_stream"] is stream and stream.mode == "accurate"
    at.toggle(key="live_landmarks").set_value(False).run()
    assert stream.landmarks is False
    at.radio(key="live_mode").set_value("fast").run()
    # the labels drawn on the video follow the language (Chinese when a CJK font can draw them)
    assert stream.labels is None
    at.selectbox(key="lang").set_value("zh").run()
    from emotion.draw import can_draw_cjk

    assert ok(at).session_state["live_stream"] is stream
    assert stream.labels == ({"angry": "愤怒", "disgust": "厌恶", "fear": "恐惧", "happy": "高兴", "sad": "悲伤",
                              "surprise": "惊讶", "neutral": "平静", "unknown": "未知", "too_small": "太小"}
                             if can_draw_cjk() else None)
    at.selectbox(key="lang").set_value("en").run()

    # Capture before any frame: a hint, nothing saved
    button(at, t("live_capture")).click().run()
    assert t("live_capture_none") in [i.value for i in ok(at).info]

    # frames through the same call the video callback makes, then Capture
    for frame in moving_face_frames(10):
        stream.process(frame)
    button(at, t("live_capture")).click().run()
    ok(at)
    # the readout: frames analysed and one line per face on the last frame (nobody enrolled)
    assert t("live_frames", n=10, mode=t("live_mode_fast")) in [c.value for c in at.caption]
    assert any("unknown" in m.value for m in at.markdown), [m.value for m in at.markdown]
    assert at.session_state["live_capture_png"].startswith(b"\x89PNG")
    assert any(b.label == t("live_capture_download") for b in at.get("download_button"))
    store = Store(env)
    uid = at.session_state["auth_user"]["id"]
    rows = store.history(uid)
    captured = [r for r in rows if r.snapshot_id is not None]
    assert len(captured) == 1 and captured[0].source == "camera"
    assert len(store.list_snapshots(uid)) == 1
    # the rows the stream wrote by itself (one per track per second) arrive once it is stopped
    assert stream.stop(timeout=10)
    written = stream.writer.stats()["written"]
    assert written >= 1  # the first frame's face got its row
    assert store.history_count(uid) == written + 1  # + the captured face
    store.close()
