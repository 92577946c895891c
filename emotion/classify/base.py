"""Emotion classifier interface: FER-framed 48x48 grayscale crops in, 7 probabilities out."""
from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class EmotionClassifier(Protocol):
    name: str
    #: side of the square grayscale crop the model takes (the FER2013 framing, see emotion.landmarks.align)
    input_size: int

    def predict(self, crops: np.ndarray) -> np.ndarray:
        """crops: uint8 (N, S, S) grayscale, S == input_size. Returns float32 (N, 7) in EMOTIONS order,
        each row summing to 1."""
        ...


def as_crop_batch(crops: np.ndarray, size: int) -> np.ndarray:
    """`crops` as a (N, size, size) array (a single 2-D crop becomes a batch of one); ValueError on any
    other shape. Every classifier's predict starts with it."""
    crops = np.asarray(crops)
    if crops.ndim == 2:
        crops = crops[None]
    if crops.ndim != 3 or crops.shape[1:] != (size, size):
        raise ValueError(f"expected uint8 (N, {size}, {size}) crops, got {crops.shape}")
    return crops
