"""The Sessions and Video pages' session parts through streamlit's AppTest (the real app.py and pages,
a fresh SQLite file, the real engine):

* the Sessions page renders a report without building its HTML export (plotly.js inlined, megabytes);
  the export is made when its button's callable is called, as a click does;
* on the Video page the classroom session is chosen before the analysis, and the video's rows are
  saved once, into that session, whatever is chosen afterwards (with "save history" on they used to
  be saved a second time without a session).
"""
from __future__ import annotations

import io
import os
import time
from datetime import datetime, timedelta, timezone

import pytest
import streamlit

from tests.test_app import PASSWORD, _navigation_mode, app, ok, register  # noqa: F401
from ui.i18n import t

T0 = datetime(2026, 3, 3, 9, 0, tzinfo=timezone.utc)


def _store():
    from emotion.store import open_store

    return open_store(os.environ["DATABASE_URL"])


def test_the_report_renders_without_building_its_html_export(app, monkeypatch):  # noqa: F811
    from emotion.live import make_row
    from emotion.records import EMOTIONS, Box, FaceRecord
    from emotion.sessions import export
    from ui import sessions_report

    made = []
    real = export.html_report
    monkeypatch.setattr(export, "html_report", lambda *a, **k: made.append(1) or real(*a, **k))

    at = app()
    register(at, "teacher", PASSWORD)
    store = _store()
    try:
        uid = store.get_user_by_name("teacher").id
        s = store.start_session(uid, "Maths <3B>", time=T0)
        scores = [0.05] * len(EMOTIONS)
        scores[EMOTIONS.index("happy")] = 0.7
        rows = [make_row(FaceRecord(Box(10, 10, 60, 60), 0.9, scores=scores, track_id=1), T0 + timedelta(seconds=i),
                         session_id=s.id) for i in range(12)]
        store.add_history(uid, rows, source="camera")
        info = store.end_session(uid, s.id, time=T0 + timedelta(seconds=12))
    finally:
        store.close()

    at.switch_page("pages/sessions.py").run()
    ok(at).run()
    assert any("Maths" in str(h.value) for h in at.header), [h.value for h in at.header]
    assert made == [], "the HTML export was built on a render"

    # what the download button calls on a click (on a thread of its own, outside the page's run)
    from emotion.sessions import build_report

    store = _store()
    try:
        report = build_report(store.session_frame(uid, s.id), started=info.started, duration_s=12.0)
    finally:
        store.close()
    make = sessions_report.html_download(report, info, T0 + timedelta(hours=1))
    assert made == []
    html = make().decode("utf-8")
    assert made == [1] and "Maths &lt;3B&gt;" in html and "<3B>" not in html and "Plotly" in html


class _Upload(io.BytesIO):
    """What st.file_uploader returns (an UploadedFile): bytes with a name, a size and an id."""

    def __init__(self, data: bytes, name: str) -> None:
        super().__init__(data)
        self.name, self.size, self.file_id, self.type = name, len(data), f"fake-{name}", "video/mp4"


@pytest.fixture
def clip_bytes(tmp_path) -> bytes:
    from emotion.video import synth

    path = synth.write_clip(tmp_path / "lesson.mp4", synth.moving_face_frames(30, period=30), 10.0)
    return path.read_bytes()


def test_the_video_s_session_is_chosen_before_the_analysis_and_its_rows_saved_once(app, monkeypatch,  # noqa: F811
                                                                                    clip_bytes):
    at = app()
    register(at, "teacher", PASSWORD)   # "save history" is on by default
    store = _store()
    try:
        uid = store.get_user_by_name("teacher").id
        store.end_session(uid, store.start_session(uid, "Old one").id)
        lesson = store.start_session(uid, "Maths 3B")

        upload: list = [None]
        monkeypatch.setattr(streamlit, "file_uploader", lambda *a, **k: upload[0])
        at.switch_page("pages/video.py").run()
        ok(at)
        # offered before any upload or analysis: the open session only (the ended one is not)
        choice = at.selectbox(key="video_session")
        assert choice.options == [t("sess_video_none"), "Maths 3B"]
        choice.set_value(lesson.id).run()

        upload[0] = _Upload(clip_bytes, "lesson.mp4")
        ok(at.run())
        next(b for b in at.button if b.key == "video_start").click().run()
        deadline = time.time() + 240
        while time.time() < deadline and store.history_count(uid) == 0:
            ok(at.run())
        saved = store.history_count(uid)
        assert saved > 0, "the video's rows were not saved"
        assert store.history_count(uid, session_id=lesson.id) == saved   # all of them in the session

        # choosing otherwise afterwards, and more reruns, save nothing more
        at.selectbox(key="video_session").set_value(None).run()
        ok(at.run())
        assert store.history_count(uid) == saved
        assert store.history_count(uid, session_id=lesson.id) == saved
    finally:
        store.close()
