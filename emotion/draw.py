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

from emotion.palette import EMOTION_BGR, EMOTION_RGB, KNOWN_RGB, NO_EMOTION_RGB, UNKNOWN_RGB
from emotion.records import FaceRecord

EMOTION_COLORS = EMOTION_BGR  # BGR colour per emotion (emotion.palette)
NO_EMOTION_COLOR = NO_EMOTION_RGB[::-1]
UNKNOWN_COLOR = UNKNOWN_RGB[::-1]
KNOWN_COLOR = KNOWN_RGB[::-1]
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
    elif getattr(face, "too_small", False):
        emo = "too small"
    return name, emo


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
             extra_text: str | None = None) -> np.ndarray:
    """An annotated copy of `bgr` (uint8 (H, W, 3), or gray)."""
    img = np.array(bgr, dtype=np.uint8, copy=True)
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    h, w = img.shape[:2]
    scale, thick, radius = _style(h, w)
    for face in faces:
        b = face.box
        emo_color = EMOTION_COLORS.get(face.dominant or "", NO_EMOTION_COLOR)
        known = face.identity is not None and face.identity.known
        box_color = emo_color if face.scores is not None else (KNOWN_COLOR if known else UNKNOWN_COLOR)
        cv2.rectangle(img, (b.x, b.y), (b.x2 - 1, b.y2 - 1), box_color, thick, cv2.LINE_AA)
        if landmarks and face.landmarks is not None:
            for x, y in np.asarray(face.landmarks):
                cv2.circle(img, (int(round(x)), int(round(y))), radius, LANDMARK_COLOR, -1, cv2.LINE_AA)
        name, emo = face_label(face)
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
    return dict(EMOTION_RGB)


def to_png(bgr: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", np.asarray(bgr))
    if not ok:
        raise ValueError("could not encode the image as PNG")
    return buf.tobytes()
