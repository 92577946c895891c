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
