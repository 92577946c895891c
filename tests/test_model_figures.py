"""The Models page's "in use" table data (emotion.model_figures)."""
from __future__ import annotations

import json

import pytest

from emotion import model_figures
from emotion.model_figures import Figure, classifier_figure, models_in_use


@pytest.fixture
def metadata(monkeypatch):
    box = {}
    monkeypatch.setattr(model_figures, "_classifier_metadata", lambda name: box.get(name, {}))
    return box


def test_recorded_accuracy_is_the_figure(metadata):
    metadata["fer_cnn"] = {"publictest": {"accuracy": 0.622, "n": 3589}}
    rows = models_in_use("blazeface_tiled", "Dlib", "fer_cnn")
    assert [(r.role, r.name) for r in rows] == [("detector", "blazeface_tiled"), ("landmarks", "dlib68"),
                                                 ("recognizer", "Dlib"), ("classifier", "fer_cnn")]
    assert rows[3].figure == Figure("accuracy_fer2013", 0.622, 3589)
    assert rows[3].command.startswith("python -m emotion evaluate")
    assert [r.figure for r in rows[:3]] == [None, None, None]  # nothing recorded: "not measured"
    assert all(r.command for r in rows[:3])


@pytest.mark.parametrize("meta, expected", [
    ({}, None),
    ({"publictest": "62%"}, None),
    ({"publictest": {"accuracy": None}}, None),
    ({"publictest": {"accuracy": True}}, None),
    ({"publictest": {"accuracy": 62.2}}, Figure("accuracy_fer2013", 0.622, None)),
    ({"publictest": {"accuracy": 250}}, None),
])
def test_odd_metadata_is_not_a_figure(metadata, meta, expected):
    metadata["fer_cnn"] = meta
    got = classifier_figure("fer_cnn")
    assert got == expected if expected is None else got.value == pytest.approx(expected.value)


def test_other_classifiers_have_no_figure_or_command(metadata):
    row = models_in_use("opencv", "Facenet", "deepface")[3]
    assert row.figure is None and row.command is None


def test_the_shipped_model_metadata_is_read():
    """The metadata file shipped in models/ gives the classifier's recorded figure."""
    from emotion.config import PROJECT_ROOT

    for name in ("fer_cnn", "fernet"):
        path = PROJECT_ROOT / "models" / f"{name}.json"
        if path.is_file():
            expected = json.loads(path.read_text())["publictest"]["accuracy"]
            assert classifier_figure(name).value == pytest.approx(expected)
            return
    pytest.skip("no trained classifier metadata in models/")


def test_classifier_paths_name_each_paths_files_and_their_own_figure():
    """The photo path runs its three int8 files in six views, the live path the int8 pair in one; each
    figure is the one recorded for that set-up, and a record of another set-up is no figure ("not
    measured")."""
    from emotion import registry
    from emotion.classify import fer_vgg
    from emotion.model_figures import classifier_paths

    photo, live = classifier_paths(registry.get_classifier("fer_vgg"))
    assert (photo.role, live.role) == ("photo", "live")
    for path, int8 in ((photo, False), (live, True)):
        recipe = fer_vgg.RECIPES[int8]
        assert path.files == (recipe.first, *(name for name, _ in recipe.partners))
        assert path.weights == (1.0, *(weight for _, weight in recipe.partners))
        assert path.views == recipe.views
    assert fer_vgg.R4_INT8_FILE in photo.files and fer_vgg.R4_INT8_FILE not in live.files
    assert (photo.views, live.views) == ("mirror_zoom", "one")
    meta = fer_vgg.read_metadata()
    assert photo.figure.value == pytest.approx(meta["photo_path"]["publictest"]["accuracy"])
    assert live.figure.value == pytest.approx(meta["live_path"]["publictest"]["accuracy"])
    cnn_photo, cnn_live = classifier_paths(registry.get_classifier("fer_cnn"))
    assert cnn_photo.files == cnn_live.files == ("fer_cnn.onnx",)
    assert cnn_photo.figure is not None and cnn_live.figure is None  # fer_cnn was measured with flip TTA only
    assert (cnn_photo.views, cnn_live.views) == ("mirror", "one")


def test_a_paths_files_show_each_weight_other_than_one():
    from emotion.model_figures import ClassifierPath
    from ui.model_paths import files_text

    three = ClassifierPath("live", ("a.onnx", "b.onnx", "c.onnx"), None, (1.0, 1.0, 0.25))
    assert files_text(three) == "a.onnx + b.onnx + c.onnx ×0.25"
    assert files_text(ClassifierPath("photo", ("a.onnx", "b.onnx"), None)) == "a.onnx + b.onnx"
