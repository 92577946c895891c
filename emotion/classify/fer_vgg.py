"""The round-2 FER2013 emotion model ("fer_vgg", trained in PyTorch), run with ONNX Runtime.

Each path runs a recipe (:data:`RECIPES`): its files in :data:`emotion.config.MODELS_DIR`, averaged at
their weights, and the test-time views each crop is scored in (:mod:`emotion.classify.views`).
Since round 9 both paths run static int8 (QDQ) files:

* the photo path (``fer_vgg``): ``fer_vgg.int8.onnx`` + ``fer_kd.int8.onnx`` + ``fer_r4.int8.onnx`` at
  weight 1.5, each crop in six views (mirrored and zoomed);
* the live path (``fer_vgg_int8``): ``fer_vgg.int8.onnx`` + ``fer_kd.int8.onnx``, one pass (the live
  analyser alternates the plain and the mirrored crop over frames).

``fer_vgg.onnx`` (float32) is the export the int8 file is quantised from and a starting point for
training; ``fer_vgg.json`` beside them holds the configuration, per-epoch history and each path's
measured figures. Trained by ``python -m emotion train`` and written by :mod:`emotion.train.torch_export`
(see models/README.md). Same input as fernet: the FER-framed 48x48 crop through
:func:`emotion.classify.fer_cnn.preprocess`. numpy + onnxruntime (+ OpenCV for zoomed views) only.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from emotion import config
from emotion.classify.fer_cnn import preprocess
from emotion.classify.onnx_base import OnnxEmotionClassifier
from emotion.classify.views import VIEWS, recorded_views, view_set

MODEL_FILE = "fer_vgg.onnx"
INT8_FILE = "fer_vgg.int8.onnx"
META_FILE = "fer_vgg.json"
#: the photo path's second network (round 6): the same architecture distilled from ``fer_r4.onnx``
PARTNER_FILE = "fer_kd.onnx"
#: its static int8 twin (round 7)
PARTNER_INT8_FILE = "fer_kd.int8.onnx"
#: the round-4 network (117 M MACs), static int8 with 7-bit weights (round 9: the photo path's third file)
R4_INT8_FILE = "fer_r4.int8.onnx"
INPUT_SIZE = 48


@dataclass(frozen=True)
class PathRecipe:
    """What one path runs: its ``first`` file (weight 1), the ``partners`` averaged with it as
    (file, weight) when they lie beside it, and the name of its test-time ``views``."""

    first: str
    partners: tuple[tuple[str, float], ...]
    views: str


#: each path's recipe, keyed by ``int8`` as the classifier's argument is: False is the photo path
#: (``fer_vgg``), True the live path (``fer_vgg_int8``)
RECIPES: dict[bool, PathRecipe] = {
    False: PathRecipe(INT8_FILE, ((PARTNER_INT8_FILE, 1.0), (R4_INT8_FILE, 1.5)), "mirror_zoom"),
    True: PathRecipe(INT8_FILE, ((PARTNER_INT8_FILE, 1.0),), "one"),
}


def model_path(models_dir: str | Path | None = None, *, int8: bool = False) -> Path:
    """The exported file itself: float32 (``fer_vgg.onnx``) or its int8 twin."""
    return Path(models_dir or config.MODELS_DIR) / (INT8_FILE if int8 else MODEL_FILE)


def first_path(models_dir: str | Path | None = None, *, int8: bool = False) -> Path:
    """The first file the path runs (:data:`RECIPES`)."""
    return Path(models_dir or config.MODELS_DIR) / RECIPES[bool(int8)].first


def read_metadata(models_dir: str | Path | None = None) -> dict:
    p = Path(models_dir or config.MODELS_DIR) / META_FILE
    try:
        return json.loads(p.read_text())
    except (OSError, ValueError):
        return {}


def partner_paths(models_dir: str | Path | None = None, *, int8: bool = False) -> list[tuple[Path, float]]:
    """The path's partner files (:data:`RECIPES`) that lie in ``models_dir``, each with its weight."""
    folder = Path(models_dir or config.MODELS_DIR)
    return [(folder / name, weight) for name, weight in RECIPES[bool(int8)].partners if (folder / name).is_file()]


def publictest_figures(models_dir: str | Path | None = None, *, int8: bool = False) -> dict | None:
    """The recorded PublicTest figures of what ``FerVggClassifier(models_dir, int8=int8)`` runs: the whole
    path's (``fer_vgg.json`` ``photo_path`` / ``live_path``) when its partner files lie beside the first one
    and the record names exactly those files, weights (``members``, ``weights``: 1 each when absent) and
    views; the single first file's (``publictest`` for float32 with the mirror, ``int8.publictest_no_tta``
    for int8 in one pass) when no partner does and the views are the same; None otherwise."""
    meta = read_metadata(models_dir)
    if not isinstance(meta, dict):
        return None
    recipe = RECIPES[bool(int8)]
    present = partner_paths(models_dir, int8=int8)
    if present:
        whole = meta.get("live_path" if int8 else "photo_path")
        if not isinstance(whole, dict) or not isinstance(whole.get("publictest"), dict):
            return None
        members = [recipe.first] + [path.name for path, _ in present]
        weights = [1.0] + [weight for _, weight in present]
        recorded = whole.get("weights", [1.0] * len(members))
        same = (whole.get("members") == members and recorded == weights
                and recorded_views(whole["publictest"]) == recipe.views)
        return whole["publictest"] if same else None
    if recipe.first == INT8_FILE:
        q = meta.get("int8")
        single, views = (q.get("publictest_no_tta") if isinstance(q, dict) else None), "one"
    else:
        single, views = meta.get("publictest"), "mirror"
    return single if isinstance(single, dict) and recipe.views == views else None


class FerVggClassifier(OnnxEmotionClassifier):
    """EmotionClassifier: uint8 (N, 48, 48) crops -> float32 (N, 7) probabilities (EMOTIONS order).

    ``int8``: False runs the photo path's recipe, True the live path's (:data:`RECIPES`; both are int8
    files since round 9). ``tta``: None scores the recipe's views; False only the crop itself; True the
    recipe's views, or the crop and its mirror image when the recipe has one view. ``views``: another
    view set of :mod:`emotion.classify.views` by name (the export and the lab measure files so).
    ``model_file``: any other ONNX file with the same input/output (candidates in evaluate), alone.
    ``partner``: also run the recipe's partner networks (those present) and average them with the first
    file at their weights; on FER2013 PublicTest and on real photos each path's average beats its first
    network alone. Never for a ``model_file``."""

    input_size = INPUT_SIZE
    preprocess = staticmethod(preprocess)

    def __init__(self, models_dir: str | Path | None = None, *, int8: bool = False, tta: bool | None = None,
                 threads: int | None = None, model_file: str | Path | None = None, partner: bool = True,
                 views: str | None = None):
        recipe = RECIPES[bool(int8)]
        path = Path(model_file) if model_file else first_path(models_dir, int8=int8)
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: train it with `python -m emotion train` and export "
                                    f"it with `python -m emotion train --export`")
        self.name = "fer_vgg_int8" if int8 else "fer_vgg"
        self.metadata = read_metadata(path.parent)
        views = view_set(views or recipe.views)
        if tta is False:
            views = VIEWS["one"]
        elif tta and len(views) == 1:
            views = VIEWS["mirror"]
        self.views = views
        self._open(path, threads)
        if partner and not model_file:
            for other, weight in partner_paths(path.parent, int8=int8):
                self._add_member(other, weight)
