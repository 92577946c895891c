"""Face recogniser interface: an aligned face chip in, an embedding out."""
from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class FaceRecognizer(Protocol):
    name: str
    #: side of the square RGB chip the model takes
    input_size: int
    #: distance metric used for matching ("euclidean_l2" or "cosine") and its default threshold
    metric: str
    threshold: float

    def embed(self, chips: np.ndarray) -> np.ndarray:
        """chips: uint8 (N, S, S, 3) RGB aligned faces. Returns float32 (N, D)."""
        ...
