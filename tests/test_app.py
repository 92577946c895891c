"""The Streamlit app, driven by streamlit.testing.v1.AppTest (the real app.py and pages, a real
SQLite database in tmp_path, the real engine; no browser).

AppTest runs are slow-ish (the first photo loads the models), so the flows are grouped into a few
tests; the Analyzer is cached per process (st.cache_resource) and shared by all of them.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
FER_CNN = ROOT / "models" / "fer_cnn.onnx"
TIMEOUT = 240  # the first analysis loads every model on a busy 2-core machine

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402

from ui.i18n import EN, ZH, t  # noqa: E402

PASSWORD = "correct horse 1"


@pytest.fixture(autouse=True)
def _navigation_mode(monkeypatch, request):
    """Keep Streamlit in st.navigation mode between AppTest runs.

    A folder named ``pages/`` next to the main script makes Streamlit start in its old multipage
    mode (every pages/*.py is a page of its own) until the first st.navigation call switches that
    off for the whole process (a class attribute). A real server keeps that switch; AppTest resets
    it before every run, so its second run would execute the current page script alone (the pages'
    `ensure_gate` then reruns through app.py, but widget values set by the test for that run are
    lost on the way). This restores the server's behaviour; nothing of the app is replaced.
    `test_old_multipage_mode_run_goes_through_the_gate` covers the other case."""
    if "old_multipage" in request.node.name:
        return
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


@pytest.fixture
def app(monkeypatch, tmp_path):
    """A factory of AppTests of app.py on a fresh SQLite database."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'app.db'}")
    monkeypatch.setenv("EMOTION_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("EMOTION_SESSION_TIMEOUT_MIN", raising=False)
    monkeypatch.delenv("EMOTION_SESSION_TIMEOUT_MINUTES", raising=False)

    def make() -> AppTest:
        at = AppTest.from_file(APP, default_timeout=TIMEOUT)
        at.run()
        assert not at.exception, at.exception
        return at

    return make


def texts(at: AppTest, kind: str) -> list[str]:
    return [str(e.value) for e in getattr(at, kind)]


def button(at: AppTest, label: str):
    for b in at.button:
        if b.label == label:
            return b
    raise AssertionError(f"no button {label!r} in {[b.label for b in at.button]}")


def titles(at: AppTest) -> list[str]:
    return texts(at, "title")


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def register(at: AppTest, name: str, password: str, confirm: str | None = None) -> AppTest:
    at.switch_page("pages/register.py").run()
    assert titles(ok(at)) == [t("register_title")]
    at.text_input(key="register_name").set_value(name)
    at.text_input(key="register_password").set_value(password)
    at.text_input(key="register_confirm").set_value(password if confirm is None else confirm)
    button(at, t("register_button")).click().run()
    return ok(at)


def login(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="login_name").set_value(name)
    at.text_input(key="login_password").set_value(password)
    button(at, t("login_button")).click().run()
    return ok(at)


def fer_cnn_provisional() -> bool:
    """True while models/fer_cnn.json marks the weights as a provisional (mid-training) checkpoint."""
    import json

    try:
        return bool(json.loads(FER_CNN.with_suffix(".json").read_text()).get("provisional"))
    except (OSError, ValueError):
        return False


def astronaut_png() -> bytes:
    import cv2
    from skimage import data

    ok_, buf = cv2.imencode(".png", cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    assert ok_
    return buf.tobytes()


# -------------------------------------------------------------------------------------------------
# labels


def test_both_languages_have_the_same_labels_and_every_used_key_exists():
    assert set(EN) == set(ZH)
    assert all(v.strip() for v in ZH.values())
    used: set[str] = set()
    for path in [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]:
        used |= set(re.findall(r'\bt\("([a-z0-9_]+)"(?!\s*\+)', path.read_text(encoding="utf-8")))
    # keys built at run time: t("emo_" + e), t("source_" + s), t("per_" + g), t("style_" + s), t("chart_" + k)
    from emotion.records import EMOTIONS

    used |= {f"emo_{e}" for e in EMOTIONS} | {"source_photo", "source_camera", "source_video"}
    used |= {"per_minute", "per_hour", "per_day", "style_area", "style_lines", "chart_bar", "chart_pie"}
    missing = sorted(k for k in used if k not in EN)
    assert not missing, missing
    assert t("nav_login", lang="zh") == "登录" and t("photo_caption", lang="en", n=3) == "3 face(s) found"


def test_markdown_escaping_of_user_text():
    from ui.text import md

    assert md("**bold** [x](http://e.vil) <b>") == r"\*\*bold\*\* \[x\]\(http\://e\.vil\) \<b\>"
    assert md("张伟") == "张伟"


# -------------------------------------------------------------------------------------------------
# the gate


def test_logged_out_visitor_gets_only_login_and_register(app):
    at = app()
    assert titles(at) == [t("login_title")]
    # the signed-in pages are not even registered for a visitor
    with pytest.raises(ValueError) as err:
        at.switch_page("pages/photo.py")
    known = re.search(r"Known pages: (\[.*\])", str(err.value)).group(1)
    assert sorted(Path(p).name for p in re.findall(r"[\w./-]+\.py", known)) == ["login.py", "register.py"]
    assert not at.file_uploader
    at.switch_page("pages/register.py").run()
    assert titles(ok(at)) == [t("register_title")]


def test_language_switch_changes_labels(app):
    at = app()
    at.selectbox(key="lang").set_value("zh").run()
    assert titles(ok(at)) == ["登录"]
    assert t("login_button", lang="zh") in [b.label for b in at.button]
    at.selectbox(key="lang").set_value("en").run()
    assert titles(ok(at)) == ["Log in"]


def test_register_validation_messages_keep_the_typed_values(app):
    at = app()
    register(at, "alice", "short")
    assert texts(at, "error") == [EN["err.auth.password_short"].format(min=8)]
    assert at.text_input(key="register_name").value == "alice"  # the form kept what was typed
    assert titles(at) == [t("register_title")]

    register(at, "alice", PASSWORD, PASSWORD + "x")
    assert texts(at, "error") == [EN["err.auth.password_mismatch"]]

    register(at, "bad name!", PASSWORD)
    assert texts(at, "error") == [EN["err.auth.username_spaces"]]
    register(at, "bad#name", PASSWORD)
    assert texts(at, "error") == [EN["err.auth.username_chars"]]
    assert titles(at) == [t("register_title")]


def test_engine_errors_follow_the_language(app):
    """Sign-up and sign-in refusals come from the engine as codes; in 简体中文 mode the page shows
    them in Chinese (they stayed English before)."""
    at = app()
    at.selectbox(key="lang").set_value("zh").run()
    at.switch_page("pages/register.py").run()
    at.text_input(key="register_name").set_value("alice")
    at.text_input(key="register_password").set_value(PASSWORD)
    at.text_input(key="register_confirm").set_value(PASSWORD + "x")
    button(at, t("register_button", lang="zh")).click().run()
    assert texts(ok(at), "error") == [ZH["err.auth.password_mismatch"]]
    at.text_input(key="register_password").set_value("short")
    at.text_input(key="register_confirm").set_value("short")
    button(at, t("register_button", lang="zh")).click().run()
    assert texts(ok(at), "error") == [ZH["err.auth.password_short"].format(min=8)]

    at.switch_page("pages/login.py").run()
    at.text_input(key="login_name").set_value("nobody")
    at.text_input(key="login_password").set_value(PASSWORD)
    button(at, t("login_button", lang="zh")).click().run()
    assert texts(ok(at), "error") == [ZH["err.auth.wrong_credentials"]]


CODE_RAISE = r'(?:Error|Taken|NotFound|Unavailable|InvalidName)\((?:code=)?"((?:auth|store|image)\.[a-z_]+)"'


def test_every_engine_error_code_has_both_labels():
    """Each code of emotion.errors.MESSAGES, and each code raised in the engine's source, has an
    English and a Chinese label; no label is left for a code that no longer exists."""
    from emotion.errors import MESSAGES

    raised = set()
    for path in (ROOT / "emotion").rglob("*.py"):
        raised |= set(re.findall(CODE_RAISE, path.read_text()))
    raised |= {"store.unavailable", "auth.locked", "auth.locked_later"}  # raised through defaults
    assert raised <= set(MESSAGES), raised - set(MESSAGES)
    labels = {k[len("err."):] for k in EN if k.startswith("err.")}
    assert labels == set(MESSAGES), labels ^ set(MESSAGES)
    assert {k for k in ZH if k.startswith("err.")} == {f"err.{c}" for c in MESSAGES}


def test_bad_files_lockout_and_outage_are_translated():
    from datetime import datetime, timedelta, timezone

    from emotion.errors import AccountLocked, StoreUnavailable
    from emotion.imageio import ImageError, load_image
    from ui.i18n import error_text

    with pytest.raises(ImageError) as err:
        load_image(b"%PDF-1.4 not a picture")
    assert err.value.code == "image.pdf" and "PDF" in str(err.value)
    assert error_text(err.value, "zh") == ZH["err.image.pdf"]
    with pytest.raises(ImageError) as err:
        load_image(b"\x89PNG" + b"0" * 100, max_bytes=10)
    assert error_text(err.value, "zh") == "文件太大：0.0 MB（上限 0 MB）"
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    locked = AccountLocked(now + timedelta(minutes=14, seconds=1), now)
    assert error_text(locked, "zh") == ZH["err.auth.locked"].format(minutes=15)
    assert error_text(locked, "en") == EN["err.auth.locked"].format(minutes=15)
    assert error_text(StoreUnavailable(detail="refused"), "zh") == ZH["err.store.unavailable"]
    assert error_text(ValueError("plain"), "zh") == "plain"  # untyped errors pass through


def test_database_down_is_a_plain_message(monkeypatch, tmp_path):
    # port 1 on loopback: connection refused at once
    monkeypatch.setenv("DATABASE_URL", "mysql+pymysql://root@127.0.0.1:1/nothing")
    monkeypatch.setenv("EMOTION_DATA_DIR", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    ok(at)
    assert titles(at) == [t("login_title")]
    assert texts(at, "error") == [t("db_unreachable")]
    login(at, "alice", PASSWORD)
    assert titles(at) == [t("login_title")]
    assert texts(at, "error") == [t("db_unreachable")]  # said once per run, never a traceback


# -------------------------------------------------------------------------------------------------
# a user's session: register, log out, log in, photo, history, expiry


def test_register_login_photo_history_and_expiry(app, tmp_path):
    at = app()
    register(at, "alice", PASSWORD)
    assert titles(at) == [t("photo_title")], (titles(at), texts(at, "error"))
    assert at.session_state["auth_user"]["name"] == "alice"

    # log out -> login page; a wrong password gives the generic message; the right one the Photo page
    button(at, t("logout")).click().run()
    ok(at)
    assert "auth_user" not in at.session_state
    # (AppTest stays on the page last named by switch_page, register.py; a browser falls back to
    # the default page, Login)
    at.switch_page("pages/login.py").run()
    assert titles(ok(at)) == [t("login_title")]
    assert t("logged_out") in texts(at, "info")
    login(at, "alice", "wrong password")
    assert texts(at, "error") == ["Wrong user name or password."]
    assert at.text_input(key="login_name").value == "alice"
    login(at, "bob", "wrong password")
    assert texts(at, "error") == ["Wrong user name or password."]  # same text for an unknown name
    login(at, "alice", PASSWORD)
    assert titles(at) == [t("photo_title")]

    from emotion.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'app.db'}")
    uid = at.session_state["auth_user"]["id"]
    try:
        # the photo flow: upload -> annotated image, one row per face, saved to the history once
        at.file_uploader(key="photo_upload").set_value(("astronaut.png", astronaut_png(), "image/png")).run()
        ok(at)
        assert not texts(at, "error"), texts(at, "error")
        assert len(at.get("image")) == 2  # the annotated photo and the score bar's legend
        table = at.dataframe[0].value  # the compact results: number, name, emotion, score, score bar
        assert list(table.columns) == ["face", "name", "emotion", "score", "scores"]
        assert list(table["face"]) == [1] and list(table["name"]) == [t("unknown")], table
        assert table.loc[0, "scores"].startswith("data:image/svg+xml;base64,")
        # the shipped emotion model scores her smile (models/fer_cnn.onnx is part of the project)
        from emotion.records import EMOTIONS

        assert FER_CNN.is_file() and not fer_cnn_provisional()
        full = at.dataframe[1].value  # every score, in the expander
        assert full.loc[0, list(EMOTIONS)].sum() == pytest.approx(1.0, abs=1e-3)
        assert list(table["emotion"]) == [t("emo_happy")] and full.loc[0, "happy"] > 0.5, table
        assert t("classifier_missing") not in texts(at, "warning")
        assert store.history_count(uid) == 1
        assert len(store.list_snapshots(uid)) == 1
        at.toggle(key="photo_landmarks").set_value(False).run()  # a rerun: cached, not saved again
        ok(at)
        assert store.history_count(uid) == 1 and len(store.list_snapshots(uid)) == 1
        assert t("download_png") in [e.proto.label for e in at.get("download_button")]
        # a file that is not an image: the loader's message, no crash
        at.file_uploader(key="photo_upload").set_value(("x.png", b"<html>not an image</html>", "image/png")).run()
        ok(at)
        assert texts(at, "error") == [t("bad_image", error=EN["err.image.html"])] and not at.dataframe

        # the History page: charts, table, CSV
        at.switch_page("pages/history.py").run()
        ok(at)
        assert titles(at) == [t("history_title")]
        assert len(at.get("plotly_chart")) == 3
        # the one row the Photo page saved, as it saved it
        assert list(at.dataframe[0].value["dominant"]) == ["happy"]
        assert len(at.dataframe[0].value) == store.history_count(uid)
        assert t("download_csv") in [e.proto.label for e in at.get("download_button")]
    finally:
        store.close()

    # inactivity: a last-seen 31 minutes ago sends the user back to the login page with a message
    at.session_state["auth_last_seen"] = datetime.now(timezone.utc) - timedelta(minutes=31)
    at.run()
    ok(at)
    assert titles(at) == [t("login_title")]
    assert t("session_expired") in texts(at, "info")
    assert "auth_user" not in at.session_state


def test_empty_history_and_other_pages_render(app):
    at = app()
    register(at, "carol", PASSWORD)
    at.switch_page("pages/history.py").run()
    assert t("history_empty") in texts(ok(at), "info")
    at.switch_page("pages/people.py").run()
    assert titles(ok(at)) == [t("people_title")]
    assert t("no_people") in texts(at, "info")
    at.switch_page("pages/models.py").run()
    assert titles(ok(at)) == [t("models_title")]
    in_use = at.dataframe[0].value  # the models in use: readable, translated, no "None"
    assert list(in_use["role"]) == [t("role_detector"), t("role_landmarks"), t("role_recognizer"),
                                    t("role_classifier")]
    assert "None" not in in_use.to_string() and not in_use.isna().any().any()
    frame = at.dataframe[1].value  # every model
    assert {t("role_detector"), t("role_classifier"), t("role_recognizer")} <= set(frame["role"])
    assert "None" not in set(frame["accuracy"])
    assert set(frame["name"]) >= {"fer_cnn"} and "fernet" not in set(frame["name"])
    no_font = t("no_cjk_font", "zh", command="apt-get install fonts-wqy-microhei")
    assert no_font not in texts(at, "info")
    at.switch_page("pages/settings.py").run()
    assert titles(ok(at)) == [t("settings_title")]
    at.toggle(key="set_save").set_value(False).run()
    assert at.session_state["user_settings"].save_history is False


def test_models_page_says_once_when_chinese_labels_cannot_be_drawn(app, monkeypatch):
    from emotion import fonts

    at = app()
    register(at, "dave", PASSWORD)
    at.selectbox(key="lang").set_value("zh").run()
    at.switch_page("pages/models.py").run()
    no_font = t("no_cjk_font", "zh", command=fonts.INSTALL_HINT)
    if fonts.cjk_font() is not None:
        assert no_font not in texts(ok(at), "info")
    monkeypatch.setattr(fonts, "cjk_font", lambda: None)
    at.run()
    assert texts(ok(at), "info").count(no_font) == 1


def test_people_enrol_recognise_rename_delete(app, tmp_path):
    import cv2

    at = app()
    register(at, "dave", PASSWORD)
    uid = at.session_state["auth_user"]["id"]
    at.switch_page("pages/people.py").run()
    assert titles(ok(at)) == [t("people_title")]

    # a photo without a face is rejected with a clear message, and nobody is enrolled
    ok_, blank = cv2.imencode(".png", np.full((240, 320, 3), 128, np.uint8))
    at.text_input(key="enrol_name").set_value("Eileen")
    at.file_uploader(key="enrol_photos").set_value([("blank.png", blank.tobytes(), "image/png")])
    button(at, t("enrol_button")).click().run()
    ok(at)
    errors = texts(at, "error")
    assert any("blank" in e and "no face" in e for e in errors), errors
    assert t("enrol_nothing_usable") in errors

    # one good photo (and the bad one again): enrolled from the good one
    at.file_uploader(key="enrol_photos").set_value([("astronaut.png", astronaut_png(), "image/png"),
                                                    ("blank.png", blank.tobytes(), "image/png")])
    button(at, t("enrol_button")).click().run()
    ok(at)
    assert t("enrolled", name="Eileen", n=1) in texts(at, "success"), texts(at, "success")
    assert len(at.expander) == 1 and len(at.get("image")) == 1  # her thumbnail

    # the Photo page now names her (the cached gallery was invalidated)
    at.switch_page("pages/photo.py").run()
    at.file_uploader(key="photo_upload").set_value(("astronaut.png", astronaut_png(), "image/png")).run()
    assert list(ok(at).dataframe[0].value["name"]) == ["Eileen"]

    # rename, then delete (only after ticking the confirmation)
    at.switch_page("pages/people.py").run()
    from emotion.store import open_store

    with open_store(f"sqlite:///{tmp_path / 'app.db'}") as store:
        pid = store.list_people(uid)[0].id
        at.text_input(key=f"rename_name_{pid}").set_value("Eileen Collins")
        button(at, t("rename_button")).click().run()
        assert [p.name for p in store.list_people(uid)] == ["Eileen Collins"]
        delete = [b for b in ok(at).button if b.key == f"del_{pid}"][0]
        assert delete.disabled
        at.checkbox(key=f"del_ok_{pid}").check().run()
        [b for b in ok(at).button if b.key == f"del_{pid}"][0].click().run()
        ok(at)
        assert store.list_people(uid) == []
        assert t("no_people") in texts(at, "info")


def test_old_multipage_mode_run_goes_through_the_gate(monkeypatch, tmp_path):
    """Without `_navigation_mode`: every AppTest run starts in the old pages/-folder mode, like the
    first run of a fresh server, so the second run executes pages/login.py alone. The page's
    `ensure_gate` must rerun it through app.py (whose sidebar holds the language switch)."""
    from streamlit.runtime.pages_manager import PagesManager

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'app.db'}")
    monkeypatch.setenv("EMOTION_DATA_DIR", str(tmp_path / "data"))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.run()
    ok(at)
    assert PagesManager.uses_pages_directory is False
    assert titles(at) == [t("login_title")]
    assert [s.key for s in at.sidebar.selectbox] == ["lang"]  # app.py ran: its sidebar is there


def test_old_multipage_mode_deep_link_to_history_shows_the_login_page(monkeypatch, tmp_path):
    """A signed-out visitor opens ``/history`` directly as the first request of a fresh server: the
    ``pages/`` folder makes Streamlit run pages/history.py alone (its old multipage mode). The gate
    must send the request through app.py, which shows the login page and nothing of History."""
    from streamlit.runtime.pages_manager import PagesManager

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'app.db'}")
    monkeypatch.setenv("EMOTION_DATA_DIR", str(tmp_path / "data"))
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("pages/history.py")
    at.run()
    ok(at)
    assert PagesManager.uses_pages_directory is False  # the gate switched the old mode off
    assert titles(at) == [t("login_title")]
    assert t("history_title") not in titles(at)
    assert [s.key for s in at.sidebar.selectbox] == ["lang"]  # app.py ran: its sidebar is there
