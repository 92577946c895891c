"""Settings survive a sign-out and a sign-in, per user, on SQLite and MariaDB (the real app.py and
pages under streamlit.testing.v1.AppTest, a real database from the `db_url` fixture)."""
from __future__ import annotations

import pytest

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402

from tests.test_app import APP, TIMEOUT, _navigation_mode, button, login, ok, register, titles  # noqa: E402,F401
from ui.i18n import t  # noqa: E402

PASSWORD = "correct horse 1"


@pytest.fixture
def fresh(monkeypatch, tmp_path, db_url):
    """A factory of new browser sessions (AppTests) of app.py on one database."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("EMOTION_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("EMOTION_SESSION_TIMEOUT_MIN", raising=False)

    def make() -> AppTest:
        at = AppTest.from_file(APP, default_timeout=TIMEOUT)
        at.run()
        return ok(at)

    return make


def _settings_page(at: AppTest) -> AppTest:
    at.switch_page("pages/settings.py").run()
    return ok(at)


def test_settings_survive_sign_out_and_sign_in_per_user(fresh):
    from ui.user_settings import defaults, detector_choices

    base = defaults()
    other_detector = next((d for d in detector_choices() if d != base.detector), None)

    # alice changes every setting she can, and the language
    at = fresh()
    register(at, "alice", PASSWORD)
    _settings_page(at)
    at.toggle(key="set_landmarks").set_value(not base.show_landmarks).run()
    at.toggle(key="set_save").set_value(not base.save_history).run()
    assert base.enhance == "off" and at.radio(key="set_enhance").value == t("enh_off")
    at.radio(key="set_enhance").set_value(t("enh_auto")).run()
    if other_detector:
        at.selectbox(key="set_detector").set_value(other_detector).run()
    slider = next(s for s in at.slider if s.key.startswith("set_threshold_"))
    slider.set_value(round(slider.value * 0.8, 2)).run()
    alice_threshold = round(slider.value, 2)
    at.selectbox(key="lang").set_value("zh").run()
    ok(at)
    button(at, t("logout", lang="zh")).click().run()

    # bob, in a new session, starts from the defaults and changes nothing but the language back
    at = fresh()
    register(at, "bob", PASSWORD)
    _settings_page(at)
    assert at.toggle(key="set_landmarks").value is base.show_landmarks
    assert at.toggle(key="set_save").value is base.save_history
    assert at.selectbox(key="set_detector").value == base.detector
    assert at.radio(key="set_enhance").value == t("enh_off")
    button(at, t("logout")).click().run()

    # alice again, in yet another session: all of hers are back, language included
    at = fresh()
    login(at, "alice", PASSWORD)
    at.run()  # the restored language applies from the next run on (as after st.rerun in the browser)
    assert at.selectbox(key="lang").value == "zh"
    _settings_page(at)
    assert titles(at) == [t("settings_title", lang="zh")]
    assert at.toggle(key="set_landmarks").value is (not base.show_landmarks)
    assert at.toggle(key="set_save").value is (not base.save_history)
    assert at.radio(key="set_enhance").value == t("enh_auto", lang="zh")
    assert at.selectbox(key="set_detector").value == (other_detector or base.detector)
    slider = next(s for s in at.slider if s.key.startswith("set_threshold_"))
    assert round(slider.value, 2) == alice_threshold
    button(at, t("logout", lang="zh")).click().run()

    # and bob's are still his
    at = fresh()
    at.selectbox(key="lang").set_value("en").run()
    login(at, "bob", PASSWORD)
    at.run()
    _settings_page(at)
    assert at.toggle(key="set_landmarks").value is base.show_landmarks
    assert at.selectbox(key="lang").value == "en"


def test_settings_say_which_emotion_files_each_path_runs(fresh):
    """Under the emotion classifier, Settings names the photo path's files and the live path's (camera and
    videos), each with its recorded figure, in the user's language; another classifier, other files."""
    from emotion.classify import fer_vgg
    from ui.text import md

    def files(int8: bool) -> str:  # "A + B + C ×1.5": each partner at its weight
        recipe = fer_vgg.RECIPES[int8]
        return md(" + ".join([recipe.first] + [n + ("" if w == 1 else f" ×{w:g}") for n, w in recipe.partners]))

    photo, live = files(False), files(True)
    assert md(fer_vgg.R4_INT8_FILE) in photo and md(fer_vgg.PARTNER_INT8_FILE) in live
    at = fresh()
    register(at, "carol", PASSWORD)
    _settings_page(at)
    assert at.selectbox(key="set_classifier").value == "fer_vgg"
    captions = [c.value for c in at.caption if photo in c.value]
    assert len(captions) == 1 and live in captions[0], [c.value for c in at.caption]
    figures = [fer_vgg.publictest_figures(int8=i)["accuracy"] for i in (False, True)]
    text = captions[0]
    after_photo = text.index(photo) + len(photo)  # the live pair's names are also the photo path's first two
    live_at = text.index(live, after_photo)
    assert text.index(t("views_mirror_zoom", "en")) == after_photo  # the six views follow the photo files
    assert after_photo < text.index(f"{figures[0]:.1%}") < live_at < text.index(f"{figures[1]:.1%}", live_at)
    at.selectbox(key="lang").set_value("zh").run()
    zh = [c.value for c in ok(at).caption if photo in c.value]
    assert len(zh) == 1 and zh[0].startswith("照片：") and "实时摄像头和视频" in zh[0]
    assert t("views_mirror_zoom", "zh") in zh[0] and t("views_mirror_zoom", "en") not in zh[0]
    at.selectbox(key="set_classifier").set_value("fer_cnn").run()
    assert not [c.value for c in ok(at).caption if photo in c.value]
    assert [c.value for c in at.caption if md("fer_cnn.onnx") in c.value]
