"""The Models page's Compare tab through streamlit's AppTest (the real app, engine and SQLite; no
browser): photos uploaded or picked from the enrolled people, the comparison started with the
button and run by the background job, the heatmaps, the models that cannot run with the file to
place, and "Use this combination" changing the user's detector and recogniser through the settings
API, saved in the database. DeepFace's models are made unavailable by an empty DEEPFACE_HOME."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.test_app import _navigation_mode, app, astronaut_png, button, ok, register  # noqa: F401
from ui.i18n import t

OPTIONS = {"cmp_detectors": ["dlib", "ssd"], "cmp_recognizers": ["Dlib", "ArcFace"],
           "cmp_classifiers": ["fer_cnn", "deepface"]}


@pytest.fixture(autouse=True)
def _no_deepface_weights(monkeypatch, tmp_path):
    monkeypatch.setenv("DEEPFACE_HOME", str(tmp_path / "empty_deepface_home"))


def _png(bgr: np.ndarray) -> bytes:
    return cv2.imencode(".png", bgr)[1].tobytes()


def _run_comparison(at):
    for key, value in OPTIONS.items():
        at.multiselect(key=key).set_value(value)
    at.button(key="cmp_start").click().run()
    ok(at)
    job = at.session_state["compare_job"]
    assert job.wait(300)
    at.run()  # the page's next run (the progress fragment triggers it in a browser)
    return ok(at), job


def test_uploads_heatmaps_and_use_this_combination(app, astronaut_bgr, tmp_path):
    at = app()
    register(at, "cmpuser", "correct horse 1")
    at.switch_page("pages/models.py").run()
    # the third photo is a zoomed crop of the astronaut given as another person, so that the
    # heatmaps hold wrong decisions as well as right ones
    zoom = cv2.resize(astronaut_bgr[0:260, 120:380], (390, 390))
    at.file_uploader(key="cmp_upload").set_value([
        ("ann_0001.png", astronaut_png(), "image/png"),
        ("ann_0002.png", _png(np.ascontiguousarray(astronaut_bgr[:, ::-1])), "image/png"),
        ("zoom.png", _png(zoom), "image/png")]).run()
    people = [s.value for s in ok(at).selectbox if s.key and s.key.startswith("cmp_person_")]
    assert people == ["A", "A", "B"]  # guessed from the file names
    at, job = _run_comparison(at)
    assert job.error is None and not job.result.cancelled
    assert len(at.get("plotly_chart")) == 1 + 3  # the overview and one heatmap per pair
    combo = job.result.combo("dlib", "Dlib")
    assert [p.correct(combo.threshold) for p in combo.pairs] == [True, False, False]  # the zoom is her
    from ui.text import md

    unavailable = [str(m.value) for m in at.markdown if str(m.value).startswith("- ")]
    files = ("deploy.prototxt", "arcface_weights.h5", "facial_expression_model_weights.h5")
    assert [next(f for f in files if md(f) in line) for line in unavailable] == list(files)

    assert [b.label for b in at.get("download_button")] == [t("cmp_export_csv"), t("cmp_export_json")]
    from emotion.config import CONFIG

    assert at.session_state["user_settings"].detector == CONFIG.detector != "dlib"  # the configured default
    assert at.selectbox(key="cmp_use_det").options == ["dlib"]
    at.button(key="cmp_use").click().run()
    after = ok(at).session_state["user_settings"]
    assert (after.detector, after.recognizer, after.threshold) == ("dlib", "Dlib", None)
    assert t("cmp_use_done", detector="dlib", recognizer="Dlib") in [str(s.value) for s in at.success]
    from emotion.store import open_store

    with open_store(f"sqlite:///{tmp_path / 'app.db'}") as store:  # saved for the next sign-in
        saved = store.get_settings(at.session_state["auth_user"]["id"])
    assert (saved["detector"], saved["recognizer"], saved["threshold"]) == ("dlib", "Dlib", None)


def test_enrolled_people_photos_and_bad_uploads(app, astronaut_bgr):
    at = app()
    register(at, "enroller", "correct horse 1")
    at.switch_page("pages/people.py").run()
    at.text_input(key="enrol_name").set_value("Eileen")
    at.file_uploader(key="enrol_photos").set_value([
        ("a.png", astronaut_png(), "image/png"),
        ("m.png", _png(np.ascontiguousarray(astronaut_bgr[:, ::-1])), "image/png")])
    button(ok(at), t("enrol_button")).click().run()
    assert t("enrolled", name="Eileen", n=2) in [str(s.value) for s in ok(at).success]

    at.switch_page("pages/models.py").run()
    picks = at.multiselect(key="cmp_enrolled")
    assert picks.options == [t("cmp_enrolled_face", name="Eileen", n=1), t("cmp_enrolled_face", name="Eileen", n=2)]
    picks.set_value(picks.options)
    at.file_uploader(key="cmp_upload").set_value([("broken.jpg", b"<html>no</html>", "image/jpeg")]).run()
    errors = [str(e.value) for e in ok(at).error]
    assert len(errors) == 1 and errors[0].startswith(t("cmp_bad_photo", name="broken\\.jpg", error="")[:20])
    people = [s.value for s in at.selectbox if s.key and s.key.startswith("cmp_person_")]
    assert people == ["A", "A"]  # one person's photos
    at, job = _run_comparison(at)
    assert job.error is None
    assert [d.faces for d in job.result.detectors[0].photos] == [1, 1]  # padded thumbnails: faces found
    combo = job.result.combo("dlib", "Dlib")
    assert combo.pairs[0].same and combo.pairs[0].correct(combo.threshold) is True
