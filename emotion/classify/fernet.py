"""Deprecated alias of `emotion.classify.fer_cnn` (the classifier's name before the rename), kept only
for emotion/train/ until its owner switches its imports; then delete this file."""
from __future__ import annotations

from emotion.classify.fer_cnn import (  # noqa: F401
    INPUT_SIZE,
    META_FILE,
    MODEL_FILE,
    PREPROCESSING,
    FerCnnClassifier,
    model_path,
    preprocess,
    read_metadata,
)

FerNetClassifier = FerCnnClassifier

__all__ = ["INPUT_SIZE", "META_FILE", "MODEL_FILE", "PREPROCESSING", "FerCnnClassifier", "FerNetClassifier",
           "model_path", "preprocess", "read_metadata"]
