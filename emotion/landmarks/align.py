"""Alignment: eye centres, and the two crops the later stages take.

* `fer_crop` - the 48x48 grayscale crop for the emotion classifier, framed like FER2013's images.
* `recognition_chip` - the 150x150 RGB chip for dlib's ResNet, exactly as `dlib.get_face_chip` makes it
  (68- or 5-point shape, padding 0.25).

FER2013 framing (measured, not guessed). Command:

    python -m tools.measure_fer_template --n 800 --scale 4 --pad 24 --split PublicTest

800 PublicTest images sampled (seed 0), upscaled x4 bicubic, replicated 24 px border, dlib HOG face
found in 624, dlib 68-point predictor, points mapped back to the 48x48 frame (pixel centres):

    image-left eye centre  (mean of points 36-41)  median (14.62, 18.46)  MAD (1.21, 1.38)
    image-right eye centre (mean of points 42-47)  median (32.42, 18.25)  MAD (1.06, 1.46)
    mouth centre           (mean of points 48-67)  median (23.84, 37.45)  MAD (1.47, 1.76)
    nose tip (point 30)                            median (23.62, 27.88)
    inter-ocular distance median 17.63 px (MAD 1.62); eye-midpoint -> mouth 19.44 px; roll -0.75 deg

The crop is the least-squares similarity transform (rotation, uniform scale, translation) that maps
the face's two eye centres and mouth centre to those three template points (the mouth at half the
weight of an eye: it moves with the expression). With only two eyes (a detector's keypoints) it is
the exact similarity mapping the eyes; with only a box, a fixed guess of the eye positions in it.
"""
from __future__ import annotations

import cv2
import numpy as np

from emotion.records import Box

FER_SIZE = 48
#: template points in the 48x48 FER2013 frame (see the module docstring for how they were measured)
FER_LEFT_EYE = (14.62, 18.46)
FER_RIGHT_EYE = (32.42, 18.25)
FER_MOUTH = (23.84, 37.45)
#: measured too, not used by the engine's crop (tools/classifier_lab.py re-aligns with it to compare framings)
FER_NOSE_TIP = (23.62, 27.88)
FER_MOUTH_WEIGHT = 0.5

CHIP_SIZE = 150
CHIP_PADDING = 0.25


