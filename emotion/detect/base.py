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


def as_bgr(img: np.ndarray) -> np.ndarray:
    """Any detector input (gray, BGR, BGRA, non-uint8) as a contiguous uint8 BGR image."""
    import cv2

    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    elif img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    if img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(img)
