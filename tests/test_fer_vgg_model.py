"""The shipped round-2 emotion model (models/fer_vgg.onnx) through the engine's own detector, landmarks and
FER-framed crop: the astronaut smiles; a neutral face from the real-photo set is not called happy.

Skipped while the model is not exported yet (the training job), failing under CI=true. The neutral photo
was chosen among wild_dev's neutral-labelled photos of the FIRST half of people (alphabetical), the half
used for selection, as one the model gets right: the test guards against a regression, it is no accuracy
figure (`python -m emotion evaluate-photos` gives those).
"""
from __future__ import annotations

import os

import cv2
import numpy as np
import pytest

from emotion import config
from emotion.classify import fer_vgg
from emotion.classify.views import VIEWS, view_batch
from emotion.records import EMOTIONS
from tests.photos import PHOTOS, real_photo

CI = os.environ.get("CI", "").strip().lower() == "true"
WILD_DEV = PHOTOS / "wild_dev"
#: labelled neutral in wild_dev/labels.csv; its person is in the first (alphabetical) half; picked with
#: `python tools/neutral_candidates.py` (fernet: neutral 0.95, P(happy) 0.00 - check again with fer_vgg)
NEUTRAL_PHOTO = "Hamza_Atiya_Muhsen_0001.jpg"


def _need_model() -> None:
    if not fer_vgg.model_path().is_file():
        if CI:
            pytest.fail(f"{fer_vgg.model_path().name} is missing; under CI=true the trained model must exist")
        pytest.skip("models/fer_vgg.onnx not exported yet (the training job)")


@pytest.fixture(scope="module")
def analyzer():
    _need_model()
    from emotion import pipeline

    return pipeline.get_analyzer(recognizer="Dlib", classifier="fer_vgg")


def _top(face) -> str:
    assert face.scores is not None and face.scores.shape == (len(EMOTIONS),)
    return face.dominant


def test_metadata_describes_a_finished_model():
    _need_model()
    meta = fer_vgg.read_metadata()
    assert meta["name"] == "fer_vgg" and meta["classes"] == list(EMOTIONS)
    assert 0.5 < meta["publictest"]["accuracy"] <= 1.0
    assert meta["onnx_parity_max_abs_diff"] < 1e-3
    assert meta["history"] and meta["best_epoch"] in [r["epoch"] for r in meta["history"]]


def test_astronaut_is_happy(analyzer, astronaut_bgr):
    faces = analyzer.analyze(astronaut_bgr, recognize=False)
    assert len(faces) == 1
    assert _top(faces[0]) == "happy"


def test_a_neutral_real_photo_is_not_happy():
    _need_model()
    path = real_photo(f"wild_dev/{NEUTRAL_PHOTO}")
    labels = dict(line.split(",", 1) for line in (WILD_DEV / "labels.csv").read_text().split()[1:])
    assert labels[NEUTRAL_PHOTO] == "neutral"
    from emotion import pipeline

    # the default blazeface_tiled misses many of these 250-350 px news photos; dlib's detector finds it,
    # the landmarks, the FER-framed crop and the classifier are the engine's own
    photo_analyzer = pipeline.get_analyzer(detector="dlib", recognizer="Dlib", classifier="fer_vgg")
    bgr = cv2.imread(str(path))
    faces = photo_analyzer.analyze(bgr, recognize=False)
    assert len(faces) >= 1
    face = max(faces, key=lambda f: f.box.w * f.box.h)
    assert _top(face) != "happy"
    assert face.scores[EMOTIONS.index("happy")] < 0.5


def test_photo_views_are_mirror_invariant():
    _need_model()
    clf = fer_vgg.FerVggClassifier()
    assert clf.tta and clf.views == VIEWS[fer_vgg.RECIPES[False].views] and len(clf.views) == 6
    crops = np.random.default_rng(4).integers(0, 256, (3, 48, 48), dtype=np.uint8)
    np.testing.assert_allclose(clf.predict(crops), clf.predict(crops[:, :, ::-1]), atol=1e-5)


