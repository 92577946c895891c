"""Small playwright helpers for driving a Streamlit app the way a person does (labels, buttons, links)."""
from __future__ import annotations

import re
import time


def wait_idle(page, timeout: float = 120.0) -> None:
    """Wait until the app has rendered and no script run is in progress."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout * 1000)
    deadline = time.time() + timeout
    calm = 0
    while time.time() < deadline:
        running = page.locator('[data-testid="stStatusWidget"]').filter(has_text=re.compile("Running|Stop"))
        if running.count() == 0:
            calm += 1
            if calm >= 3:
                return
        else:
            calm = 0
        time.sleep(0.25)
    raise TimeoutError("the Streamlit app stayed busy")


def goto_page(page, title: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title, exact=True).click()
    wait_idle(page)


def fill(page, label: str, value: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(value)


def click(page, name: str, *, exact: bool = True, scope=None) -> None:
    (scope or page).get_by_role("button", name=name, exact=exact).first.click()
    wait_idle(page)


def upload(page, paths, *, index: int = 0) -> None:
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').nth(index).set_input_files(paths)
    wait_idle(page)


def text_of(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def expect_text(page, pattern: str | re.Pattern, timeout: float = 60.0) -> str:
    """Wait until the main area's text matches; returns that text."""
    rx = re.compile(pattern) if isinstance(pattern, str) else pattern
    deadline = time.time() + timeout
    last = ""
    while time.time() < deadline:
        last = text_of(page)
        if rx.search(last):
            return last
        time.sleep(0.3)
    raise AssertionError(f"{rx.pattern!r} did not appear; the page says:\n{last[-2000:]}")


def register_and_login(page, name: str, password: str) -> None:
    goto_page(page, "Register")
    fill(page, "User name", name)
    fill(page, "Password", password)
    fill(page, "Confirm password", password)
    click(page, "Create account")
    # registration may sign the user in directly or send them to the login page
    nav = page.locator('[data-testid="stSidebarNav"]')
    deadline = time.time() + 60
    while time.time() < deadline:
        if nav.get_by_role("link", name="Photo", exact=True).count():
            return
        if "Already registered?" not in text_of(page) and page.get_by_label("User name", exact=True).count() \
                and page.get_by_role("button", name="Log in", exact=True).count():
            login(page, name, password)
            return
        time.sleep(0.3)
    raise AssertionError("registration led neither to the app nor to the login form:\n" + text_of(page)[-1500:])


def login(page, name: str, password: str) -> None:
    if page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Log in", exact=True).count():
        goto_page(page, "Log in")
    fill(page, "User name", name)
    fill(page, "Password", password)
    click(page, "Log in")
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Photo", exact=True).wait_for(
        timeout=60_000)


def logout(page) -> None:
    page.locator('[data-testid="stSidebar"]').get_by_role("button", name=re.compile("Log out")).click()
    wait_idle(page)
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Log in", exact=True).wait_for(
        timeout=30_000)


def report_failure(page, png, app) -> None:
    """On a failed browser test, before re-raising: a full-page screenshot to `png` when there is a page
    (best effort, never hiding the failure) and the app server's log."""
    try:
        page.screenshot(path=str(png), full_page=True)
    except Exception:  # noqa: BLE001 - no page yet, or the browser is gone
        pass
    print(app.log())
