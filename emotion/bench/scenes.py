"""The benchmarks' (and tests') real-face scenes, built from NASA's astronaut photo (scikit-image):
photos at several sizes and a group of four, moving-face and three-face video frames, a gallery
holding the astronaut, and the detector montage with its expected boxes."""
from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from emotion.records import Box

FRAME_W, FRAME_H = 640, 480
#: the astronaut's head in skimage.data.astronaut() (x, y, w, h), a margin around BlazeFace's face box
_HEAD = (120, 20, 210, 220)

#: the astronaut's face in the 512x512 photo (measured: per-coordinate median of the boxes of blazeface,
#: blazeface_full, opencv, mtcnn and dlib, which agree within a few px), x, y, w, h
ASTRONAUT_FACE = Box(177, 67, 93, 104)

#: (photo side in px, mirrored, tile column, tile row) of the montage's four copies
MONTAGE_LAYOUT = ((470, False, 0, 0), (400, True, 1, 0), (340, False, 0, 1), (290, True, 1, 1))
MONTAGE_SIZE = (1280, 960)


def astronaut_bgr(side: int | None = None) -> np.ndarray:
    """skimage's astronaut as BGR uint8, optionally resized to side x side."""
    from skimage import data

    bgr = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    if side is not None and side != bgr.shape[0]:
        interp = cv2.INTER_AREA if side < bgr.shape[0] else cv2.INTER_CUBIC
        bgr = cv2.resize(bgr, (side, side), interpolation=interp)
    return bgr


def _place(canvas: np.ndarray, side: int, mirrored: bool, x0: int, y0: int) -> Box:
    photo = astronaut_bgr(side)
    if mirrored:
        photo = photo[:, ::-1]
    canvas[y0:y0 + side, x0:x0 + side] = photo
    s = side / 512.0
    f = ASTRONAUT_FACE
    fx = (512 - f.x2) if mirrored else f.x
    return Box(x0 + round(fx * s), y0 + round(f.y * s), round(f.w * s), round(f.h * s))


def montage() -> tuple[np.ndarray, list[Box]]:
    """(1280x960 BGR image with four astronaut faces, their expected face boxes)."""
    width, height = MONTAGE_SIZE
    canvas = np.full((height, width, 3), 128, np.uint8)
    tw, th = width // 2, height // 2
    boxes = []
    for side, mirrored, col, row in MONTAGE_LAYOUT:
        x0 = col * tw + (tw - side) // 2
        y0 = row * th + (th - side) // 2
        boxes.append(_place(canvas, side, mirrored, x0, y0))
    return canvas, boxes


