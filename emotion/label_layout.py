"""Where the text labels of a photo's faces go: a pure placement function, no drawing.

`place_labels(boxes, sizes, image_size)` gives each face's label a rectangle that lies inside the
image and intersects no other label's rectangle. It is greedy, one face at a time in reading order
(top to bottom, then left to right), and tries in turn:

1. the usual spots -- above the box, below it, inside its top or bottom edge (left-aligned, centred,
   right-aligned) -- first at the face's preferred font scale (smaller for small faces, so a label is
   never much wider than its face), then shrinking step by step down to `min_scale`; spots that
   cover another face are only taken when no clear spot exists;
2. the free spot nearest to the face (a search over a grid around it, then over the whole image) at
   `min_scale`, then at a last-resort `floor_scale`;
3. nothing: the label is hidden (`Placement.rect is None`) rather than drawn over another one. The
   face's number in the results table still identifies it.

Text sizes are given at scale 1.0; by default a label's size at scale `s` is that size times `s`.
A renderer whose fonts do not scale linearly (integer point sizes) passes `measure(i, s) -> (w, h)`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

from emotion.records import Box

Size = tuple[int, int]
Measure = Callable[[int, float], Size]


class Rect(Box):
    """A half-open pixel rectangle: covers x .. x+w-1, y .. y+h-1 (the face `Box` geometry, plus the
    overlap and containment tests the layout needs)."""

    def intersects(self, other: "Rect") -> bool:
        """True when the two rectangles share at least one pixel (touching edges do not count)."""
        return self.x < other.x2 and other.x < self.x2 and self.y < other.y2 and other.y < self.y2

    def inside(self, width: int, height: int) -> bool:
        return self.x >= 0 and self.y >= 0 and self.x2 <= width and self.y2 <= height


@dataclass(frozen=True)
class Placement:
    """One face's label: its rectangle (None when hidden), the font scale to draw it with (relative
    to the size it was measured at) and which rule placed it."""

    rect: Rect | None
    scale: float
    where: str  # "above" | "below" | "inside" | "near" | "hidden"


def _as_rect(box) -> Rect:
    if isinstance(box, Rect):
        return box
    if hasattr(box, "as_tuple"):
        box = box.as_tuple()
    x, y, w, h = (int(round(v)) for v in box)
    return Rect(x, y, max(0, w), max(0, h))


def _clamp(v: int, lo: int, hi: int) -> int:
    return lo if hi < lo else min(max(v, lo), hi)


def reading_order(boxes: Sequence) -> list[int]:
    """Indices of `boxes` top to bottom, then left to right (rows of faces whose tops are within half
    a face height of each other count as one row)."""
    rects = [_as_rect(b) for b in boxes]
    order = sorted(range(len(rects)), key=lambda i: (rects[i].y, rects[i].x))
    rows: list[list[int]] = []
    for i in order:
        if rows:
            first = rects[rows[-1][0]]
            if rects[i].y - first.y <= max(1, first.h) / 2:
                rows[-1].append(i)
                continue
        rows.append([i])
    return [i for row in rows for i in sorted(row, key=lambda j: (rects[j].x, rects[j].y))]


def _spots(face: Rect, w: int, h: int, width: int, height: int, gap: int) -> list[tuple[str, int, int]]:
    """The usual spots for a w x h label around `face`, x clamped into the image, best first."""
    xs = [face.x, face.x + (face.w - w) // 2, face.x2 - w]
    rows = [("above", face.y - h - gap), ("below", face.y2 + gap), ("inside", face.y + gap),
            ("inside", face.y2 - h - gap)]
    out: list[tuple[str, int, int]] = []
    seen: set[tuple[int, int]] = set()
    for where, y in rows:
        for x in xs:
            cx = _clamp(x, 0, width - w)
            if (cx, y) not in seen:
                seen.add((cx, y))
                out.append((where, cx, y))
    return out


def _free(r: Rect, width: int, height: int, placed: Sequence[Rect]) -> bool:
    return r.inside(width, height) and not any(r.intersects(p) for p in placed)


def _nearest_free(face: Rect, w: int, h: int, width: int, height: int, placed: Sequence[Rect],
                  radius: int | None) -> Rect | None:
    """The free w x h spot closest to the top centre of `face` on a grid (within `radius` pixels of
    it, or anywhere when None); at most about 40 000 positions are tried."""
    if w > width or h > height or w <= 0 or h <= 0:
        return None
    ax, ay = face.x + face.w / 2 - w / 2, face.y - h
    if radius is None:
        x_lo, x_hi, y_lo, y_hi = 0, width - w, 0, height - h
    else:
        x_lo, x_hi = max(0, int(ax - radius)), min(width - w, int(ax + radius))
        y_lo, y_hi = max(0, int(ay - radius)), min(height - h, int(ay + radius + face.h))
    if x_hi < x_lo or y_hi < y_lo:
        return None
    step = max(1, min(w, h) // 2, int(math.sqrt((x_hi - x_lo + 1) * (y_hi - y_lo + 1) / 40_000)))
    xs = list(range(x_lo, x_hi + 1, step)) + [x_hi]
    ys = list(range(y_lo, y_hi + 1, step)) + [y_hi]
    spots = sorted(((x, y) for x in xs for y in ys), key=lambda p: (p[0] - ax) ** 2 + (p[1] - ay) ** 2)
    for x, y in spots:
        r = Rect(x, y, w, h)
        if not any(r.intersects(p) for p in placed):
            return r
    return None


def place_labels(boxes: Sequence, sizes: Sequence[Size], image_size: Size, *, min_scale: float = 0.5,
                 floor_scale: float = 0.3, max_width_ratio: float = 1.6, shrink: float = 0.85, gap: int = 1,
                 measure: Measure | None = None, reserved: Sequence[Rect] = ()) -> list[Placement]:
    """One `Placement` per box (same order as `boxes`).

    boxes: face boxes as (x, y, w, h) or anything with `as_tuple()` (emotion.records.Box);
    sizes: each label's (width, height) at scale 1.0; image_size: (width, height).
    reserved: areas no label may cover (e.g. an info line already drawn).
    Guarantees: every returned rect lies inside the image, no two returned rects intersect and
    none intersects a reserved area.
    """
    if len(boxes) != len(sizes):
        raise ValueError(f"{len(boxes)} boxes but {len(sizes)} label sizes")
    width, height = (int(v) for v in image_size)
    faces = [_as_rect(b) for b in boxes]

    def size_at(i: int, s: float) -> Size:
        if measure is not None:
            mw, mh = measure(i, s)
            return max(1, int(math.ceil(mw))), max(1, int(math.ceil(mh)))
        bw, bh = sizes[i]
        return max(1, int(math.ceil(bw * s))), max(1, int(math.ceil(bh * s)))

    result: list[Placement | None] = [None] * len(faces)
    placed: list[Rect] = list(reserved)
    for i in reading_order(faces):
        face = faces[i]
        base_w = max(1, sizes[i][0])
        preferred = min(1.0, max(min_scale, max_width_ratio * max(face.w, 1) / base_w))
        scales = [preferred]
        while scales[-1] * shrink >= min_scale:
            scales.append(scales[-1] * shrink)
        if scales[-1] > min_scale:
            scales.append(min_scale)
        others = [f for j, f in enumerate(faces) if j != i]
        choice: Placement | None = None
        for avoid_faces in (True, False):
            for s in scales:
                w, h = size_at(i, s)
                for where, x, y in _spots(face, w, h, width, height, gap):
                    r = Rect(x, y, w, h)
                    if not _free(r, width, height, placed):
                        continue
                    if avoid_faces and any(r.intersects(f) for f in others):
                        continue
                    choice = Placement(r, s, where)
                    break
                if choice:
                    break
            if choice:
                break
        if choice is None:
            for s in (min_scale, floor_scale):
                w, h = size_at(i, s)
                near = (_nearest_free(face, w, h, width, height, placed, radius=max(face.w, face.h, 4 * h))
                        or _nearest_free(face, w, h, width, height, placed, radius=None))
                if near is not None:
                    choice = Placement(near, s, "near")
                    break
        if choice is None:
            choice = Placement(None, min_scale, "hidden")
        if choice.rect is not None:
            placed.append(choice.rect)
        result[i] = choice
    return [p for p in result if p is not None]


def overlaps(placements: Sequence[Placement]) -> list[tuple[int, int]]:
    """Index pairs of placements whose rectangles intersect (empty for a valid layout)."""
    rects = [(i, p.rect) for i, p in enumerate(placements) if p.rect is not None]
    return [(i, j) for a, (i, r) in enumerate(rects) for (j, q) in rects[a + 1:] if r.intersects(q)]