def _alone(path, crops, views):
    """One file's probabilities, averaged over ``views`` by hand (view_batch, one pass each)."""
    one = fer_vgg.FerVggClassifier(model_file=path, tta=False)
    return one.predict(view_batch(crops, views)).reshape(len(views), len(crops), 7).mean(0)


def test_photo_path_averages_its_files_at_their_weights_over_six_views():
    """The photo classifier is the weighted mean of fer_vgg.int8, fer_kd.int8 and fer_r4.int8 (1, 1, 1.5),
    each over the six views of each crop; an explicit candidate file stays a single network."""
    _need_model()
    recipe = fer_vgg.RECIPES[False]
    files = [recipe.first] + [name for name, _ in recipe.partners]
    weights = [1.0] + [w for _, w in recipe.partners]
    assert files == [fer_vgg.INT8_FILE, fer_vgg.PARTNER_INT8_FILE, fer_vgg.R4_INT8_FILE] and weights == [1, 1, 1.5]
    assert all((config.MODELS_DIR / f).is_file() for f in files), "the photo path's files are shipped"
    crops = np.random.default_rng(5).integers(0, 256, (4, 48, 48), dtype=np.uint8)
    photo = fer_vgg.FerVggClassifier()
    assert [p.name for p in photo.member_paths] == files and photo.member_weights == weights
    views = VIEWS["mirror_zoom"]
    each = [_alone(config.MODELS_DIR / f, crops, views) for f in files]
    assert np.abs(each[0] - each[2]).max() > 0.01, "the networks should differ"
    want = sum(w * p for w, p in zip(weights, each)) / sum(weights)
    np.testing.assert_allclose(photo.predict(crops), want / want.sum(1, keepdims=True), atol=1e-5)
    # the zoomed views count: the mirrored pair alone gives other probabilities
    mirror_only = sum(w * _alone(config.MODELS_DIR / f, crops, VIEWS["mirror"]) for w, f in zip(weights, files))
    assert np.abs(photo.predict(crops) - mirror_only / sum(weights)).max() > 1e-3
    assert len(fer_vgg.FerVggClassifier(model_file=config.MODELS_DIR / fer_vgg.MODEL_FILE).member_paths) == 1


def test_partner_weights_weigh_the_average(monkeypatch):
    """A partner listed at weight 0.25 counts a quarter as much as the first file: (first + 0.25 second) / 1.25."""
    import dataclasses

    _need_model()
    crops = np.random.default_rng(7).integers(0, 256, (4, 48, 48), dtype=np.uint8)
    first = fer_vgg.FerVggClassifier(partner=False).predict(crops)
    second = fer_vgg.FerVggClassifier(model_file=config.MODELS_DIR / fer_vgg.PARTNER_INT8_FILE).predict(crops)
    monkeypatch.setitem(fer_vgg.RECIPES, False, dataclasses.replace(
        fer_vgg.RECIPES[False], partners=((fer_vgg.PARTNER_INT8_FILE, 0.25),)))
    weighted = fer_vgg.FerVggClassifier()
    assert weighted.member_weights == [1.0, 0.25]
    np.testing.assert_allclose(weighted.predict(crops), (first + 0.25 * second) / 1.25, atol=1e-5)
    assert np.abs(weighted.predict(crops) - 0.5 * (first + second)).max() > 1e-3


def test_live_path_averages_the_two_int8_files():
    """The int8 classifier (the live path, one pass) is the mean of fer_vgg.int8.onnx and fer_kd.int8.onnx,
    and the live twin of the photo classifier is that pair; the Models figures are the pairs' own."""
    _need_model()
    from emotion.live.smoothing import plain_twin
    from emotion.model_figures import classifier_figure

    int8_files = [config.MODELS_DIR / fer_vgg.INT8_FILE, config.MODELS_DIR / fer_vgg.PARTNER_INT8_FILE]
    assert all(f.is_file() for f in int8_files), "both int8 files are shipped"
    crops = np.random.default_rng(6).integers(0, 256, (4, 48, 48), dtype=np.uint8)
    live = fer_vgg.FerVggClassifier(int8=True)
    assert [p.name for p in live.member_paths] == [f.name for f in int8_files] and not live.tta
    first, second = (fer_vgg.FerVggClassifier(model_file=f, tta=False).predict(crops) for f in int8_files)
    assert np.abs(first - second).max() > 0.01, "the two networks should differ"
    np.testing.assert_allclose(live.predict(crops), 0.5 * (first + second), atol=1e-5)
    assert [p.name for p in plain_twin(fer_vgg.FerVggClassifier()).member_paths] == [f.name for f in int8_files]
    meta = fer_vgg.read_metadata()
    assert meta["live_path"]["members"] == [f.name for f in int8_files]
    assert classifier_figure("fer_vgg_int8").value == pytest.approx(meta["live_path"]["publictest"]["accuracy"])
    assert classifier_figure("fer_vgg").value == pytest.approx(meta["photo_path"]["publictest"]["accuracy"])
    assert meta["live_path"]["publictest"]["accuracy"] != meta["int8"]["publictest_no_tta"]["accuracy"]


