"""Face detector interface: a BGR uint8 image in, `Detection`s out (image pixel coordinates)."""
from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from emotion.records import Detection


@runtime_checkable
class FaceDetector(Protocol):
    name: str

    def detect(self, bgr: np.ndarray) -> list[Detection]:
        """bgr: uint8 (H, W, 3). Returns faces sorted by confidence, boxes clipped to the image."""
        ...
