"""The round-2 FER2013 emotion model ("fer_vgg", trained in PyTorch), run with ONNX Runtime.

Weights in :data:`emotion.config.MODELS_DIR`: ``fer_vgg.onnx`` (float32, the photo path, with flip TTA)
and ``fer_vgg.int8.onnx`` (static int8, QDQ: the live path, one forward pass), each averaged with its
path's partner files when present (:data:`PARTNERS`: ``fer_kd.onnx`` / ``fer_kd.int8.onnx``, at their
weights), with ``fer_vgg.json`` beside them (configuration, per-epoch history, measured figures).
Trained by ``python -m emotion train`` and written by :mod:`emotion.train.torch_export` (see
models/README.md). Same input as fernet: the FER-framed 48x48 crop through
:func:`emotion.classify.fer_cnn.preprocess`. numpy + onnxruntime only.
"""
from __future__ import annotations

import json
from pathlib import Path

from emotion import config
from emotion.classify.fer_cnn import preprocess
from emotion.classify.onnx_base import OnnxEmotionClassifier

MODEL_FILE = "fer_vgg.onnx"
INT8_FILE = "fer_vgg.int8.onnx"
META_FILE = "fer_vgg.json"
#: the photo path's second network (round 6): the same architecture distilled from ``fer_r4.onnx``;
#: when it lies beside ``fer_vgg.onnx`` the float32 classifier averages the two (see models/README.md)
PARTNER_FILE = "fer_kd.onnx"
#: its static int8 twin (round 7): the int8 classifier (the live path) averages it with ``fer_vgg.int8.onnx``
PARTNER_INT8_FILE = "fer_kd.int8.onnx"
#: every network each path averages with its first file, as (file, weight); the first file weighs 1.
#: Keyed by ``int8``: False is the photo path (float32, flip TTA), True the live path (int8, one pass).
PARTNERS: dict[bool, tuple[tuple[str, float], ...]] = {
    False: ((PARTNER_FILE, 1.0),),
    True: ((PARTNER_INT8_FILE, 1.0),),
}
INPUT_SIZE = 48


def model_path(models_dir: str | Path | None = None, *, int8: bool = False) -> Path:
    return Path(models_dir or config.MODELS_DIR) / (INT8_FILE if int8 else MODEL_FILE)


def read_metadata(models_dir: str | Path | None = None) -> dict:
    p = Path(models_dir or config.MODELS_DIR) / META_FILE
    try:
        return json.loads(p.read_text())
    except (OSError, ValueError):
        return {}


def partner_paths(models_dir: str | Path | None = None, *, int8: bool = False) -> list[tuple[Path, float]]:
    """The path's partner files that lie in ``models_dir``, each with its weight (:data:`PARTNERS`)."""
    folder = Path(models_dir or config.MODELS_DIR)
    return [(folder / name, weight) for name, weight in PARTNERS[bool(int8)] if (folder / name).is_file()]


def publictest_figures(models_dir: str | Path | None = None, *, int8: bool = False) -> dict | None:
    """The recorded PublicTest figures of what ``FerVggClassifier(models_dir, int8=int8)`` runs: the whole
    path's (``fer_vgg.json`` ``photo_path`` / ``live_path``) when its partner files lie beside the first one
    and the record names exactly those files and weights (``members``, ``weights``: 1 each when absent), the
    single file's (``publictest`` / ``int8.publictest_no_tta``) when no partner does; None otherwise."""
    meta = read_metadata(models_dir)
    if not isinstance(meta, dict):
        return None
    present = partner_paths(models_dir, int8=int8)
    if present:
        whole = meta.get("live_path" if int8 else "photo_path")
        if not isinstance(whole, dict) or not isinstance(whole.get("publictest"), dict):
            return None
        members = [INT8_FILE if int8 else MODEL_FILE] + [path.name for path, _ in present]
        weights = [1.0] + [weight for _, weight in present]
        recorded = whole.get("weights", [1.0] * len(members))
        return whole["publictest"] if whole.get("members") == members and recorded == weights else None
    q = meta.get("int8")
    single = (q.get("publictest_no_tta") if isinstance(q, dict) else None) if int8 else meta.get("publictest")
    return single if isinstance(single, dict) else None


class FerVggClassifier(OnnxEmotionClassifier):
    """EmotionClassifier: uint8 (N, 48, 48) crops -> float32 (N, 7) probabilities (EMOTIONS order).

    ``int8``: the quantised file (no TTA by default: the live path spends one pass). ``tta``: also
    classify the mirrored crop and average (default: on for float32, as in the metadata; off for int8).
    ``model_file``: any other ONNX file with the same input/output (candidates in evaluate), alone.
    ``partner``: also run the path's partner networks (:data:`PARTNERS`, those present) and average them
    with the first file at their weights: for the float32 classifier (the photo path) ``fer_kd.onnx``, for
    the int8 one (the live path) ``fer_kd.int8.onnx``; on FER2013 PublicTest and on real photos each
    path's average beats its first network alone. Never for a ``model_file``."""

    input_size = INPUT_SIZE
    preprocess = staticmethod(preprocess)

    def __init__(self, models_dir: str | Path | None = None, *, int8: bool = False, tta: bool | None = None,
                 threads: int | None = None, model_file: str | Path | None = None, partner: bool = True):
        path = Path(model_file) if model_file else model_path(models_dir, int8=int8)
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: train it with `python -m emotion train` and export "
                                    f"it with `python -m emotion train --export`")
        self.name = "fer_vgg_int8" if int8 else "fer_vgg"
        self.metadata = read_metadata(path.parent)
        default_tta = False if int8 else bool(self.metadata.get("tta_flip", True))
        self.tta = default_tta if tta is None else bool(tta)
        self._open(path, threads)
        if partner and not model_file:
            for other, weight in partner_paths(path.parent, int8=int8):
                self._add_member(other, weight)
