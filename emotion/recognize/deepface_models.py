"""DeepFace's other face recognisers (Facenet, ArcFace, VGG-Face, SFace, ...), offline only.

A model is usable only when its weights file is already in DeepFace's weight folder
(``$DEEPFACE_HOME/.deepface/weights``, see `emotion.deepface_home`): the file's presence is checked
*before* DeepFace is asked to build the model, so DeepFace never starts a download. Which file a model
needs depends on DeepFace's backend engine (TensorFlow here: ``.h5`` files; ONNX: ``.onnx``).

Input: the same aligned 150x150 RGB chip as the dlib recogniser (`recognition_chip`), resized to the
model's input size and normalised as DeepFace's `represent` does it (BGR, [0, 1], DeepFace's
letterbox `resize_image`, then `normalize_input` with the model's usual normalisation).
Thresholds: DeepFace's own pre-tuned ``euclidean_l2`` thresholds (`deepface.modules.verification`).
"""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

#: model name -> {backend engine: weights file name}; "any" = the same file whatever the engine
WEIGHTS: dict[str, dict[str, str]] = {
    "VGG-Face": {"tensorflow": "vgg_face_weights.h5", "onnx": "vgg_face_weights.onnx"},
    "Facenet": {"tensorflow": "facenet_weights.h5", "onnx": "facenet_weights.onnx"},
    "Facenet512": {"tensorflow": "facenet512_weights.h5", "onnx": "facenet512_weights.onnx"},
    "OpenFace": {"tensorflow": "openface_weights.h5", "onnx": "openface_weights.onnx"},
    "DeepFace": {"tensorflow": "VGGFace2_DeepFace_weights_val-0.9034.h5",
                 "onnx": "VGGFace2_DeepFace_weights_val-0.9034.onnx"},
    "DeepID": {"tensorflow": "deepid_keras_weights.h5", "onnx": "deepid_weights.onnx"},
    "ArcFace": {"tensorflow": "arcface_weights.h5", "onnx": "arcface_weights.onnx"},
    "SFace": {"any": "face_recognition_sface_2021dec.onnx"},
    "GhostFaceNet": {"tensorflow": "ghostfacenet_v1.h5", "onnx": "ghostfacenet_v1.onnx"},
}
#: DeepFace's input normalisation per model (what its benchmarks used)
NORMALIZATION: dict[str, str] = {"Facenet": "Facenet", "Facenet512": "Facenet2018", "VGG-Face": "VGGFace",
                                 "ArcFace": "ArcFace"}
MODEL_NAMES = tuple(WEIGHTS)


class WeightsMissing(FileNotFoundError):
    pass


def backend_engine() -> str:
    from deepface.commons import backend_utils

    return backend_utils.get_backend_engine()


def weights_file(name: str) -> Path:
    """Where DeepFace looks for `name`'s weights with the current backend engine."""
    from emotion.deepface_home import weight_path

    if name not in WEIGHTS:
        raise KeyError(f"unknown DeepFace recogniser {name!r} (one of {', '.join(MODEL_NAMES)})")
    files = WEIGHTS[name]
    try:
        engine = backend_engine()
    except Exception:
        engine = "tensorflow"
    file_name = files.get("any") or files.get(engine) or next(iter(files.values()))
    return weight_path(file_name)


def is_available(name: str) -> bool:
    try:
        return weights_file(name).is_file()
    except KeyError:
        return False


def available_models() -> list[str]:
    return [n for n in MODEL_NAMES if is_available(n)]


class DeepFaceRecognizer:
    """FaceRecognizer around DeepFace's model class `name`. Raises `WeightsMissing` (with the path to
    put the file at) instead of letting DeepFace download."""

    metric = "euclidean_l2"

    def __init__(self, name: str) -> None:
        from emotion.deepface_home import prepare_deepface_home

        prepare_deepface_home()
        path = weights_file(name)
        if not path.is_file():
            raise WeightsMissing(f"DeepFace {name} weights missing at {path}; download the file (see DeepFace's "
                                 "releases) and put it there; this app never downloads weights")
        from deepface.modules import modeling, verification

        self.name = name
        self.path = path
        self._model = modeling.build_model(task="facial_recognition", model_name=name)
        h, w = self._model.input_shape[1], self._model.input_shape[0]  # DeepFace keeps (w, h)
        self._target = (h, w)
        self.input_size = 150  # the chip we are given; resized below
        self.dim = int(self._model.output_shape)
        self.threshold = float(verification.find_threshold(name, "euclidean_l2"))
        self._norm = NORMALIZATION.get(name, "base")
        self._lock = threading.Lock()

    def embed(self, chips: np.ndarray) -> np.ndarray:
        from deepface.modules import preprocessing

        chips = np.asarray(chips)
        if chips.ndim == 3:
            chips = chips[None]
        if len(chips) == 0:
            return np.zeros((0, self.dim), np.float32)
        batch = []
        for chip in chips:
            bgr = chip[:, :, ::-1].astype(np.float32) / 255.0
            img = preprocessing.resize_image(img=bgr, target_size=self._target)
            batch.append(preprocessing.normalize_input(img=img, normalization=self._norm))
        with self._lock:
            out = self._model.forward(np.concatenate(batch, axis=0))
        return np.atleast_2d(np.asarray(out, dtype=np.float32))
