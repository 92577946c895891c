"""Every page, in both languages, at a desktop (1400 px) and a phone (390 px) width, in Debian's
chromium: no page scrolls sideways and no Streamlit exception shows. Also kept here: the People form
clears after an enrolment, the History timeline draws bars for rows inside one hour and names the
browser's time zone, and a group photo's results fit the page.

Screenshots go to `test-artifacts/pages/` (git-ignored; EMOTION_TEST_ARTIFACTS overrides the
folder), where CI keeps its output.
"""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.e2e import ui
from tests.e2e.harness import ROOT, AppServer, launch_chromium, require_browser

pytestmark = pytest.mark.browser

PASSWORD = "s3cret-passphrase"
PERSON = "Eileen Collins"
WIDTHS = (1400, 390)
PAGES = ("nav_photo", "nav_live", "video_nav", "sess_nav", "nav_people", "nav_history", "nav_settings", "nav_models")
LANGS = {"en": "English", "zh": "简体中文"}
BROWSER_TZ = "Asia/Shanghai"
ARTIFACTS = Path(os.environ.get("EMOTION_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "pages"


def _astronaut(path: Path, copies: int = 1) -> Path:
    from skimage import data

    face = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    if copies > 1:  # a "group": the astronaut side by side, smaller, so her label and face are crowded
        small = cv2.resize(face, (200, 200), interpolation=cv2.INTER_AREA)
        face = np.concatenate([small] * copies, axis=1)
    cv2.imwrite(str(path), face)
    return path


def _upload(page, path: Path) -> None:
    """Choose a file in the page's (first) uploader and wait until the app lists it."""
    ui.upload(page, [str(path)])
    page.locator('[data-testid="stFileChip"]').filter(has_text=path.name).first.wait_for(timeout=60_000)
    ui.wait_idle(page)


def _scrolls_sideways(page) -> dict:
    return page.evaluate("""() => {
        const d = document.scrollingElement;
        const main = document.querySelector('[data-testid="stMain"]');
        return {doc: d.scrollWidth - d.clientWidth,
                main: main ? main.scrollWidth - main.clientWidth : 0};
    }""")


def _settle(page) -> None:
    ui.wait_idle(page)
    # a page that loads models shows a spinner while the run goes on: wait for its real content
    page.locator('[data-testid="stSpinner"]').first.wait_for(state="hidden", timeout=180_000)
    ui.wait_idle(page)
    # layout after a resize: wait until two frames agree on the document's width
    last = None
    for _ in range(20):
        now = page.evaluate("() => [document.scrollingElement.scrollWidth, document.body.clientHeight]")
        if now == last:
            return
        last = now
        time.sleep(0.2)


def _collapse_sidebar(page) -> None:
    sidebar = page.locator('[data-testid="stSidebar"]')
    if sidebar.count() and sidebar.get_attribute("aria-expanded") == "true":
        button = page.locator('[data-testid="stSidebarCollapseButton"] button')
        if button.count():
            button.first.click()
            time.sleep(0.4)


def _expand_sidebar(page) -> None:
    nav = page.locator('[data-testid="stSidebarNav"]')
    deadline = time.time() + 60
    while time.time() < deadline:
        if nav.count() and nav.first.is_visible():
            return
        button = page.locator('[data-testid="stExpandSidebarButton"]')
        if button.count() and button.first.is_visible():
            try:  # a rerun can replace the button while it is clicked: find it again
                button.first.click(timeout=3_000)
            except Exception:  # noqa: BLE001 - playwright's TimeoutError
                pass
        time.sleep(0.4)
    raise AssertionError("the sidebar could not be opened again")


def _visible_traces(page, timeout: float = 30.0) -> list[dict]:
    """Type and total y of every trace of the Plotly charts shown now (waits for them to draw)."""
    deadline = time.time() + timeout
    while True:
        traces = page.evaluate("""() => Array.from(document.querySelectorAll('.js-plotly-plot'))
            .filter(el => el.offsetParent !== null)
            .flatMap(el => (el._fullData || el.data || []).map(tr => ({type: tr.type || "scatter",
                y: Array.from(tr.y || []).reduce((a, b) => a + (Number(b) || 0), 0)})))""")
        if traces or time.time() > deadline:
            return traces
        time.sleep(0.3)


def _set_language(page, lang: str) -> None:
    page.locator('[data-testid="stSidebar"]').get_by_role("combobox", name="Language / 语言").click()
    page.get_by_role("option", name=LANGS[lang], exact=True).click()
    ui.wait_idle(page)


def _check_page(page, lang: str, key: str, problems: list[str]) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        if width < 600:
            _collapse_sidebar(page)
        _settle(page)
        shot = ARTIFACTS / f"{lang}-{key.removeprefix('nav_')}-{width}.png"
        time.sleep(0.5)  # charts and tables lay themselves out after the run ends
        page.screenshot(path=str(shot), full_page=True)
        over = _scrolls_sideways(page)
        if over["doc"] > 0 or over["main"] > 0:
            problems.append(f"{lang} {key} at {width}px scrolls sideways by {over} ({shot.name})")
        errors = page.locator('[data-testid="stException"]')
        if errors.count():
            problems.append(f"{lang} {key} at {width}px shows an exception: {errors.first.inner_text()[:300]}")
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})
    _expand_sidebar(page)
    _settle(page)


