"""The project's own emotion model: shipped weights, run-time classifier, evaluate and train commands."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from emotion import config
from emotion.classify import fer_cnn
from emotion.records import EMOTIONS
from emotion.train import data as fdata

ROOT = Path(__file__).resolve().parent.parent
PUBLIC_TEST = config.FER2013_DIR / "PublicTest.npz.xz"


def need_fer2013() -> None:
    if not PUBLIC_TEST.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"FER2013 PublicTest missing at {PUBLIC_TEST} (required when CI=true)")
        pytest.skip("FER2013 data (../shared/data/fer2013) is not on this machine")


def test_shipped_weights_are_small_and_described():
    path = fer_cnn.model_path()
    assert path.is_file(), "models/fer_cnn.onnx must ship with the project"
    assert path.stat().st_size < 20 * 1024 * 1024
    meta = fer_cnn.read_metadata()
    assert meta["name"] == "fer_cnn"
    assert 0.0 < meta["publictest"]["accuracy"] <= 1.0
    assert not meta.get("provisional"), "a provisional (mid-training) model was committed"


def test_predict_returns_probabilities_in_fer_order():
    clf = fer_cnn.FerCnnClassifier()
    rng = np.random.default_rng(0)
    crops = rng.integers(0, 256, (5, 48, 48), dtype=np.uint8)
    p = clf.predict(crops)
    assert p.shape == (5, len(EMOTIONS)) and p.dtype == np.float32
    np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-5)
    assert (p >= 0).all()
    assert clf.predict(np.zeros((0, 48, 48), np.uint8)).shape == (0, 7)
    with pytest.raises(ValueError):
        clf.predict(np.zeros((2, 64, 64), np.uint8))


def test_flip_tta_makes_the_prediction_mirror_invariant():
    rng = np.random.default_rng(1)
    crops = rng.integers(0, 256, (3, 48, 48), dtype=np.uint8)
    with_tta = fer_cnn.FerCnnClassifier(tta=True)
    np.testing.assert_allclose(with_tta.predict(crops), with_tta.predict(crops[:, :, ::-1]), atol=1e-5)
    without = fer_cnn.FerCnnClassifier(tta=False)
    assert not np.allclose(without.predict(crops), without.predict(crops[:, :, ::-1]), atol=1e-5)


def test_preprocess_standardises_each_crop():
    crops = np.stack([np.full((48, 48), 7, np.uint8), np.arange(48 * 48).reshape(48, 48).astype(np.uint8)])
    x = fer_cnn.preprocess(crops)
    assert x.shape == (2, 48, 48) and x.dtype == np.float32
    assert np.allclose(x[0], 0.0, atol=1e-5)  # a flat crop does not blow up
    assert abs(float(x[1].mean())) < 1e-4 and abs(float(x[1].std()) - 1.0) < 1e-3


def test_augmenter_is_seeded_and_keeps_shape():
    kw = dict(shift=0.1, rotate_deg=10, scale=0.1, flip=True, gamma=0.3, contrast=0.3, erase_prob=0.5,
              erase_max_frac=0.15)
    imgs = np.random.default_rng(2).integers(0, 256, (8, 48, 48), dtype=np.uint8)
    a = fdata.Augmenter(seed=3, **kw)(imgs)
    b = fdata.Augmenter(seed=3, **kw)(imgs)
    assert a.shape == imgs.shape and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert not np.array_equal(a, imgs)


def test_class_weights_favour_rare_classes_and_keep_the_loss_scale():
    labels = np.array([3] * 90 + [1] * 10)
    w = fdata.class_weights(labels, power=0.5)
    assert w[1] > w[3]
    assert abs(float(w[labels].mean()) - 1.0) < 1e-6


def test_evaluate_command_prints_the_report():
    need_fer2013()
    out = subprocess.run([sys.executable, "-m", "emotion", "evaluate", str(PUBLIC_TEST), "--limit", "600",
                          "--timing-faces", "30"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert re.fullmatch(r"accuracy=0\.\d{4}", lines[-1]), lines[-1]
    assert "confusion matrix" in out.stdout and "macro-F1" in out.stdout and "median ms per face" in out.stdout
    accuracy = float(lines[-1].split("=")[1])
    assert accuracy > 0.5, "the shipped model should be far above chance (14%) on FER2013"


def test_evaluate_command_rejects_a_missing_file(tmp_path):
    out = subprocess.run([sys.executable, "-m", "emotion", "evaluate", str(tmp_path / "nope.npz.xz")],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "not found" in out.stdout


def test_training_runs_end_to_end_and_exports_a_matching_onnx(tmp_path):
    """One short epoch on a few hundred faces: the real training, export and evaluation code."""
    need_fer2013()
    out = subprocess.run([sys.executable, "-m", "emotion", "train-keras", "--preset", "quick", "--epochs", "1",
                          "--limit", "256", "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    m = re.search(r"Keras/ONNX max diff ([0-9.e+-]+)", out.stdout)
    assert m and float(m.group(1)) < 1e-4
    meta = json.loads((tmp_path / "fer_cnn.json").read_text())
    assert meta["config"]["epochs"] == 1 and "publictest" in meta
    assert (tmp_path / "fer_cnn.onnx").is_file()
    assert out.stdout.strip().splitlines()[-1].startswith("accuracy=")
