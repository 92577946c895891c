"""Drawing results on an image: boxes, names, dominant emotion + score, landmarks, an info line.

`annotate(bgr, faces, *, landmarks=True, fps=None, extra_text=None)` returns an annotated copy (the
input is never modified). Line widths, font size and point radius follow the image size, so labels
are readable on a 320 px thumbnail and on a 4000 px photo. Each emotion has its own colour; unknown
people are labelled in grey.
"""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from emotion.records import EMOTIONS, FaceRecord

#: BGR colour per emotion
EMOTION_COLORS: dict[str, tuple[int, int, int]] = {
    "angry": (40, 40, 220),      # red
    "disgust": (40, 140, 40),    # green
    "fear": (160, 60, 140),      # purple
    "happy": (0, 200, 255),      # amber
    "sad": (200, 120, 30),       # blue
    "surprise": (220, 200, 0),   # cyan
    "neutral": (200, 200, 200),  # light grey
}
NO_EMOTION_COLOR = (255, 255, 255)
UNKNOWN_COLOR = (150, 150, 150)
KNOWN_COLOR = (80, 220, 80)
LANDMARK_COLOR = (255, 255, 0)
FONT = cv2.FONT_HERSHEY_SIMPLEX


def _style(h: int, w: int) -> tuple[float, int, int]:
    """(font scale, line thickness, point radius) for an image of this size."""
    side = max(1, min(h, w))
    scale = float(np.clip(side / 700.0, 0.35, 6.0))
    thick = max(1, int(round(side / 350.0)))
    radius = max(1, int(round(side / 450.0)))
    return scale, thick, radius


def face_label(face: FaceRecord) -> tuple[str, str]:
    """(name line, emotion line), e.g. ("Alice", "happy 0.93")."""
    name = face.identity.name if face.identity is not None else "unknown"
    emo = ""
    if face.scores is not None:
        emo = f"{face.dominant} {face.dominant_score:.2f}"
    return name, emo


def face_numbers(faces: Sequence[FaceRecord]) -> list[int]:
    """1-based number of each face, counted left to right (by box centre x, ties by y), in the
    order of `faces`: the numbers drawn on the image, for a results table to show the same ones."""
    order = sorted(range(len(faces)), key=lambda i: faces[i].box.center())
    numbers = [0] * len(faces)
    for n, i in enumerate(order, 1):
        numbers[i] = n
    return numbers


def _text_box(img, text: str, org: tuple[int, int], scale: float, thick: int, fg, bg) -> int:
    """Draw `text` with a filled background whose top-left is `org`; returns the block's height."""
    (tw, th), base = cv2.getTextSize(text, FONT, scale, thick)
    pad = max(1, int(round(th * 0.25)))
    h, w = img.shape[:2]
    x = int(np.clip(org[0], 0, max(0, w - tw - 2 * pad)))
    y = int(np.clip(org[1], 0, max(0, h - th - base - 2 * pad)))
    cv2.rectangle(img, (x, y), (x + tw + 2 * pad, y + th + base + 2 * pad), bg, -1)
    cv2.putText(img, text, (x + pad, y + pad + th), FONT, scale, fg, thick, cv2.LINE_AA)
    return th + base + 2 * pad


def _ink_for(bg: tuple[int, int, int]) -> tuple[int, int, int]:
    b, g, r = bg
    return (0, 0, 0) if (0.114 * b + 0.587 * g + 0.299 * r) > 140 else (255, 255, 255)


def annotate(bgr: np.ndarray, faces: Sequence[FaceRecord], *, landmarks: bool = True, fps: float | None = None,
             extra_text: str | None = None, numbers: bool = True) -> np.ndarray:
    """An annotated copy of `bgr` (uint8 (H, W, 3), or gray). With `numbers`, each name label starts
    with the face's number (`face_numbers`: 1, 2, 3 ... left to right)."""
    img = np.array(bgr, dtype=np.uint8, copy=True)
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    h, w = img.shape[:2]
    scale, thick, radius = _style(h, w)
    nums = face_numbers(faces)
    for face, num in zip(faces, nums):
        b = face.box
        emo_color = EMOTION_COLORS.get(face.dominant or "", NO_EMOTION_COLOR)
        known = face.identity is not None and face.identity.known
        box_color = emo_color if face.scores is not None else (KNOWN_COLOR if known else UNKNOWN_COLOR)
        cv2.rectangle(img, (b.x, b.y), (b.x2 - 1, b.y2 - 1), box_color, thick, cv2.LINE_AA)
        if landmarks and face.landmarks is not None:
            for x, y in np.asarray(face.landmarks):
                cv2.circle(img, (int(round(x)), int(round(y))), radius, LANDMARK_COLOR, -1, cv2.LINE_AA)
        name, emo = face_label(face)
        if numbers:
            name = f"{num}. {name}"
        name_bg = KNOWN_COLOR if known else UNKNOWN_COLOR
        (_, th), base = cv2.getTextSize(name, FONT, scale, thick)
        block = th + base + 2 * max(1, int(round(th * 0.25)))
        lines = [(name, name_bg)] + ([(emo, emo_color)] if emo else [])
        # above the box when there is room, else inside its top
        y = b.y - block * len(lines) if b.y - block * len(lines) >= 0 else b.y
        for text, bg in lines:
            y += _text_box(img, text, (b.x, y), scale, thick, _ink_for(bg), bg)
    info = []
    if fps is not None:
        info.append(f"{fps:.1f} fps")
    if extra_text:
        info.append(str(extra_text))
    if info:
        _text_box(img, "  ".join(info), (0, 0), scale, thick, (255, 255, 255), (0, 0, 0))
    return img


def legend() -> dict[str, tuple[int, int, int]]:
    """Emotion -> RGB colour (for UI legends)."""
    return {e: tuple(int(c) for c in EMOTION_COLORS[e][::-1]) for e in EMOTIONS}


def to_png(bgr: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", np.asarray(bgr))
    if not ok:
        raise ValueError("could not encode the image as PNG")
    return buf.tobytes()