def test_every_page_fits_in_both_languages_and_widths(tmp_path):
    chromium = require_browser()
    from playwright.sync_api import expect, sync_playwright

    from ui.i18n import t

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    photo = _astronaut(tmp_path / "astronaut.jpg")
    group = _astronaut(tmp_path / "group.jpg", copies=3)
    with AppServer(tmp_path) as app, sync_playwright() as pw:
        browser = launch_chromium(pw, chromium)
        page = None
        try:
            # a browser east of UTC: the History page must show its time zone, not UTC
            page = browser.new_page(viewport={"width": WIDTHS[0], "height": 900}, timezone_id=BROWSER_TZ)
            page.set_default_timeout(60_000)
            page.goto(app.url)
            ui.wait_idle(page)
            ui.register_and_login(page, "carol", PASSWORD)

            # People: enrol her; the form clears afterwards
            ui.goto_page(page, "People")
            ui.expect_text(page, re.escape(t("enrol_title", lang="en")))
            ui.fill(page, "Name", PERSON)
            _upload(page, photo)
            ui.click(page, "Enrol")
            ui.expect_text(page, re.escape(PERSON) + r".*enrolled")
            expect(page.get_by_label("Name", exact=True)).to_have_value("", timeout=20_000)
            expect(page.locator('[data-testid="stFileChip"]')).to_have_count(0)

            # Photo: a group of three, saved to the history (three rows inside one hour)
            ui.goto_page(page, "Photo")
            ui.expect_text(page, re.escape(t("photo_title", lang="en")))
            _upload(page, group)
            ui.expect_text(page, r"3 face\(s\) found", timeout=120)
            ui.expect_text(page, re.escape(t("photo_in_history", lang="en")), timeout=60)
            ui.wait_idle(page)
            problems: list[str] = []
            _check_page(page, "en", "photo-results", problems)  # the group's table, at both widths

            # History: the timeline at its default bucket draws visible bars
            ui.goto_page(page, "History")
            ui.expect_text(page, re.escape(t("date_range_local", lang="en", tz=BROWSER_TZ)))
            page.get_by_role("tab", name="Timeline").click()
            ui.wait_idle(page)
            traces = _visible_traces(page)
            assert traces and {tr["type"] for tr in traces} == {"bar"}, traces
            assert sum(tr["y"] for tr in traces) == 3, traces

            for lang in LANGS:
                _set_language(page, lang)
                for key in PAGES:
                    ui.goto_page(page, t(key, lang=lang))
                    _check_page(page, lang, key, problems)
            assert not problems, "\n".join(problems)
        except Exception:
            ui.report_failure(page, ARTIFACTS / "failure.png", app)
            raise
        finally:
            browser.close()
