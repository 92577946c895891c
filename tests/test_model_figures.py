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
