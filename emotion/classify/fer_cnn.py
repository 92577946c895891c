"""The project's own FER2013 emotion CNN ("fer_cnn", formerly "fernet"), run with ONNX Runtime.

Weights: ``fer_cnn.onnx`` in :data:`emotion.config.MODELS_DIR`, trained by ``python -m emotion train``
(see models/README.md), with ``fer_cnn.json`` beside it (measured accuracy, preprocessing, command).
Files still named ``fernet.onnx``/``fernet.json`` (from before the rename) are read when the new ones are absent.
Light on purpose: numpy + onnxruntime only, no TensorFlow; one session is built in ``__init__``.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from emotion import config
from emotion.classify.onnx_base import OnnxEmotionClassifier

MODEL_FILE = "fer_cnn.onnx"
META_FILE = "fer_cnn.json"
#: the files' names before the rename, still read when the new ones are absent
LEGACY_MODEL_FILE = "fernet.onnx"
LEGACY_META_FILE = "fernet.json"
INPUT_SIZE = 48
#: recorded in the metadata; changing :func:`preprocess` means retraining
PREPROCESSING = ("uint8 48x48 grayscale FER-framed crop -> float32 /255 -> per-image standardisation "
                 "(x - mean) / max(std, 1/255)")


def preprocess(crops: np.ndarray) -> np.ndarray:
    """uint8 (N, S, S) -> float32 (N, S, S), each crop standardised to zero mean and unit variance.

    The one preprocessing function: training, ``python -m emotion evaluate`` and the product call it."""
    x = np.asarray(crops, dtype=np.float32) * np.float32(1.0 / 255.0)
    if x.ndim == 2:
        x = x[None]
    mean = x.mean(axis=(1, 2), keepdims=True)
    std = x.std(axis=(1, 2), keepdims=True)
    return (x - mean) / np.maximum(std, np.float32(1.0 / 255.0))


def _in_models_dir(models_dir: str | Path | None, name: str, legacy: str) -> Path:
    folder = Path(models_dir or config.MODELS_DIR)
    p = folder / name
    return p if p.is_file() or not (folder / legacy).is_file() else folder / legacy


def model_path(models_dir: str | Path | None = None) -> Path:
    return _in_models_dir(models_dir, MODEL_FILE, LEGACY_MODEL_FILE)


def read_metadata(models_dir: str | Path | None = None) -> dict:
    p = _in_models_dir(models_dir, META_FILE, LEGACY_META_FILE)
    try:
        return json.loads(p.read_text())
    except (OSError, ValueError):
        return {}


class FerCnnClassifier(OnnxEmotionClassifier):
    """EmotionClassifier: uint8 (N, 48, 48) crops -> float32 (N, 7) probabilities (EMOTIONS order).

    ``tta``: also classify the mirrored crop and average (the metadata says whether the shipped figures
    were measured with it; by default the shipped setting is used)."""

    name = "fer_cnn"
    input_size = INPUT_SIZE
    preprocess = staticmethod(preprocess)

    def __init__(self, models_dir: str | Path | None = None, *, tta: bool | None = None,
                 threads: int | None = None):
        path = model_path(models_dir)
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: train it with `python -m emotion train`")
        self.metadata = read_metadata(models_dir)
        self.tta = bool(self.metadata.get("tta_flip", True)) if tta is None else bool(tta)
        self._open(path, threads)
