"""The face step of the sign-in and Settings -> Security in the real app (streamlit AppTest: the
real app.py and pages, a real SQLite database; no browser, no camera -- the camera flows are in
tests/e2e/test_faceauth_signin.py). The one stand-in is tests/test_live_page.py's: AppTest's mocked
runtime has no session manager, so streamlit-webrtc is pointed at its own "outside a server" fallback.

While a sign-in waits for its face step the user is not signed in: only Login and Register exist as
pages (every other page is not even registered), and the session holds no user.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from tests.test_app import APP, TIMEOUT, _navigation_mode, button, ok, texts, titles  # noqa: F401
from tests.test_live_page import _webrtc_outside_server  # noqa: F401
from ui.i18n import t

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402

PASSWORD = "correct horse 1"
PROTECTED = ("photo", "live", "people", "history", "settings", "models")


@pytest.fixture
def env(monkeypatch, tmp_path):
    from emotion.auth import hash_password
    from emotion.faceauth import signin
    from emotion.store import open_store

    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("EMOTION_DATA_DIR", str(tmp_path / "data"))
    for var in ("EMOTION_FACEAUTH_FIXED_CHALLENGE", "EMOTION_TEST_MODE"):
        monkeypatch.delenv(var, raising=False)
    store = open_store(url)
    face = store.create_user("faye", hash_password(PASSWORD))
    plain = store.create_user("pat", hash_password(PASSWORD))
    codes = signin.enrol(store, face.id, np.random.default_rng(0).normal(size=(6, 128)).astype(np.float32))
    yield {"store": store, "face": face, "plain": plain, "codes": codes}
    store.close()


def _app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    return ok(at)


def _password(at: AppTest, name: str, password: str = PASSWORD) -> AppTest:
    at.text_input(key="login_name").set_value(name)
    at.text_input(key="login_password").set_value(password)
    button(at, t("login_button")).click().run()
    return ok(at)


def _registered_pages(at: AppTest) -> list[str]:
    with pytest.raises(ValueError) as err:
        at.switch_page("pages/photo.py")
    known = re.search(r"Known pages: (\[.*\])", str(err.value)).group(1)
    return sorted(Path(p).name for p in eval(known))  # noqa: S307


def test_a_correct_password_leads_to_the_face_step_and_no_page_is_reachable(env):
    at = _password(_app(), "faye")
    assert t("fa_step_title") in texts(at, "subheader")
    assert "auth_user" not in at.session_state
    assert _registered_pages(at) == ["login.py", "register.py"]
    for slug in PROTECTED:
        with pytest.raises(ValueError):
            at.switch_page(f"pages/{slug}.py")
    # a rerun (any widget) keeps the step, still without a user
    at.run()
    assert t("fa_step_title") in texts(ok(at), "subheader") and "auth_user" not in at.session_state


def test_without_the_factor_the_password_signs_in_and_is_audited(env):
    at = _password(_app(), "pat")
    assert at.session_state["auth_user"]["name"] == "pat"
    events = env["store"].recent_signins(env["plain"].id)
    assert [(e.result, e.method) for e in events] == [("success", "password")]


def test_a_recovery_code_replaces_the_face_step_once(env):
    at = _password(_app(), "faye")
    at.text_input(key="fa_code").set_value(env["codes"][2])
    button(at, t("fa_code_button")).click().run()
    assert ok(at).session_state["auth_user"]["name"] == "faye"
    assert env["store"].face_factor(env["face"].id).codes_left == 9
    # the same code a second time is refused and counts as a failed sign-in
    at = _password(_app(), "faye")
    before = env["store"].face_factor(env["face"].id).failures
    at.text_input(key="fa_code").set_value(env["codes"][2])
    button(at, t("fa_code_button")).click().run()
    assert t("fa_code_wrong") in texts(ok(at), "error")
    assert "auth_user" not in at.session_state
    assert env["store"].face_factor(env["face"].id).failures == before + 1


def test_a_wrong_password_of_an_existing_account_is_audited(env):
    _password(_app(), "faye", "wrong password")
    events = env["store"].recent_signins(env["face"].id)
    assert [(e.result, e.failed_factor) for e in events] == [("failure", "password")]


def test_cancel_returns_to_the_password(env):
    at = _password(_app(), "faye")
    button(at, t("fa_cancel")).click().run()
    assert "auth_pending_second_factor" not in ok(at).session_state
    assert at.text_input(key="login_password") is not None
    assert t("fa_step_title") not in texts(at, "subheader")


def test_production_refuses_the_fixed_challenge_setting(env, monkeypatch):
    monkeypatch.setenv("EMOTION_FACEAUTH_FIXED_CHALLENGE", "blink,smile")
    at = _password(_app(), "faye")
    assert t("fa_unsafe_setting") in texts(at, "error")
    assert "auth_user" not in at.session_state


def test_settings_security_lists_sign_ins_and_deletes_face_data(env):
    at = _password(_app(), "faye")
    at.text_input(key="fa_code").set_value(env["codes"][0])
    button(at, t("fa_code_button")).click().run()
    at.switch_page("pages/settings.py").run()
    ok(at)
    assert t("fa_security_title") in texts(at, "header")
    assert t("fa_codes_left", n=9) in texts(at, "caption")
    table = at.dataframe[0].value
    assert table[t("fa_col_method")].tolist()[0] == t("fa_method_password+recovery_code")
    # deleting needs the password again
    at.text_input(key="fa_delete_form_pw").set_value("not it")
    button(at, t("fa_delete")).click().run()
    assert t("fa_password_wrong") in texts(ok(at), "error")
    assert env["store"].face_factor(env["face"].id) is not None
    at.text_input(key="fa_delete_form_pw").set_value(PASSWORD)
    button(at, t("fa_delete")).click().run()
    ok(at)
    assert env["store"].face_factor(env["face"].id) is None
    assert env["store"].face_embeddings(env["face"].id).shape == (0, 128)


class _PassedRun:
    """Stands in for the camera's challenge run once it has passed (the camera itself is in
    tests/e2e/test_faceauth_signin.py): the page must sign the user in from its own run."""

    def __init__(self, challenge):
        from types import SimpleNamespace

        from emotion.faceauth.challenge import PASSED

        self.challenge = challenge
        self.stopped = False
        self._status = SimpleNamespace(state=PASSED, reason=None, calibrating=False, action=None, step=2,
                                       frames_used=12)

    def snapshot(self):
        return self._status

    def stop(self):
        self.stopped = True


def test_a_passed_face_check_signs_in_once_and_is_audited_once(env):
    from ui.faceauth_step import SESSION_KEY

    at = _password(_app(), "faye")
    run = _PassedRun(at.session_state[SESSION_KEY].challenge)
    at.session_state[SESSION_KEY] = run
    at.run()
    assert ok(at).session_state["auth_user"]["name"] == "faye"
    assert run.stopped
    at.switch_page("pages/photo.py")  # registered now (raises while the step waits)
    at.run()  # later runs do not audit the sign-in again
    events = env["store"].recent_signins(env["face"].id)
    assert [(e.result, e.method) for e in events] == [("success", "password+face")]
