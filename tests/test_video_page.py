"""The Video page through streamlit's AppTest (the real app.py and pages on a fresh SQLite file):
it is in the navigation, renders its uploader and options, and has no exception. The upload, the
progress bar and the results are driven in a real browser (tests/e2e/test_video_page.py)."""
from __future__ import annotations

from tests.test_app import PASSWORD, _navigation_mode, app, ok, register, texts, titles  # noqa: F401
from ui.i18n import t


def test_the_video_page_renders_with_its_options(app):  # noqa: F811
    at = app()
    register(at, "dora", PASSWORD)
    at.switch_page("pages/video.py").run()
    assert titles(ok(at)) == [t("video_title")]
    assert t("video_hint") in texts(at, "info")
    assert at.radio(key="video_rate").value == 5
    assert at.radio(key="video_mode").options == [t("video_mode_fast"), t("video_mode_accurate")]
