"""One photo detector for every face size: BlazeFace short + full range, padded and tiled, merged by NMS.

    MultiScaleBlazeFace().detect(bgr) -> list[Detection]      # registered as "blazeface_multi"

Neither BlazeFace model covers the sizes people photograph faces at. The short-range model (128 px
input) finds faces that fill a good part of the frame, and misses faces smaller than ~1/10 of the
image; the full-range model (192 px input) finds faces down to ~1/20 of the image and misses close-ups.
Neither finds a face that fills or overflows the frame (a tight crop, a selfie, a chin or forehead
outside the picture): both were trained on faces with some context around them. So one call runs:

1. the short-range model on the image padded on every side by ``pad`` (a quarter) of its longer side
   with a neutral grey border: a face that fills the frame becomes a face with room around it, and a
   face cut by the border is whole again as far as the model can tell (measured: most tight crops
   missed without padding are found with it);
2. the full-range model on the whole image (faces of ~5 % to ~60 % of the image);
3. the full-range model on square tiles of ``tile_frac`` of the image's shorter side, overlapping by
   ``tile_overlap`` (faces down to ~2 % of the shorter side); skipped when a tile would be nearly as
   big as the image. A tile's detections touching an inner tile edge are dropped (the neighbouring
   tile or a whole-image pass sees that face whole).

All detections go through one non-maximum suppression (IoU 0.3, MediaPipe's weighted blending), so
a face seen by several passes is reported once. Every pass keeps its model's own score threshold.
The settings were chosen on the first half (by person) of wild_dev and on the scale sweep
(`emotion.bench.scales`); see `emotion.detect.__init__` for the figures.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from emotion.detect.base import as_bgr
from emotion.detect.blazeface import NMS_IOU, BlazeFaceDetector, detect_with, drop_cut, nms
from emotion.records import Detection

#: grey of the padding border (BGR): neutral for both models
PAD_VALUE = (127, 127, 127)
#: images whose longer side is below these skip the tiles: the whole-image passes already see every
#: face the tiles could add (full range: ~10 px at 192 px input; short range: ~13 px at 128)
MIN_SIDE_FULL_TILES = 480
MIN_SIDE_SHORT_TILES = 400


def tile_windows(width: int, height: int, tile_frac: float, overlap: float,
                 min_tile: int = 192) -> list[tuple[int, int, int, int]]:
    """(x, y, w, h) square windows of side max(tile_frac * shorter side, min_tile) covering the image
    with at least `overlap` of a tile shared by neighbours; [] when one tile would cover >= 3/4 of
    the longer side (the whole-image pass already sees faces that size)."""
    side = int(round(max(tile_frac * min(width, height), min_tile)))
    if side >= 0.75 * max(width, height):
        return []
    side = min(side, width, height)

    def starts(n_px: int) -> list[int]:
        if n_px <= side:
            return [0]
        step = side * (1.0 - overlap)
        count = int(math.ceil((n_px - side) / step)) + 1
        return [int(round(i * (n_px - side) / (count - 1))) for i in range(count)]

    return [(x, y, side, side) for y in starts(height) for x in starts(width)]


class MultiScaleBlazeFace:
    """`FaceDetector` for photos: faces from ~2 % to 100 % of the shorter side in one call.

    pad: border added around the image for the short-range pass, as a fraction of its longer side
        (0 = no padding).
    tile_frac / tile_overlap: size of the full-range tiles (fraction of the shorter side) and their
        overlap; tile_frac = 0 turns the tiles off.
    short_score / full_score: score thresholds of the two models (None: MediaPipe's 0.5 / 0.6).
    short_tile_frac / short_tile_overlap / short_tile_score: the short-range model also runs on
        tiles of this fraction of the shorter side (faces of ~10-35 %), keeping only confident faces.
    verify_below / verify_score: on images big enough for tiles, a merged detection scoring below
        `verify_below` is kept only when the short-range model, run on a grey-padded crop twice its
        size, finds it with `verify_score` (removes most false faces on textures; 0 = off);
        detections narrower than `verify_min_side` px skip that check and need `tiny_score` instead
        (off by default: measured no gain at 2-5 %).
    enhance: "auto" | "on" | "off": low-light enhancement of the copy the models see
        (`emotion.enhance`; None = EMOTION_ENHANCE, default off: measured to hurt these models).
    max_faces: keep at most this many (highest score) faces; None = all.
    """

    name = "blazeface_multi"

    def __init__(self, *, pad: float = 0.25, tile_frac: float = 0.4, tile_overlap: float = 0.25,
                 short_score: float | None = None, full_score: float | None = 0.5,
                 max_faces: int | None = None, num_threads: int = 1, short_tile_frac: float = 0.6,
                 short_tile_overlap: float = 0.5, verify_below: float = 0.8,
                 verify_score: float = 0.6, short_tile_score: float = 0.7,
                 enhance: str | None = None, verify_min_side: float = 0.0,
                 tiny_score: float = 0.6) -> None:
        self.verify_min_side = float(verify_min_side)
        self.tiny_score = float(tiny_score)
        from emotion import enhance as _enhance

        self.enhance = _enhance.default_mode() if enhance is None else str(enhance).lower()
        if self.enhance not in _enhance.MODES:
            raise ValueError(f"enhance must be one of {', '.join(_enhance.MODES)}")
        self.short_tile_score = float(short_tile_score)
        self.verify_below = float(verify_below)
        self.verify_score = float(verify_score)
        self.short_tile_frac = float(short_tile_frac)
        self.short_tile_overlap = float(short_tile_overlap)
        self.pad = float(pad)
        self.tile_frac = float(tile_frac)
        self.tile_overlap = float(tile_overlap)
        self.max_faces = max_faces
        self.short = BlazeFaceDetector("blazeface", min_score=short_score, num_threads=num_threads)
        self.full = BlazeFaceDetector("blazeface_full", min_score=full_score, num_threads=num_threads)

    def prepare(self, bgr: np.ndarray) -> np.ndarray:
        """The copy the models see: uint8 BGR, enhanced per `self.enhance`."""
        from emotion import enhance

        return enhance.apply(as_bgr(bgr), self.enhance)

    def passes(self, bgr: np.ndarray, prepared: bool = False) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
        """Every pass's (label, boxes, keypoints, scores) in image pixels, before the final NMS."""
        if not prepared:
            bgr = self.prepare(bgr)
        height, width = bgr.shape[:2]
        out = []
        if self.pad > 0:
            p = int(round(self.pad * max(width, height)))
            padded = cv2.copyMakeBorder(bgr, p, p, p, p, cv2.BORDER_CONSTANT, value=PAD_VALUE)
            b, k, s = self.short._single(padded)
            out.append(("short_padded", b - p, k - p, s))
        else:
            out.append(("short", *self.short._single(bgr)))
        out.append(("full", *self.full._single(bgr)))
        longer = max(width, height)
        if self.tile_frac > 0 and longer >= MIN_SIDE_FULL_TILES:
            for x, y, w, h in tile_windows(width, height, self.tile_frac, self.tile_overlap):
                b, k, s = self.full._single(bgr[y:y + h, x:x + w])
                if len(s) == 0:
                    continue
                keep = drop_cut(b, x, y, w, h, width, height)
                off = np.array([x, y], np.float32)
                out.append((f"tile {x},{y}", b[keep] + np.tile(off, 2), k[keep] + off, s[keep]))
        if self.short_tile_frac > 0 and longer >= MIN_SIDE_SHORT_TILES:
            # tiles over the image padded by a quarter tile: a face cut by the image border sits in
            # an edge tile with grey room around it, as in the padded whole-image pass
            q = int(round(0.25 * max(self.short_tile_frac * min(width, height), 128)))
            canvas = cv2.copyMakeBorder(bgr, q, q, q, q, cv2.BORDER_CONSTANT, value=PAD_VALUE)
            cw, ch = width + 2 * q, height + 2 * q
            for x, y, w, h in tile_windows(cw, ch, self.short_tile_frac * min(width, height) / min(cw, ch),
                                           self.short_tile_overlap, min_tile=128):
                b, k, s = self.short._single(canvas[y:y + h, x:x + w])
                if len(s) == 0:
                    continue
                keep = drop_cut(b, x, y, w, h, cw, ch) & (s >= self.short_tile_score)
                off = np.array([x - q, y - q], np.float32)
                out.append((f"stile {x},{y}", b[keep] + np.tile(off, 2), k[keep] + off, s[keep]))
        return out

    def raw(self, bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(boxes (K, 4), keypoints (K, 6, 2), scores (K,)) after the NMS across passes, best first."""
        bgr = self.prepare(bgr)
        parts = self.passes(bgr, prepared=True)
        boxes = np.concatenate([p[1].reshape(-1, 4) for p in parts]).astype(np.float32)
        kps = np.concatenate([p[2].reshape(-1, 6, 2) for p in parts]).astype(np.float32)
        scores = np.concatenate([p[3].reshape(-1) for p in parts]).astype(np.float32)
        if len(scores) == 0:
            return boxes, kps, scores
        boxes, kps, scores = nms(boxes, kps, scores, NMS_IOU, True)
        if self.verify_below > 0 and max(bgr.shape[:2]) >= min(MIN_SIDE_FULL_TILES, MIN_SIDE_SHORT_TILES):
            # only where tiles ran: the false faces come from tiles (textures seen up close); on a
            # small image the whole-image passes alone decide, at MediaPipe's own thresholds
            keep = np.array([sc >= self.verify_below or self._confirmed(bgr, bx)
                             or (max(bx[2] - bx[0], bx[3] - bx[1]) < self.verify_min_side
                                 and sc >= self.tiny_score)
                             for bx, sc in zip(boxes, scores)], bool)
            boxes, kps, scores = boxes[keep], kps[keep], scores[keep]
        return boxes, kps, scores

    def _confirmed(self, bgr: np.ndarray, box: np.ndarray) -> bool:
        """A weak detection confirmed by the short-range model on a square crop twice its size."""
        x1, y1, x2, y2 = (float(v) for v in box)
        side = 2.0 * max(x2 - x1, y2 - y1, 4.0)
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        m = np.float32([[1, 0, side / 2 - cx], [0, 1, side / 2 - cy]])
        n = int(math.ceil(side))
        crop = cv2.warpAffine(as_bgr(bgr), m, (n, n), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=PAD_VALUE)
        b, _, s = self.short._single(crop)
        if len(s) == 0:
            return False
        ref = np.array([side / 4, side / 4, 3 * side / 4, 3 * side / 4], np.float32)
        from emotion.detect.blazeface import _iou

        return bool(np.any((_iou(ref, b) > 0.3) & (s >= self.verify_score)))

    def detect(self, bgr: np.ndarray) -> list[Detection]:
        return detect_with(self.raw, bgr, self.max_faces)

    def __repr__(self) -> str:
        return (f"MultiScaleBlazeFace(pad={self.pad}, tile_frac={self.tile_frac}, "
                f"short_tile_frac={self.short_tile_frac}, enhance={self.enhance!r})")
