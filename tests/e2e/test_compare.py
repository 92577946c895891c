"""The Models page's Compare tab in a real browser: three photos uploaded (the astronaut twice - as
astronaut_0001.png and, mirrored, astronaut_0002.png, so the file names mark them as one person - and a
real portrait of someone else from ../shared/data/photos), the comparison runs with its progress bar,
the heatmaps appear with right/wrong marks and greyed models, and "Use this combination" saves the
detector and recogniser in the user's settings, which come back at the next sign-in."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e import ui
from tests.e2e.harness import AppServer, launch_chromium, require_browser
from tests.photos import real_photo

pytestmark = pytest.mark.browser

PORTRAIT = "deepface_testset/img1.jpg"


def _photos(tmp: Path) -> list[str]:
    import cv2
    from skimage import data

    portrait = real_photo(PORTRAIT)
    bgr = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    a, m = tmp / "astronaut_0001.png", tmp / "astronaut_0002.png"
    cv2.imwrite(str(a), bgr)
    cv2.imwrite(str(m), bgr[:, ::-1])
    return [str(a), str(m), str(portrait)]


def _choose(page, label: str, option: str) -> None:
    """Pick `option` in the selectbox `label` (its list does not always open on the first click)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    box = page.get_by_role("combobox", name=label, exact=True)
    choice = page.get_by_role("option", name=option, exact=True)
    for _ in range(3):
        box.click()
        try:
            choice.wait_for(timeout=3000)
            break
        except PlaywrightTimeout:
            continue
    choice.click()
    ui.wait_idle(page)


def _selected(page, label: str) -> str:
    """What the selectbox `label` shows (its input's value, or the text drawn in its place)."""
    box = page.get_by_role("combobox", name=label, exact=True)
    value = box.input_value()
    return value or page.locator('[data-testid="stSelectbox"]').filter(has=box).inner_text()


def test_compare_three_photos_and_use_a_combination(tmp_path):
    chromium = require_browser()
    from playwright.sync_api import sync_playwright

    photos = _photos(tmp_path)
    # an empty DeepFace home: DeepFace's models are surely unavailable, whatever this machine has
    env = {"DEEPFACE_HOME": str(tmp_path / "deepface_home")}
    with AppServer(tmp_path, env=env) as app, sync_playwright() as pw:
        browser = launch_chromium(pw, chromium)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.set_default_timeout(60_000)
            page.goto(app.url)
            ui.wait_idle(page)
            ui.register_and_login(page, "comparer", "long enough password")
            ui.goto_page(page, "Models")
            page.get_by_role("tab", name="Compare on my photos").click()
            ui.wait_idle(page)
            ui.upload(page, photos)
            ui.expect_text(page, "astronaut_0002.png")
            ui.click(page, "Compare")
            ui.expect_text(page, r"Pairs decided correctly", timeout=600)
            assert "Traceback" not in ui.text_of(page)
            assert page.locator('[data-testid="stException"]').count() == 0

            plots = page.locator(".js-plotly-plot")
            assert plots.count() == 4  # the overview and one heatmap per pair (3 photos: 3 pairs)
            cells = page.locator(".js-plotly-plot text").all_text_contents()
            assert sum("✓" in c for c in cells) >= 3 * 3  # Dlib is right on every pair with the good detectors
            assert any(c.strip() == "n/a" for c in cells)  # DeepFace's recognisers: greyed
            text = ui.text_of(page)
            assert "arcface_weights.h5" in text  # the file to place in DEEPFACE_HOME
            assert re.search(r"Best here: \S+ \+ Dlib", text)

            # pick dlib's detector (not the configured default), so the saved change shows
            _choose(page, "Detector", "dlib")
            ui.click(page, "Use this combination")
            ui.expect_text(page, r"Saved to your account: photos and the live camera now use dlib \+ Dlib")
            # kept in the account: sign out, sign in again, and the Settings page shows the choice
            ui.logout(page)
            ui.login(page, "comparer", "long enough password")
            ui.goto_page(page, "Settings")
            detector = _selected(page, "Face detector")
            recognizer = _selected(page, "Recogniser")
            assert re.search(r"\bdlib\b", detector), detector  # the default detector is not dlib
            assert "Dlib" in recognizer, recognizer
        finally:
            browser.close()
