"""Face-shape measures from dlib's 68 landmarks, for the liveness challenge.

Every measure is a ratio of distances inside the face, so it does not change when the whole face
moves, scales or rolls in the image (a photo moved, tilted or brought nearer the camera keeps its
values). Points are first rotated so that the eye line is horizontal ("face frame").

* `eye_aspect_ratio` - Soukupova & Cech's EAR: (|p2-p6| + |p3-p5|) / (2 |p1-p4|), mean of both eyes;
  about 0.25-0.35 for open eyes, below ~0.2 for closed ones (the level depends on the person, hence
  the per-user baseline in `detectors`).
* `yaw` - where the nose tip lies between the two sides of the face outline at eye level
  (jaw points 0 and 16) and between the outer eye corners (36, 45): -1 .. +1, 0 when frontal.
  Positive = the nose moved towards the image's right = the subject turned to THEIR left (camera
  frames reach the server unmirrored; only the browser's preview is mirrored).
* `mouth_width` - corner-to-corner mouth width (48-54) / inter-ocular distance; grows with a smile.
* `brow_height` - mean height of the ten brow points above the eye line / height of the nose base
  (point 33) below it; grows when the eyebrows are raised. Both are vertical, so turning the head
  (which shortens horizontal distances) does not change it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Shape", "measure", "eye_aspect_ratio", "yaw", "mouth_width", "brow_height", "face_frame"]


def _pts(landmarks: np.ndarray) -> np.ndarray:
    pts = np.asarray(landmarks, dtype=np.float64)
    if pts.shape != (68, 2) or not np.all(np.isfinite(pts)):
        raise ValueError(f"expected finite (68, 2) landmarks, got shape {pts.shape}")
    return pts


def _eye_centres(pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return pts[36:42].mean(0), pts[42:48].mean(0)


def face_frame(landmarks: np.ndarray) -> tuple[np.ndarray, float]:
    """(points rotated so the eye line is horizontal, origin at the eye midpoint; inter-ocular distance)."""
    pts = _pts(landmarks)
    a, b = _eye_centres(pts)
    d = b - a
    iod = float(np.hypot(*d))
    if iod < 1e-6:
        raise ValueError("degenerate landmarks (eyes coincide)")
    c, s = d / iod
    rot = np.array([[c, s], [-s, c]])
    return (pts - (a + b) / 2.0) @ rot.T, iod


def _ear_one(eye: np.ndarray) -> float:
    p1, p2, p3, p4, p5, p6 = eye
    width = np.hypot(*(p1 - p4))
    if width < 1e-6:
        return 0.0
    return float((np.hypot(*(p2 - p6)) + np.hypot(*(p3 - p5))) / (2.0 * width))


def eye_aspect_ratio(landmarks: np.ndarray) -> float:
    pts = _pts(landmarks)
    return 0.5 * (_ear_one(pts[36:42]) + _ear_one(pts[42:48]))


def yaw(landmarks: np.ndarray) -> float:
    f, _ = face_frame(landmarks)
    nose = f[30, 0]

    def rel(left: float, right: float) -> float:
        span = right - left
        if abs(span) < 1e-6:
            return 0.0
        return float(np.clip(2.0 * (nose - left) / span - 1.0, -1.5, 1.5))

    return 0.5 * (rel(f[0, 0], f[16, 0]) + rel(f[36, 0], f[45, 0]))


def mouth_width(landmarks: np.ndarray) -> float:
    f, iod = face_frame(landmarks)
    return float(np.hypot(*(f[54] - f[48])) / iod)


def brow_height(landmarks: np.ndarray) -> float:
    f, iod = face_frame(landmarks)
    eye_y = 0.5 * (f[36:42, 1].mean() + f[42:48, 1].mean())
    nose = f[33, 1] - eye_y
    if nose < 0.05 * iod:
        raise ValueError("degenerate landmarks (nose not below the eyes)")
    return float((eye_y - f[17:27, 1].mean()) / nose)


@dataclass(frozen=True)
class Shape:
    """The four measures of one frame's landmarks."""

    ear: float
    yaw: float
    mouth: float
    brow: float


def measure(landmarks: np.ndarray) -> Shape:
    return Shape(ear=eye_aspect_ratio(landmarks), yaw=yaw(landmarks), mouth=mouth_width(landmarks),
                 brow=brow_height(landmarks))
