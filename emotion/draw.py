"""Drawing results on an image: boxes, names, dominant emotion + score, landmarks, an info line.

`annotate(bgr, faces, *, landmarks=True, fps=None, extra_text=None, labels=None)` returns an annotated
copy (the input is never modified). Line widths, font size and point radius follow the image size, so
labels are readable on a 320 px thumbnail and on a 4000 px photo. Each emotion has its own colour
(`emotion.palette`); unknown people are labelled in grey.

Each label starts with the face's number: faces are numbered 1, 2, 3 ... left to right
(`face_order`), the same numbers as the results table. Labels are placed by
`emotion.label_layout.place_labels`: inside the image, never over each other or the info line,
smaller for small faces.

`labels` translates the emotion names and "unknown" (the UI passes the user's language). ASCII text
is drawn with OpenCV; other text (Chinese labels, a name typed as "张伟") with Pillow and a CJK font
(`emotion.fonts.cjk_font`), only the text's own small patch, its mask cached per (text, size). With
no such font, `can_draw_cjk()` is False and callers pass English labels.
"""
from __future__ import annotations

import functools
from typing import Mapping, Sequence

import cv2
import numpy as np

from emotion.palette import EMOTION_BGR, EMOTION_RGB, KNOWN_RGB, NO_EMOTION_RGB, UNKNOWN_RGB
from emotion.label_layout import Rect, place_labels
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


def face_label(face: FaceRecord, labels: Mapping[str, str] | None = None) -> tuple[str, str]:
    """(name line, emotion line), e.g. ("Alice", "happy 0.93"); `labels` translates the emotion
    names and "unknown"."""
    labels = labels or {}
    known = face.identity is not None and face.identity.known
    name = face.identity.name if known else labels.get("unknown", "unknown")
    emo = ""
    if face.scores is not None:
        emo = f"{labels.get(face.dominant, face.dominant)} {face.dominant_score:.2f}"
    elif getattr(face, "too_small", False):
        emo = labels.get("too_small", "too small")
    return name, emo


def face_order(faces: Sequence[FaceRecord]) -> list[int]:
    """Indices of `faces` left to right (then top to bottom): face number k is `face_order(...)[k-1]`."""
    return sorted(range(len(faces)), key=lambda i: (faces[i].box.x, faces[i].box.y, i))


def face_numbers(faces: Sequence[FaceRecord]) -> list[int]:
    """The number (1, 2, 3 ... left to right) of each face, in the order of `faces`."""
    numbers = [0] * len(faces)
    for n, i in enumerate(face_order(faces), 1):
        numbers[i] = n
    return numbers


def _thickness(thick: int, s: float) -> int:
    return max(1, int(round(thick * s)))


def can_draw_cjk() -> bool:
    """True when a CJK font is installed (labels in Chinese can be drawn)."""
    from emotion.fonts import cjk_font

    return cjk_font() is not None


@functools.lru_cache(maxsize=16)
def _font(size: int):  # noqa: ANN202 - a PIL ImageFont
    from PIL import ImageFont

    from emotion.fonts import cjk_font

    return ImageFont.truetype(str(cjk_font()), size)


@functools.lru_cache(maxsize=1024)
def _text_mask(text: str, size: int) -> tuple[np.ndarray, int]:
    """(coverage mask uint8 (h, w) of `text` at `size` px, its baseline offset), drawn once."""
    from PIL import Image, ImageDraw

    font = _font(size)
    left, top, right, bottom = font.getbbox(text)
    mask = Image.new("L", (max(1, right - left), max(1, bottom - top)), 0)
    ImageDraw.Draw(mask).text((-left, -top), text, fill=255, font=font)
    return np.asarray(mask), top


@functools.lru_cache(maxsize=4096)
def _text_size(text: str, scale: float, thick: int) -> tuple[int, int, int, np.ndarray | None]:
    """(width, height above the baseline, below it, Pillow mask or None for OpenCV text); cached: a
    stream draws the same few labels ("3 unknown", "happy") frame after frame."""
    (tw, th), base = cv2.getTextSize(text, FONT, scale, thick)
    if text.isascii() or not can_draw_cjk():
        return tw, th, base, None
    mask, _ = _text_mask(text, max(8, int(round((th + base) * 1.05))))
    return mask.shape[1], mask.shape[0], 0, mask