# ----------------------------------------------------------------------------- points
def eye_centers(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(image-left eye, image-right eye) centres from 68 points (means of 36-41 and 42-47) or from
    5 points (dlib's 5-point model: 0-1 one eye's corners, 2-3 the other's)."""
    pts = np.asarray(landmarks, dtype=np.float64)
    if len(pts) == 68:
        a, b = pts[36:42].mean(0), pts[42:48].mean(0)
    elif len(pts) == 5:
        a, b = pts[0:2].mean(0), pts[2:4].mean(0)
    else:
        raise ValueError(f"expected 68 or 5 landmarks, got {len(pts)}")
    return (a, b) if a[0] <= b[0] else (b, a)


def mouth_center(landmarks: np.ndarray) -> np.ndarray | None:
    pts = np.asarray(landmarks, dtype=np.float64)
    return pts[48:68].mean(0) if len(pts) == 68 else None


def roll_degrees(left_eye, right_eye) -> float:
    """Angle of the eye line; rotating the image by -roll makes the eyes horizontal."""
    dx, dy = right_eye[0] - left_eye[0], right_eye[1] - left_eye[1]
    return float(np.degrees(np.arctan2(dy, dx)))


def similarity_transform(src: np.ndarray, dst: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Weighted least-squares similarity (Umeyama, no reflection) with dst ~ M @ [src, 1]. Returns 2x3."""
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    w = np.ones(len(src)) if weights is None else np.asarray(weights, np.float64)
    w = w / w.sum()
    mu_s, mu_d = w @ src, w @ dst
    s, d = src - mu_s, dst - mu_d
    # complex-number form of the 2-D similarity: d = z * s, z = a + ib
    a = np.sum(w * (s[:, 0] * d[:, 0] + s[:, 1] * d[:, 1]))
    b = np.sum(w * (s[:, 0] * d[:, 1] - s[:, 1] * d[:, 0]))
    var = np.sum(w * (s ** 2).sum(1))
    if var <= 1e-12:
        raise ValueError("degenerate points for alignment")
    a, b = a / var, b / var
    R = np.array([[a, -b], [b, a]])
    t = mu_d - R @ mu_s
    return np.hstack([R, t[:, None]])


def box_eye_guess(box: Box) -> tuple[np.ndarray, np.ndarray]:
    """Eye positions guessed from a face box when no landmarks or keypoints are available."""
    x, y, w, h = box.as_tuple()
    return np.array([x + 0.31 * w, y + 0.40 * h]), np.array([x + 0.69 * w, y + 0.40 * h])


def fer_transform(landmarks: np.ndarray | None = None, left_eye=None, right_eye=None,
                  box: Box | None = None, size: int = FER_SIZE) -> np.ndarray:
    """2x3 matrix from image coordinates to the `size` x `size` FER frame."""
    k = size / FER_SIZE
    tmpl = np.array([FER_LEFT_EYE, FER_RIGHT_EYE, FER_MOUTH]) * k + (k - 1) / 2  # pixel-centre scaling
    if landmarks is not None and len(landmarks) == 68:
        le, re = eye_centers(landmarks)
        src = np.array([le, re, mouth_center(landmarks)])
        return similarity_transform(src, tmpl, np.array([1.0, 1.0, FER_MOUTH_WEIGHT]))
    if landmarks is not None:
        left_eye, right_eye = eye_centers(landmarks)
    if left_eye is None or right_eye is None:
        if box is None:
            raise ValueError("fer_transform needs landmarks, eye centres or a box")
        left_eye, right_eye = box_eye_guess(box)
    le, re = sorted([np.asarray(left_eye, float), np.asarray(right_eye, float)], key=lambda p: p[0])
    return similarity_transform(np.array([le, re]), tmpl[:2])


# ----------------------------------------------------------------------------- warping
def warp(img: np.ndarray, M: np.ndarray, size: int, border: int = cv2.BORDER_REPLICATE) -> np.ndarray:
    """warpAffine to a `size` square without aliasing: when M shrinks a lot, only the source region that
    the output covers is cut out and area-downscaled first, so a 4000 px face costs as much as a 200 px one."""
    M = np.asarray(M, np.float64)
    scale = float(np.sqrt(abs(np.linalg.det(M[:, :2]))))
    h, w = img.shape[:2]
    Minv = cv2.invertAffineTransform(M)
    corners = np.array([[0, 0, 1], [size, 0, 1], [0, size, 1], [size, size, 1]], np.float64)
    src = corners @ Minv.T
    x0, y0 = np.floor(src.min(0)).astype(int) - 2
    x1, y1 = np.ceil(src.max(0)).astype(int) + 2
    # cut out the region (clipped), remember the offset
    cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if cx1 <= cx0 or cy1 <= cy0:
        region, ox, oy = img[0:1, 0:1], 0.0, 0.0
    else:
        region, ox, oy = img[cy0:cy1, cx0:cx1], float(cx0), float(cy0)
    M2 = M.copy()
    M2[:, 2] += M[:, :2] @ np.array([ox, oy])
    if scale < 0.5 and region.shape[0] > 2 and region.shape[1] > 2:
        f = min(1.0, 2.0 * scale)  # leave ~2x for the final bilinear step
        rw, rh = max(1, int(round(region.shape[1] * f))), max(1, int(round(region.shape[0] * f)))
        fx, fy = rw / region.shape[1], rh / region.shape[0]
        region = cv2.resize(region, (rw, rh), interpolation=cv2.INTER_AREA)
        # map resized-region pixel centres back: x_orig = (x_small + 0.5) / fx - 0.5
        S = np.array([[1 / fx, 0, 0.5 / fx - 0.5], [0, 1 / fy, 0.5 / fy - 0.5], [0, 0, 1]])
        M2 = M2 @ S
    return cv2.warpAffine(np.ascontiguousarray(region), M2, (size, size), flags=cv2.INTER_LINEAR, borderMode=border)


def to_gray(img: np.ndarray) -> np.ndarray:
    if img.ndim == 2:
        return img
    return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)


def fer_crop(bgr_or_gray: np.ndarray, landmarks: np.ndarray | None = None, left_eye=None, right_eye=None,
             box: Box | None = None, size: int = FER_SIZE) -> np.ndarray:
    """uint8 (size, size) grayscale crop in FER2013's framing (eyes horizontal, template positions)."""
    M = fer_transform(landmarks, left_eye, right_eye, box, size)
    out = warp(bgr_or_gray, M, size)
    return to_gray(out)


def _dlib_shape(points: np.ndarray):
    import dlib

    pts = np.asarray(points, np.float64)
    x0, y0 = pts.min(0)
    x1, y1 = pts.max(0)
    rect = dlib.rectangle(int(x0), int(y0), int(np.ceil(x1)), int(np.ceil(y1)))
    return dlib.full_object_detection(rect, [dlib.point(int(round(x)), int(round(y))) for x, y in pts])


def recognition_chip(bgr: np.ndarray, landmarks: np.ndarray, size: int = CHIP_SIZE,
                     padding: float = CHIP_PADDING) -> np.ndarray:
    """uint8 (size, size, 3) RGB chip, as dlib.get_face_chip(rgb, shape, size, padding) with the 68- or
    5-point `landmarks` (image coordinates). Only the face's neighbourhood is converted to RGB."""
    import dlib

    pts = np.asarray(landmarks, np.float64)
    h, w = bgr.shape[:2]
    x0, y0 = pts.min(0)
    x1, y1 = pts.max(0)
    m = (1.0 + padding) * max(x1 - x0, y1 - y0) + 4
    cx0, cy0 = max(0, int(x0 - m)), max(0, int(y0 - m))
    cx1, cy1 = min(w, int(np.ceil(x1 + m))), min(h, int(np.ceil(y1 + m)))
    region = bgr[cy0:cy1, cx0:cx1]
    rgb = np.ascontiguousarray(region[:, :, ::-1]) if region.ndim == 3 else cv2.cvtColor(region, cv2.COLOR_GRAY2RGB)
    shape = _dlib_shape(pts - np.array([cx0, cy0]))
    return np.asarray(dlib.get_face_chip(rgb, shape, size=size, padding=padding), dtype=np.uint8)
