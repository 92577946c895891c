"""Bad input through the upload page, in a real browser: every file of the generated corpus
(tests/corpus.py) is uploaded on the Photo page of a served app; each one gives a result or a clear
message, never a traceback, and the app still serves the next request (and a good photo at the end)."""
from __future__ import annotations

import re
import time

import pytest

from tests import corpus
from tests.e2e import ui
from tests.e2e.harness import AppServer, launch_chromium, require_browser

pytestmark = pytest.mark.browser

OUTCOMES = {
    "analysed": re.compile(r"\d+ face\(s\) found"),
    "message": re.compile(r"This file cannot be used: .{8,}"),
    # the uploader itself refuses extensions outside jpg/jpeg/png/webp/bmp, with its own message
    "refused": re.compile(r"(?i)(file type|not allowed|not supported)"),
}


def _outcome(page, timeout: float = 120.0) -> tuple[str, str]:
    deadline = time.time() + timeout
    text = ""
    while time.time() < deadline:
        ui.wait_idle(page)
        text = ui.text_of(page)
        if "Traceback" in text or page.locator('[data-testid="stException"]').count():
            return "crash", text
        for name, rx in OUTCOMES.items():
            m = rx.search(text)
            if m:
                return name, m.group(0)
        time.sleep(0.5)
    return "nothing", text[-500:]


#: extensions the Photo page's uploader accepts (others are refused by the uploader itself)
ACCEPTED = ("jpg", "jpeg", "png", "webp", "bmp")


def _accepted(name: str) -> bool:
    return name.rsplit(".", 1)[-1].lower() in ACCEPTED


def _expected_outcome(name: str, expect: str, got: str) -> str:
    """What the page must show for a corpus file: refused by the uploader (other extensions), else
    analysed (a face, an image), else the page's message (unusable); "image_or_error" may be either."""
    if not _accepted(name):
        return "refused"
    if expect in ("face", "image"):
        return "analysed"
    if expect == "error":
        return "message"
    return got if got in ("analysed", "message") else "analysed or message"


def _clear_uploader(page) -> None:
    """Remove the file shown in the uploader (its x button), as a person does before trying another."""
    for _ in range(3):
        buttons = page.locator('[data-testid="stFileChipDeleteBtn"] button, button[data-testid="stFileChipDeleteBtn"], [data-testid="stFileChip"] button[aria-label^="Remove"]')
        if buttons.count() == 0:
            break
        buttons.first.click()
        ui.wait_idle(page)
    ui.expect_text(page, "Upload a photo")


def test_every_corpus_file_through_the_upload_page(tmp_path):
    chromium = require_browser()
    from playwright.sync_api import sync_playwright

    files = []
    for name, data, expect in corpus.build():
        path = tmp_path / "corpus" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        files.append((path, expect))
    good = tmp_path / "good.png"
    good.write_bytes(next(d for n, d, _ in corpus.build() if n == "astronaut.png"))

    with AppServer(tmp_path) as app, sync_playwright() as pw:
        browser = launch_chromium(pw, chromium)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            page.set_default_timeout(60_000)
            page.goto(app.url)
            ui.wait_idle(page)
            ui.register_and_login(page, "uploader", "long enough password")
            ui.goto_page(page, "Photo")
            results = []
            for path, expect in files:
                _clear_uploader(page)
                page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
                outcome, detail = _outcome(page)
                results.append((path.name, expect, outcome, detail))
            bad = [(n, e, o, d) for n, e, o, d in results if o != _expected_outcome(n, e, o)]
            assert not bad, "\n".join(f"{n}: expected {e}, got {o}: {d[:300]}" for n, e, o, d in bad)
            assert len(results) == len(files)  # every file was tried, each with its exact outcome
            # the app still serves the next request, and a good photo still works
            _clear_uploader(page)
            page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(good))
            assert _outcome(page)[0] == "analysed"
            ui.expect_text(page, r"1 face\(s\) found")
        finally:
            browser.close()
        assert app._healthy(), "the server stopped answering its health check"
