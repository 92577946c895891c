"""What the AppTest tests of the live page share (tests/test_live_page.py, tests/test_live_signout.py):
Streamlit kept in st.navigation mode, streamlit-webrtc's session lookup outside a server, a fresh
SQLite database per test, and the no-exception check. Test modules import the fixtures by name.

The one stand-in: AppTest runs scripts against a MagicMock of Streamlit's Runtime that has no session
manager, and streamlit-webrtc's `get_this_session_info` (which returns None "outside a live Streamlit
run", its own documented fallback) only catches the errors a missing runtime raises, not the mock's
AttributeError. `_webrtc_outside_server` makes it take that fallback; the component itself is real."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _navigation_mode(monkeypatch):
    """Keep Streamlit in st.navigation mode between AppTest runs, as a real server does (see the
    same fixture in tests/test_app.py for why)."""
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


@pytest.fixture(autouse=True)
def _webrtc_outside_server(monkeypatch):
    import streamlit_webrtc.component as component
    import streamlit_webrtc.shutdown as shutdown

    monkeypatch.setattr(component, "get_this_session_info", lambda: None)
    monkeypatch.setattr(shutdown, "get_this_session_info", lambda: None)


@pytest.fixture
def env(monkeypatch, tmp_path):
    """The app's database (returned: its URL) and data folder in tmp_path; no ICE servers."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("EMOTION_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("EMOTION_ICE_SERVERS", raising=False)
    return url


def ok(at):
    """The AppTest run raised nothing (else the exceptions' messages); returns it for chaining."""
    assert not at.exception, [e.value for e in at.exception]
    return at
