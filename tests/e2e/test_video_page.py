"""The Video page in a real browser: upload a short clip made here (the astronaut crossing the frame,
PyAV, never committed), start the analysis, watch the progress bar run and finish, then see the
per-person timeline, the segments and both download buttons. Nothing is mocked."""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from tests.e2e import ui
from tests.e2e.harness import AppServer, launch_chromium, require_browser

pytestmark = pytest.mark.browser


def test_upload_a_clip_watch_progress_and_see_the_results(tmp_path):
    chromium = require_browser()
    from playwright.sync_api import sync_playwright

    from emotion.video import synth

    clip = synth.write_clip(tmp_path / "lesson.mp4", synth.moving_face_frames(8 * 30, period=120), 30.0)

    with AppServer(tmp_path) as app, sync_playwright() as pw:
        browser = launch_chromium(pw, chromium)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 1100})
            page.set_default_timeout(60_000)
            page.goto(app.url)
            ui.wait_idle(page)
            ui.register_and_login(page, "teacher", "long enough password")
            ui.goto_page(page, "Video")
            ui.expect_text(page, "Analyse a video")
            # every frame: 240 samples, long enough to see the progress bar on any machine
            page.locator('[data-testid="stRadio"]').first.get_by_text("every frame", exact=True).click()
            ui.wait_idle(page)
            ui.upload(page, str(clip))
            ui.click(page, "Analyse the video", exact=False)
            seen = ui.expect_text(page, re.compile(r"\d+ frames analysed"), timeout=120)
            assert "Traceback" not in seen
            assert page.locator('[data-testid="stProgress"]').count() == 1
            ui.expect_text(page, "Emotions over time, per person", timeout=300)
            ui.wait_idle(page)
            page.locator('[data-testid="stPlotlyChart"]').nth(1).wait_for(timeout=60_000)
            text = ui.text_of(page)
            assert page.locator('[data-testid="stProgress"]').count() == 0  # the bar finished and went
            assert "Traceback" not in text and page.locator('[data-testid="stException"]').count() == 0
            assert page.locator('[data-testid="stPlotlyChart"]').count() == 2  # timeline + distribution
            assert re.search(r"Eileen Collins|unknown #1", text)
            assert "Segments" in text
            # click a point of the timeline (the bottom of the plot, where the unlikely emotions run):
            # that moment of the video appears under the chart
            drag = page.locator('[data-testid="stPlotlyChart"]').first.locator(".nsewdrag").first
            box = drag.bounding_box()
            page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.97)
            page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.97)
            ui.expect_text(page, re.compile(r"The video at 0:0\d"), timeout=60)
            assert page.locator('[data-testid="stImage"]').count() == 1
            for key in ("video_csv", "video_mp4"):
                assert page.locator(f".st-key-{key}").get_by_role("button").count() == 1, key
            # the CSV: one row per analysed frame (every frame of 8 s at 30 fps, one face)
            with page.expect_download() as dl:
                page.locator(".st-key-video_csv").get_by_role("button").click()
            rows = list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_text(encoding="utf-8"))))
            assert len(rows) == 240 and rows[0]["time_s"] == "0.000" and float(rows[-1]["time_s"]) > 7.9
        except Exception:
            page.screenshot(path=str(tmp_path / "video-page.png"), full_page=True)
            print("screenshot:", tmp_path / "video-page.png")
            raise
        finally:
            browser.close()
        assert app.proc.poll() is None, "the server died"
