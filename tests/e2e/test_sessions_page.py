"""A classroom session in a real browser: headless Debian chromium (playwright's driver only), the app served by
`streamlit run app.py`, the live camera over WebRTC with chromium's fake camera playing a video of a real face,
both in a private network namespace (see harness.py and test_journey.py).

register -> Live: name and start a session, switch "Many faces" (the classroom scan) on, start the camera ->
the page says the classroom scan runs, rows filed under the session reach the database (the face is found
by the rolling scan) -> switch it off again (the note goes) -> end the session, stop the camera ->
Sessions: the session is listed, its report opens with its charts and the face as "unknown 1", the CSV
and the HTML report download with the session's rows.
"""
from __future__ import annotations

import csv
import io
import re
import time
from pathlib import Path

import pytest

from emotion.store import open_store
from tests.e2e import ui
from tests.e2e.camera import face_frames, write_y4m
from tests.e2e.harness import AppServer, launch_chromium, netns, require_browser
from tests.e2e.test_journey import _chromium_in, _webrtc_frame

pytestmark = pytest.mark.browser

PASSWORD = "s3cret-passphrase"
SESSION = "Maths 3B <Tuesday>"


def test_a_session_on_the_live_camera_and_its_report(tmp_path):
    chromium = require_browser()
    from playwright.sync_api import sync_playwright

    video = write_y4m(tmp_path / "face.y4m", face_frames(60))
    with netns() as ns:
        app = AppServer(tmp_path, ns=ns, env={"EMOTION_ICE_SERVERS": "[]", "EMOTION_LIVE_HISTORY_PERIOD_S": "1"})
        with app, sync_playwright() as pw:
            browser = launch_chromium(pw, _chromium_in(ns, chromium, tmp_path), [
                "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                "--allow-loopback-in-peer-connection", f"--use-file-for-fake-video-capture={video}"])
            try:
                ctx = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
                ctx.grant_permissions(["camera"])
                page = ctx.new_page()
                page.set_default_timeout(60_000)
                page.goto(app.url)
                ui.wait_idle(page)
                _session(page, app)
            except Exception:
                try:
                    page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
                except Exception:  # noqa: BLE001
                    pass
                print(app.log())
                raise
            finally:
                browser.close()


def _session(page, app: AppServer) -> None:
    ui.register_and_login(page, "teacher", PASSWORD)
    ui.goto_page(page, "Live")
    frame = _webrtc_frame(page)
    ui.fill(page, "Session name", SESSION)
    ui.click(page, "Start session", exact=False)
    ui.expect_text(page, re.escape(SESSION) + r".{0,5} is running")
    many = page.locator(".st-key-live_many_faces")
    assert "Many faces: " not in ui.text_of(page)
    many.get_by_text("Many faces (a whole class)", exact=True).click()
    ui.wait_idle(page)
    assert many.locator("input").is_checked()
    ui.expect_text(page, r"Many faces: 4 windows of 200 px scanned a frame, and up to 3 more")
    frame.get_by_role("button", name="START").click()

    store = open_store(app.env["DATABASE_URL"])
    try:
        user = store.get_user_by_name("teacher")
        [sess] = store.list_sessions(user.id)
        assert (sess.name, sess.state) == (SESSION, "running")
        deadline = time.time() + 120
        while time.time() < deadline and store.history_count(user.id, session_id=sess.id) < 4:
            time.sleep(1)
        assert store.history_count(user.id, session_id=sess.id) >= 4, "no camera rows filed under the session"
        ui.expect_text(page, r"Many faces: 4 windows")          # still on while the camera plays
        many.get_by_text("Many faces (a whole class)", exact=True).click()
        ui.wait_idle(page)
        assert not many.locator("input").is_checked()
        deadline = time.time() + 30
        while time.time() < deadline and "Many faces: " in ui.text_of(page):
            time.sleep(0.5)
        assert "Many faces: " not in ui.text_of(page), "the classroom scan is still on"

        ui.click(page, "End session", exact=False)
        ui.expect_text(page, re.escape(SESSION) + r".{0,5} ended")
        frame.get_by_role("button", name="STOP").click()
        ui.wait_idle(page)
        ended = store.get_session(user.id, sess.id)
        assert ended.state == "ended"
        rows = store.history_count(user.id, session_id=sess.id)
    finally:
        store.close()

    for _ in range(3):   # a click landing while the Live page's fragment reruns can be lost: click again
        ui.goto_page(page, "Sessions")
        try:
            ui.expect_text(page, "Report: " + re.escape(SESSION), timeout=20)
            break
        except AssertionError:
            continue
    ui.expect_text(page, "Report: " + re.escape(SESSION))
    text = ui.expect_text(page, r"people seen.*\n(.|\n)*Moments where the class changed most(.|\n)*"
                                r"Emotions over time, per person")
    assert re.search(r"Started \d{4}-\d\d-\d\d \d\d:\d\d UTC · \d+:\d\d · [1-9]\d* people seen · [1-9]\d* rows", text), \
        text[-1500:]
    charts = page.locator('[data-testid="stPlotlyChart"]')
    charts.nth(3).wait_for(timeout=30_000)   # shares, class means, distribution, a person's timeline
    assert charts.count() == 4 and "unknown 1" in charts.nth(0).inner_html(), "the report's charts are missing"
    with page.expect_download() as dl:
        page.locator(".st-key-sess_csv").get_by_role("button").click()
    lines = list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_text(encoding="utf-8-sig"))))
    assert len(lines) >= rows and {r["session"] for r in lines} == {SESSION}
    people = {r["person"] for r in lines}   # the astronaut is not enrolled: unknown, one name per track
    assert "unknown 1" in people and all(re.fullmatch(r"unknown \d+", p) for p in people), people
    with page.expect_download() as dl:
        page.locator(".st-key-sess_html").get_by_role("button").click()
    html = Path(dl.value.path()).read_text(encoding="utf-8")
    assert "Maths 3B &lt;Tuesday&gt;" in html and "<Tuesday>" not in html
