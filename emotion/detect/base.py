"""Face detector interface: a BGR uint8 image in, `Detection`s out (image pixel coordinates), and the
helpers every detector caller shares (input normalisation, the downscale-run-map-back step)."""
from __future__ import annotations

from typing import Callable, Protocol, runtime_checkable

import numpy as np

from emotion.records import Box, Detection


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


def downscale(bgr: np.ndarray, max_side: int | None = None, *, max_width: int | None = None
              ) -> tuple[np.ndarray, float]:
    """(a copy at most `max_side` px on its longer side and at most `max_width` px wide, the factor
    small / original); the image itself and 1.0 when it is small enough already. Never enlarges."""
    from emotion.imageio import downscale_for_analysis

    h, w = bgr.shape[:2]
    factors = [f for f in ((max_side / max(h, w)) if max_side else None,
                           (max_width / w) if max_width else None) if f is not None]
    s = min(factors, default=1.0)
    if s >= 1.0:
        return bgr, 1.0
    return downscale_for_analysis(bgr, max(1, int(round(max(h, w) * s))))


def map_back(d: Detection, scale: float, width: int, height: int) -> Detection:
    """A detection found on a copy scaled by `scale` (small / original), in the original's pixels
    (pixel-centre convention for the eyes), its box clipped to ``width`` x ``height``."""
    if scale == 1.0:
        return Detection(d.box.clip(width, height), d.confidence, d.left_eye, d.right_eye)
    inv = 1.0 / scale
    b = d.box
    x1, y1 = int(round(b.x * inv)), int(round(b.y * inv))
    x2, y2 = int(round(b.x2 * inv)), int(round(b.y2 * inv))
    box = Box(x1, y1, x2 - x1, y2 - y1).clip(width, height)

    def pt(p: tuple[float, float] | None) -> tuple[float, float] | None:
        return None if p is None else ((p[0] + 0.5) * inv - 0.5, (p[1] + 0.5) * inv - 0.5)

    return Detection(box, d.confidence, pt(d.left_eye), pt(d.right_eye))


def detect_downscaled(detect: Callable[[np.ndarray], list[Detection]], bgr: np.ndarray,
                      max_side: int | None = None, *, max_width: int | None = None) -> list[Detection]:
    """The one downscale-run-map-back step: `detect` runs on a shrunk copy of `bgr` (see `downscale`)
    and its detections come back in `bgr`'s pixels, clipped, in the detector's order."""
    h, w = bgr.shape[:2]
    small, scale = downscale(bgr, max_side, max_width=max_width)
    return [map_back(d, scale, w, h) for d in detect(small)]