def test_recorded_figures_follow_the_partner_files_and_views(tmp_path, monkeypatch):
    """A models folder without the partner files reports the single first file's figure when it was measured
    in the path's views, with them the whole path's, and only when the record names exactly the files,
    weights and views that run."""
    import dataclasses
    import json

    photo = fer_vgg.RECIPES[False]
    photo_members = [photo.first] + [name for name, _ in photo.partners]
    meta = {"publictest": {"accuracy": 0.642}, "int8": {"publictest_no_tta": {"accuracy": 0.631}},
            "photo_path": {"members": photo_members, "weights": [1.0] + [w for _, w in photo.partners],
                           "publictest": {"accuracy": 0.675, "views": photo.views}},
            "live_path": {"members": [fer_vgg.INT8_FILE, fer_vgg.PARTNER_INT8_FILE],
                          "publictest": {"accuracy": 0.6445}}}
    (tmp_path / fer_vgg.META_FILE).write_text(json.dumps(meta))
    got = lambda int8: (fer_vgg.publictest_figures(tmp_path, int8=int8) or {}).get("accuracy")  # noqa: E731
    # alone, the int8 file's one-pass figure describes the live path, not the photo path's six views
    assert (got(False), got(True)) == (None, 0.631)
    (tmp_path / fer_vgg.PARTNER_INT8_FILE).write_bytes(b"")
    assert got(True) == 0.6445
    assert got(False) is None  # fer_r4.int8 is missing: the record of three files does not describe two
    (tmp_path / fer_vgg.R4_INT8_FILE).write_bytes(b"")
    assert (got(False), got(True)) == (0.675, 0.6445)
    # a record measured with the mirror only is not the figure of six views
    meta["photo_path"]["publictest"]["views"] = "mirror"
    (tmp_path / fer_vgg.META_FILE).write_text(json.dumps(meta))
    assert got(False) is None
    meta["photo_path"]["publictest"]["views"] = photo.views
    # a third live network at weight 0.5: the pair's record no longer describes the live path...
    monkeypatch.setitem(fer_vgg.RECIPES, True, dataclasses.replace(
        fer_vgg.RECIPES[True], partners=((fer_vgg.PARTNER_INT8_FILE, 1.0), ("third.int8.onnx", 0.5))))
    (tmp_path / "third.int8.onnx").write_bytes(b"")
    (tmp_path / fer_vgg.META_FILE).write_text(json.dumps(meta))
    assert (got(False), got(True)) == (0.675, None)
    # ...a record of the three at other weights does not either, one of exactly these does
    meta["live_path"] = {"members": [fer_vgg.INT8_FILE, fer_vgg.PARTNER_INT8_FILE, "third.int8.onnx"],
                         "weights": [1.0, 1.0, 1.0], "publictest": {"accuracy": 0.66}}
    (tmp_path / fer_vgg.META_FILE).write_text(json.dumps(meta))
    assert got(True) is None
    meta["live_path"]["weights"] = [1.0, 1.0, 0.5]
    (tmp_path / fer_vgg.META_FILE).write_text(json.dumps(meta))
    assert got(True) == 0.66
    (tmp_path / fer_vgg.META_FILE).write_text("[1, 2]")
    assert fer_vgg.publictest_figures(tmp_path) is None
