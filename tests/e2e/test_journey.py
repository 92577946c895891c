"""The whole journey in a real browser: headless Debian chromium driven by playwright (driver only), the app
served by `streamlit run app.py`, the live camera over WebRTC with chromium's fake camera playing a video of
a real face, both inside a private network namespace (see harness.py and ../shared/recipes).

register -> log in -> enrol the astronaut -> Photo: her name and "happy" -> a close-up portrait of another
enrolled person (a face that fills half the frame, which the first photo detector missed) shows her name
and an emotion -> Live: frames come back
annotated with her name and an emotion, the live chart moves -> capture -> stop -> History: camera rows and
the capture are there, the CSV downloads -> log out -> a second user sees none of it.
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import cv2
import pytest

from emotion.store import open_store
from tests.e2e import ui
from tests.e2e.camera import face_frames, write_y4m
from tests.e2e.harness import AppServer, launch_chromium, netns, require_browser
from tests.photos import real_photo
from tests.waiting import wait_until

pytestmark = pytest.mark.browser

PASSWORD = "s3cret-passphrase"
PERSON = "Eileen Collins"
PORTRAIT_PERSON = "Portrait Person"
def _astronaut_jpeg(path: Path) -> Path:
    from skimage import data

    cv2.imwrite(str(path), cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    return path


def _chromium_in(ns: str, chromium: str, tmp: Path) -> str:
    """playwright talks to chromium over pipes, so chromium alone can be started inside the namespace."""
    wrapper = tmp / "chromium-in-netns"
    wrapper.write_text(f'#!/bin/sh\nexec ip netns exec {ns} {chromium} "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


def test_whole_journey(tmp_path):
    chromium = require_browser()
    from playwright.sync_api import sync_playwright

    photo = _astronaut_jpeg(tmp_path / "astronaut.jpg")
    # deepface_testset: img2 and img1 show the same person (master.csv says Yes); img1 is a close-up
    # portrait whose face covers half the image's shorter side
    enrol_photo, portrait = real_photo("deepface_testset/img2.jpg"), real_photo("deepface_testset/img1.jpg")
    video = write_y4m(tmp_path / "face.y4m", face_frames(60))
    with netns() as ns:
        app = AppServer(tmp_path, ns=ns, env={"EMOTION_ICE_SERVERS": "[]", "EMOTION_LIVE_HISTORY_PERIOD_S": "1"})
        with app, sync_playwright() as pw:
            browser = launch_chromium(pw, _chromium_in(ns, chromium, tmp_path), [
                "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                "--allow-loopback-in-peer-connection", f"--use-file-for-fake-video-capture={video}"])
            page = None
            try:
                ctx = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
                ctx.grant_permissions(["camera"])
                page = ctx.new_page()
                page.set_default_timeout(60_000)
                page.goto(app.url)
                ui.wait_idle(page)
                _journey(page, tmp_path, photo, app, (enrol_photo, portrait))
            except Exception:
                ui.report_failure(page, tmp_path / "failure.png", app)
                raise
            finally:
                browser.close()


def _journey(page, tmp: Path, photo: Path, app: AppServer, portrait_photos: tuple[Path, Path]) -> None:
    # --- register and log in ---------------------------------------------------------------------------
    ui.register_and_login(page, "alice", PASSWORD)

    # --- enrol the astronaut ---------------------------------------------------------------------------
    ui.goto_page(page, "People")
    ui.fill(page, "Name", PERSON)
    ui.upload(page, [str(photo)])
    ui.click(page, "Enrol")
    ui.expect_text(page, re.escape(PERSON) + r".*enrolled")

    # --- Photo: her name and "happy" -------------------------------------------------------------------
    ui.goto_page(page, "Photo")
    ui.upload(page, [str(photo)])
    text = ui.expect_text(page, r"1 face\(s\) found", timeout=120)
    ui.expect_text(page, re.escape(PERSON) + r".{0,40}happy")
    assert "unknown" not in text.split("found", 1)[1].split("Download", 1)[0].lower()

    # --- a close-up portrait of another enrolled person: her name and an emotion ----------------------------
    enrol_photo, portrait = portrait_photos
    ui.goto_page(page, "People")
    ui.fill(page, "Name", PORTRAIT_PERSON)
    ui.upload(page, [str(enrol_photo)])
    ui.click(page, "Enrol")
    ui.expect_text(page, re.escape(PORTRAIT_PERSON) + r".*enrolled")
    ui.goto_page(page, "Photo")
    ui.upload(page, [str(portrait)])
    text = ui.expect_text(page, r"1 face\(s\) found", timeout=120)
    ui.expect_text(page, re.escape(PORTRAIT_PERSON) + r".{0,40}(angry|disgust|fear|happy|sad|surprise|neutral)")
    assert "unknown" not in text.split("found", 1)[1].split("Download", 1)[0].lower()

    # --- Live: start the camera, annotated frames come back, the chart moves ---------------------------
    ui.goto_page(page, "Live")
    frame = _webrtc_frame(page)
    frame.get_by_role("button", name="START").click()
    # the page's readout (a fragment polling the analyser) names her with an emotion
    ui.expect_text(page, re.escape(PERSON) + r".{0,40}(angry|disgust|fear|happy|sad|surprise|neutral)", timeout=90)
    first = _frames_processed(page)
    wait_until(lambda: _frames_processed(page) > first, 30, f"new frames analysed after {first}", every=0.5)
    _assert_video_playing(page)
    chart_before = _chart_signature(page)
    wait_until(lambda: _chart_signature(page) != chart_before, 30, "the live chart to update", every=0.5)
    # capture
    ui.click(page, "Capture", exact=False)
    ui.expect_text(page, r"[Cc]aptured|saved", timeout=30)
    # stop
    frame.get_by_role("button", name="STOP").click()
    ui.wait_idle(page)

    # --- History: camera rows and the capture, CSV --------------------------------------------------------
    store = open_store(app.env["DATABASE_URL"])
    try:
        user = store.get_user_by_name("alice")
        wait_until(lambda: store.history_count(user.id, source="camera") >= 3, 30,
                   "three camera rows in the database", every=0.5)
        camera_rows = store.history_frame(user.id, source="camera")
        assert PERSON in set(camera_rows["person"]), camera_rows.head()
        assert store.list_snapshots(user.id), "the capture was not stored"
    finally:
        store.close()
    ui.goto_page(page, "History")
    ui.expect_text(page, "Distribution")
    # the tab labels come before Plotly's component has drawn: wait for the chart itself
    wait_until(lambda: page.locator('[data-testid="stPlotlyChart"]').count() >= 1, 60,
               "a Plotly chart on History", every=0.5)
    with page.expect_download() as dl:
        page.locator(".st-key-hist_csv").get_by_role("button").click()
    rows = list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_text(encoding="utf-8-sig"))))
    sources = {r.get("source") for r in rows}
    assert {"photo", "camera"} <= sources, sources
    assert any(r.get("person") == PERSON for r in rows)

    # --- log out; a second user sees none of it -----------------------------------------------------------
    ui.logout(page)
    ui.register_and_login(page, "bob", PASSWORD)
    ui.goto_page(page, "People")
    text = ui.expect_text(page, "Nobody enrolled yet")
    assert PERSON not in text
    ui.goto_page(page, "History")
    text = ui.expect_text(page, "history is empty")
    assert PERSON not in text


WEBRTC_IFRAME = 'iframe[src*="streamlit_webrtc"]'


def _webrtc_frame(page):
    """The streamlit-webrtc component's iframe (found by its URL; page.frames may not list it after an
    in-app navigation, a frame locator always finds it)."""
    frame = page.frame_locator(WEBRTC_IFRAME).first
    frame.get_by_role("button", name="START").wait_for(timeout=60_000)
    return frame


def _frames_processed(page) -> int:
    m = re.search(r"(\d+)\s+frames", ui.text_of(page))
    return int(m.group(1)) if m else 0


def _assert_video_playing(page) -> None:
    video = page.frame_locator(WEBRTC_IFRAME).first.locator("video").first
    ok = video.evaluate("v => v.readyState >= 2 && v.videoWidth > 0 && !v.paused")
    assert ok, "the annotated video is not playing in the page"


def _chart_signature(page) -> str:
    charts = page.locator('[data-testid="stPlotlyChart"]')
    return "|".join(charts.nth(i).inner_html()[:20000] for i in range(charts.count()))