def _line_size(text: str, scale: float, thick: int) -> tuple[int, int, int, int]:
    """(width, height, baseline, pad) of one label line with its background."""
    tw, th, base, _ = _text_size(text, scale, thick)
    pad = max(1, int(round(th * 0.25)))
    return tw + 2 * pad, th + base + 2 * pad, base, pad


def _block_size(lines: Sequence[tuple[str, tuple]], scale: float, thick: int) -> tuple[int, int]:
    sizes = [_line_size(text, scale, thick) for text, _ in lines]
    return max(w for w, *_ in sizes), sum(h for _, h, *_ in sizes)


def _draw_block(img, lines: Sequence[tuple[str, tuple]], x: int, y: int, scale: float, thick: int) -> None:
    for text, bg in lines:
        w, h, base, pad = _line_size(text, scale, thick)
        cv2.rectangle(img, (x, y), (x + w - 1, y + h - 1), bg, -1)
        fg = _ink_for(bg)
        mask = _text_size(text, scale, thick)[3]
        if mask is None:
            cv2.putText(img, text, (x + pad, y + h - pad - base), FONT, scale, fg, thick, cv2.LINE_AA)
        else:  # blend the text's colour through its mask, on its own patch only
            x0, y0 = x + pad, y + pad
            patch = img[y0:y0 + mask.shape[0], x0:x0 + mask.shape[1]]
            a = mask[:patch.shape[0], :patch.shape[1], None].astype(np.float32) * (1.0 / 255.0)
            patch[:] = (patch * (1.0 - a) + np.asarray(fg, np.float32) * a).astype(np.uint8)
        y += h


def _ink_for(bg: tuple[int, int, int]) -> tuple[int, int, int]:
    b, g, r = bg
    return (0, 0, 0) if (0.114 * b + 0.587 * g + 0.299 * r) > 140 else (255, 255, 255)


def _label_blocks(faces: Sequence[FaceRecord],
                  labels: Mapping[str, str] | None = None) -> list[list[tuple[str, tuple]]]:
    """Each face's label lines: "<number> <name>" on the known/unknown colour, then the emotion."""
    blocks = []
    for face, number in zip(faces, face_numbers(faces)):
        name, emo = face_label(face, labels)
        known = face.identity is not None and face.identity.known
        emo_color = EMOTION_COLORS.get(face.dominant or "", NO_EMOTION_COLOR)
        blocks.append([(f"{number} {name}", KNOWN_COLOR if known else UNKNOWN_COLOR)]
                      + ([(emo, emo_color)] if emo else []))
    return blocks


def layout_labels(shape: tuple[int, ...], faces: Sequence[FaceRecord], reserved: Sequence[Rect] = (),
                  labels: Mapping[str, str] | None = None):
    """Where `annotate` puts each face's label on an image of `shape`: one
    `emotion.label_layout.Placement` per face (rect None: no room left for it)."""
    h, w = shape[:2]
    scale, thick, _ = _style(h, w)
    blocks = _label_blocks(faces, labels)
    return place_labels(
        [f.box for f in faces], [_block_size(lines, scale, thick) for lines in blocks], (w, h),
        measure=lambda i, s: _block_size(blocks[i], scale * s, _thickness(thick, s)), reserved=reserved)


def annotate(bgr: np.ndarray, faces: Sequence[FaceRecord], *, landmarks: bool = True, fps: float | None = None,
             extra_text: str | None = None, labels: Mapping[str, str] | None = None) -> np.ndarray:
    """An annotated copy of `bgr` (uint8 (H, W, 3), or gray); `labels` translates emotion names and
    "unknown" (see the module docstring)."""
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
    info = []
    if fps is not None:
        info.append(f"{fps:.1f} fps")
    if extra_text:
        info.append(str(extra_text))
    reserved = []
    if info:
        line = [("  ".join(info), (0, 0, 0))]
        _draw_block(img, line, 0, 0, scale, thick)
        reserved.append(Rect(0, 0, *_block_size(line, scale, thick)))
    blocks = _label_blocks(faces, labels)
    for lines, p in zip(blocks, layout_labels(img.shape, faces, reserved, labels)):
        if p.rect is not None:
            _draw_block(img, lines, p.rect.x, p.rect.y, scale * p.scale, _thickness(thick, p.scale))
    return img


def legend() -> dict[str, tuple[int, int, int]]:
    """Emotion -> RGB colour (for UI legends)."""
    return dict(EMOTION_RGB)


def to_png(bgr: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", np.asarray(bgr))
    if not ok:
        raise ValueError("could not encode the image as PNG")
    return buf.tobytes()
