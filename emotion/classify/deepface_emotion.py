"""DeepFace's FER2013 emotion model, selectable as "deepface" when its weights are already present.

The weights (``facial_expression_model_weights.h5`` with DeepFace's TensorFlow engine, ``.onnx`` with
its ONNX engine) are NOT shipped by any package installed here and are never downloaded: without the
file, building the classifier raises `WeightsMissing` naming the path where the file must be put.

Input: the same FER-framed uint8 (N, 48, 48) crops as fer_cnn; DeepFace feeds its model grayscale
48x48 in [0, 1], so the crops are only scaled by 1/255. Its labels are FER2013's order, like ours.
"""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from emotion.classify.base import as_crop_batch

NAME = "deepface"
INPUT_SIZE = 48
WEIGHTS = {"tensorflow": "facial_expression_model_weights.h5", "onnx": "facial_expression_model_weights.onnx"}


class WeightsMissing(FileNotFoundError):
    pass


def weights_file() -> Path:
    from emotion.deepface_home import weight_path

    try:
        from deepface.commons import backend_utils

        engine = backend_utils.get_backend_engine()
    except Exception:
        engine = "tensorflow"
    return weight_path(WEIGHTS.get(engine, WEIGHTS["tensorflow"]))


def is_available() -> bool:
    return weights_file().is_file()


class DeepFaceEmotionClassifier:
    """EmotionClassifier around DeepFace's EmotionClient: uint8 (N, 48, 48) -> float32 (N, 7)."""

    name = NAME
    input_size = INPUT_SIZE

    def __init__(self) -> None:
        from emotion.deepface_home import prepare_deepface_home

        prepare_deepface_home()
        path = weights_file()
        if not path.is_file():
            raise WeightsMissing(
                f"weights missing at {path}; download {path.name} from DeepFace's model releases "
                "(github.com/serengil/deepface_models) and put it there - this app never downloads weights")
        from deepface.modules import modeling

        self.path = path
        self._client = modeling.build_model(task="facial_attribute", model_name="Emotion")
        self._lock = threading.Lock()

    def predict(self, crops: np.ndarray) -> np.ndarray:
        crops = as_crop_batch(crops, INPUT_SIZE)
        if len(crops) == 0:
            return np.zeros((0, 7), np.float32)
        x = (crops.astype(np.float32) / 255.0)[..., None]
        with self._lock:
            p = np.asarray(self._client._predict_internal(x), dtype=np.float32)
        p = np.atleast_2d(p)
        return p / np.maximum(p.sum(axis=1, keepdims=True), 1e-12)