def single_on_canvas(face_fraction: float) -> tuple[np.ndarray, Box]:
    """One astronaut on a 1280x960 grey canvas, its face `face_fraction` of 1280 px wide."""
    width, height = MONTAGE_SIZE
    side = max(16, round(face_fraction * width * 512 / ASTRONAUT_FACE.w))
    side = min(side, height)
    canvas = np.full((height, width, 3), 128, np.uint8)
    box = _place(canvas, side, False, (width - side) // 2, (height - side) // 2)
    return canvas, box


def group_photo(face_bgr: np.ndarray) -> np.ndarray:
    """Four copies of a real face (two mirrored, different sizes) on one 4:3 canvas."""
    h, w = face_bgr.shape[:2]
    canvas = np.full((int(h * 1.5), int(w * 2.0), 3), 200, np.uint8)
    copies = [(face_bgr, 1.0, (0, 0)), (face_bgr[:, ::-1], 0.75, (w, 0)),
              (face_bgr, 0.55, (int(w * 0.1), h)), (face_bgr[:, ::-1], 0.6, (int(w * 1.2), int(h * 0.8)))]
    for img, s, (x, y) in copies:
        small = cv2.resize(img, (int(w * s), int(h * s)), interpolation=cv2.INTER_AREA)
        sh, sw = small.shape[:2]
        sh, sw = min(sh, canvas.shape[0] - y), min(sw, canvas.shape[1] - x)
        canvas[y:y + sh, x:x + sw] = small[:sh, :sw]
    return canvas


def resize_width(img: np.ndarray, width: int) -> np.ndarray:
    h, w = img.shape[:2]
    interp = cv2.INTER_AREA if width < w else cv2.INTER_CUBIC
    return cv2.resize(img, (width, int(round(h * width / w))), interpolation=interp)


def bench_images() -> list[tuple[str, np.ndarray, int]]:
    """(label, BGR image, faces in it)."""
    one = astronaut_bgr()
    group = group_photo(one)
    return [(f"1 face {w}px", resize_width(one, w), 1) for w in (640, 1920)] + \
           [(f"4 faces {w}px", resize_width(group, w), 4) for w in (640, 1920)]


def _head(scale: float = 1.0) -> np.ndarray:
    x, y, w, h = _HEAD
    patch = astronaut_bgr()[y:y + h, x:x + w]
    if scale != 1.0:
        patch = cv2.resize(patch, (int(round(w * scale)), int(round(h * scale))), interpolation=cv2.INTER_AREA)
    return patch


def background(width: int = FRAME_W, height: int = FRAME_H, seed: int = 0) -> np.ndarray:
    """A smooth warm-grey gradient with a little sensor-like noise (no faces in it)."""
    rng = np.random.default_rng(seed)
    gx = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    gy = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    base = 90 + 60 * gx + 40 * gy
    img = np.stack([base * 0.9, base, base * 1.1], axis=-1) + rng.normal(0, 3, (height, width, 1))
    return np.clip(img, 0, 255).astype(np.uint8)


def _paste(frame: np.ndarray, patch: np.ndarray, x: int, y: int) -> None:
    h, w = patch.shape[:2]
    x = int(np.clip(x, 0, frame.shape[1] - w))
    y = int(np.clip(y, 0, frame.shape[0] - h))
    frame[y:y + h, x:x + w] = patch


def moving_face_frames(n: int = 120, width: int = FRAME_W, height: int = FRAME_H) -> list[np.ndarray]:
    """`n` frames of the astronaut's head moving left to right (about 3.5 px a frame at n=120)."""
    head = _head()
    bg = background(width, height)
    h, w = head.shape[:2]
    frames = []
    for i in range(n):
        f = bg.copy()
        t = i / max(n - 1, 1)
        x = int(round(10 + t * (width - w - 20)))
        y = int(round((height - h) / 2 + 25 * np.sin(2 * np.pi * t)))
        _paste(f, head, x, y)
        frames.append(f)
    return frames


def three_face_frames(n: int = 120, width: int = FRAME_W, height: int = FRAME_H) -> list[np.ndarray]:
    """`n` frames holding three real faces (astronaut, mirrored, 0.85x brighter), drifting slowly."""
    a = _head(0.95)
    b = a[:, ::-1].copy()
    c = cv2.convertScaleAbs(_head(0.85), alpha=1.1, beta=12)
    bg = background(width, height, seed=1)
    frames = []
    for i in range(n):
        f = bg.copy()
        dx = int(round(6 * np.sin(2 * np.pi * i / max(n, 1))))
        _paste(f, a, 5 + dx, 20)
        _paste(f, b, 220 - dx, 240)
        _paste(f, c, 455 + dx, 60)
        frames.append(f)
    return frames


def astronaut_gallery(analyzer: Any):
    """A Gallery holding the astronaut (her embedding from the full photo), person id 1."""
    from emotion.recognize.gallery import Gallery

    faces = analyzer.embed_faces(astronaut_bgr())
    if not faces or faces[0].embedding is None:
        raise RuntimeError("no face found in the astronaut photo")
    rec = getattr(analyzer, "recognizer", None)
    metric = getattr(rec, "metric", "euclidean_l2")
    threshold = getattr(rec, "threshold", 0.6)
    return Gallery([(1, "Eileen Collins", np.asarray(faces[0].embedding, np.float32))], metric, threshold)

