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
   ``tile_overlap`` (faces of ~5-10 % of the shorter side); skipped when a tile would be nearly as
   big as the image. A tile's detections touching an inner tile edge are dropped (the neighbouring
   tile or a whole-image pass sees that face whole);
4. the full-range model on *fine* tiles sized from the image so that a face of ``fine_face`` (2 %)
   of the shorter side is ``fine_px`` (13) px of model input (the coarse tiles make it ~10 px, where
   the model misses most), kept from score ``fine_score`` (0.08) when narrower than ``fine_max``:
   proposals, each confirmed below (those under ``fine_keep``, 0.3, more strictly and at most
   ``max_faint`` of them);
5. the short-range model on tiles of ``short_tile_frac`` of the shorter side (faces of ~10-35 %).

The full-range tile passes resize the image once (the short-range tiles are letterboxed one by
one, see `_short_tile_pass`), and every tile pass runs through the interpreter in batches
(`emotion.detect.tiling`). All detections go through one non-maximum suppression (IoU 0.3,
MediaPipe's weighted blending), so a face seen by several passes is reported once; then each
detection below ``verify_below`` must be found again by the short-range model on a grey-padded crop
around it (3.5x its size for small faces the crop upscales, so that the face is ~28 % of that model's
input; 2x else),
all crops in one batch. That check is what keeps the low fine threshold from adding false faces.
The settings were chosen on the first half (by person) of wild_dev and on the scale sweep
(`emotion.bench.scales`); see `emotion.detect.__init__` for the figures.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from emotion.detect.base import as_bgr
from emotion.detect.blazeface import NMS_IOU, BlazeFaceDetector, _iou, detect_with, drop_cut, letterbox, nms
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
    fine_face / fine_px / fine_overlap / fine_score: the smallest faces. Full-range tiles sized so
        that a face of `fine_face` of the shorter side is `fine_px` px of model input (the model
        needs ~15 px; the coarse tiles give a 2 % face ~10), overlapping by `fine_overlap`; kept
        from `fine_score` on, and only faces narrower than `fine_max` of the shorter side (bigger
        ones are the other passes' work). Skipped when these tiles would not be finer than the
        coarse ones; fine_face = 0 turns them off.
    verify_below / verify_score: on images big enough for tiles, a merged detection scoring below
        `verify_below` is kept only when the short-range model, run on a grey-padded crop
        `verify_context` times its size (`small_context` for faces narrower than `fine_max` of the
        shorter side), finds it with `verify_score` (removes most false faces on textures; 0 = off).
    enhance: "auto" | "on" | "off": low-light enhancement of the copy the models see
        (`emotion.enhance`; None = EMOTION_ENHANCE, default off: measured to hurt these models).
        `detect(bgr, enhance=...)` overrides it for one call (a user's setting).
    num_threads: LiteRT threads of every pass (None: AppConfig.detector_threads, 2).
    propose_score: when set, coarse-tile detections from this score up that are small (< `fine_max`)
        are kept as proposals, each confirmed like a weak face (measured: no gain; off).
    mid_score / mid_max: weak coarse- and fine-tile faces from `fine_max` to `mid_max` of the shorter
        side scoring >= `mid_score` are proposals, confirmed at `verify_context` (faces of ~10 % fell
        between the coarse full-range tiles and the short-range tiles); mid_max <= fine_max: off.
    fine_keep / weak_verify_score / max_faint: fine-tile faces scoring from `fine_score` (0.08) up to
        `fine_keep` (0.3) are faint proposals: many small real faces (a 2-5 % face, a tight crop pasted
        small) score 0.06-0.3 there. Each is confirmed on its upscaled crop like a weak face, but needs
        `weak_verify_score` (0.7, stricter than `verify_score`); only the `max_faint` best are judged,
        which bounds the cost on textured images (seeds 0-2 of the scale sweep chose these, seeds 3-4
        confirmed: 5 % found 87.5-97.5 % -> 97.5 %, 2 % 52-62 % -> 57-62 %; 209 detections away from the
        pasted faces against 207 on 400 canvases).
    faint_alone: a faint face is dropped where it overlaps a fine face at `fine_keep`: blended into it by
        the NMS, faint ones moved a poster's 0.31 proposal in deepface_testset's img1 onto a spot the
        confirmation passed (a false second face in the browser journey); True keeps the old result
        wherever the old threshold saw something.
    mid_verify_score: the confirmation score asked of such proposals (merged score below full range's
        own threshold) at 2x context; stricter than `verify_score` (textures such as a helmet's
        reflection reach 0.6-0.65 there, real faces of ~10 % >= 0.75).
    max_faces: keep at most this many (highest score) faces; None = all.
    """

    name = "blazeface_multi"
    #: `detect` takes a per-call low-light mode (`Analyzer.detect` passes the user's setting)
    takes_enhance = True

    def __init__(self, *, pad: float = 0.25, tile_frac: float = 0.4, tile_overlap: float = 0.25,
                 short_score: float | None = None, full_score: float | None = 0.5,
                 max_faces: int | None = None, num_threads: int | None = None, short_tile_frac: float = 0.6,
                 short_tile_overlap: float = 0.5, verify_below: float = 0.8,
                 verify_score: float = 0.6, short_tile_score: float = 0.7,
                 enhance: str | None = None, fine_face: float = 0.02, fine_px: float = 13.0,
                 fine_overlap: float = 0.25, fine_score: float = 0.08, fine_max: float = 0.06,
                 verify_context: float = 2.0, small_context: float = 3.5,
                 propose_score: float | None = None, mid_score: float = 0.2, mid_max: float = 0.15,
                 mid_verify_score: float = 0.7, fine_keep: float = 0.3,
                 weak_verify_score: float = 0.7, max_faint: int | None = 24, faint_alone: bool = True) -> None:
        self.faint_alone = bool(faint_alone)
        self.max_faint = max_faint
        self.fine_keep = float(fine_keep)
        self.weak_verify_score = float(weak_verify_score)
        self.propose_score = None if propose_score is None else float(propose_score)
        self.mid_verify_score = float(mid_verify_score)
        self.mid_score = float(mid_score)
        self.mid_max = float(mid_max)
        if num_threads is None:
            from emotion.config import CONFIG

            num_threads = CONFIG.detector_threads
        from emotion import enhance as _enhance
        from emotion.detect.tiling import TilePass

        self.enhance = _enhance.default_mode() if enhance is None else str(enhance).lower()
        if self.enhance not in _enhance.MODES:
            raise ValueError(f"enhance must be one of {', '.join(_enhance.MODES)}")
        self.short_tile_score = float(short_tile_score)
        self.verify_below = float(verify_below)
        self.verify_score = float(verify_score)
        self.verify_context = float(verify_context)
        self.small_context = float(small_context)
        self.short_tile_frac = float(short_tile_frac)
        self.short_tile_overlap = float(short_tile_overlap)
        self.pad = float(pad)
        self.tile_frac = float(tile_frac)
        self.tile_overlap = float(tile_overlap)
        self.fine_face = float(fine_face)
        self.fine_px = float(fine_px)
        self.fine_overlap = float(fine_overlap)
        self.fine_score = float(fine_score)
        self.fine_max = float(fine_max)
        self.max_faces = max_faces
        self.short = BlazeFaceDetector("blazeface", min_score=short_score, num_threads=num_threads)
        self.full = BlazeFaceDetector("blazeface_full", min_score=full_score, num_threads=num_threads)
        self.fine_det = BlazeFaceDetector("blazeface_full", min_score=self.fine_score,
                                          num_threads=num_threads)
        self._short_tiles = TilePass(self.short, num_threads)
        self._full_tiles = TilePass(self.full, num_threads)
        self._fine_tiles = TilePass(self.fine_det, num_threads)

    def prepare(self, bgr: np.ndarray, enhance: str | None = None) -> np.ndarray:
        """The copy the models see: uint8 BGR, enhanced per `enhance` (None: `self.enhance`)."""
        from emotion import enhance as _enhance

        mode = self.enhance if enhance is None else str(enhance).lower()
        return _enhance.apply(as_bgr(bgr), mode)

    def fine_window(self, width: int, height: int) -> float:
        """Side (px) of the fine tiles on a width x height image; 0 when they are not run."""
        if self.fine_face <= 0 or max(width, height) < MIN_SIDE_FULL_TILES:
            return 0.0
        side = self.fine_face * min(width, height) * self.full.spec.input_size / self.fine_px
        coarse = max(self.tile_frac * min(width, height), 192)
        return side if side < 0.8 * coarse else 0.0

    def passes(self, bgr: np.ndarray, prepared: bool = False) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
        """Every pass's (label, boxes, keypoints, scores) in image pixels, before the final NMS."""
        if not prepared:
            bgr = self.prepare(bgr)
        height, width = bgr.shape[:2]
        short_side = min(width, height)
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
            side = max(self.tile_frac * short_side, 192)
            if side < 0.75 * longer:
                low = min(self.full.min_score, self._mid_floor())
                if self.propose_score is not None:
                    low = min(low, self.propose_score)
                b, k, s = self._full_tiles.run(bgr, min(side, short_side), self.tile_overlap, low)
                strong = s >= self.full.min_score
                out.append(("tiles", b[strong], k[strong], s[strong]))
                # weak small faces are proposals: kept only when confirmed on an upscaled crop
                small = self._sides(b) < self.fine_max * short_side
                weak = ~strong & small & (s >= (self.full.min_score if self.propose_score is None
                                                 else self.propose_score))
                out.append(("proposals", b[weak], k[weak], s[weak]))
                mid = ~strong & self._mid(b, s, short_side)
                out.append(("mid_tiles", b[mid], k[mid], s[mid]))
        fine = self.fine_window(width, height)
        if fine > 0:
            b, k, s = self._fine_tiles.run(bgr, fine, self.fine_overlap, min(self.fine_score, self._mid_floor()))
            small = (self._sides(b) < self.fine_max * short_side) & (s >= self.fine_score)
            if self.faint_alone:
                # a faint face only where no fine face at `fine_keep` lies: it adds regions, never
                # blends into (and moves) a stronger proposal's box
                strong = small & (s >= self.fine_keep)
                faint = small & ~strong
                if faint.any() and strong.any():
                    sb = b[strong]
                    for i in np.nonzero(faint)[0]:
                        small[i] = not np.any(_iou(b[i], sb) > 0.0)
            out.append(("fine", b[small], k[small], s[small]))
            mid = self._mid(b, s, short_side)
            out.append(("mid_fine", b[mid], k[mid], s[mid]))
        if self.short_tile_frac > 0 and longer >= MIN_SIDE_SHORT_TILES:
            # tiles over the image padded by a quarter tile: a face cut by the image border sits in
            # an edge tile with grey room around it, as in the padded whole-image pass
            out.append(("stiles", *self._short_tile_pass(bgr)))
        return out

    @staticmethod
    def _sides(b: np.ndarray) -> np.ndarray:
        return np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])

    def _mid_floor(self) -> float:
        return self.mid_score if self.mid_max > self.fine_max else 1.0

    def _mid(self, b: np.ndarray, s: np.ndarray, short_side: int) -> np.ndarray:
        """Mask of weak mid-size faces (`fine_max` .. `mid_max` of the shorter side, score >= `mid_score`):
        proposals that the confirmation step judges (see the class docstring)."""
        sides = self._sides(b)
        return ((sides >= self.fine_max * short_side) & (sides < self.mid_max * short_side)
                & (s >= self.mid_score))

    def _short_tile_pass(self, bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Short-range tiles over the image padded by a quarter tile: a face cut by the image border
        sits in an edge tile with grey room around it, as in the padded whole-image pass. Each tile
        is letterboxed on its own (its confident faces sit at the model's 0.7 threshold, where a
        resize of the whole image shifts scores by ~0.01 and lets a false face through on the
        astronaut photo), all in one batched call."""
        height, width = bgr.shape[:2]
        q = int(round(0.25 * max(self.short_tile_frac * min(width, height), 128)))
        canvas = cv2.copyMakeBorder(bgr, q, q, q, q, cv2.BORDER_CONSTANT, value=PAD_VALUE)
        cw, ch = width + 2 * q, height + 2 * q
        windows = tile_windows(cw, ch, self.short_tile_frac * min(width, height) / min(cw, ch),
                               self.short_tile_overlap, min_tile=128)
        boxed = [letterbox(canvas[y:y + h, x:x + w], self.short.spec.input_size) for x, y, w, h in windows]
        if not boxed:
            return np.zeros((0, 4), np.float32), np.zeros((0, 6, 2), np.float32), np.zeros(0, np.float32)
        results = self._short_tiles.run_tensors(np.concatenate([t for t, _ in boxed]), self.short.min_score)
        all_b, all_k, all_s = [], [], []
        for (x, y, w, h), (_, lb), (b, k, s) in zip(windows, boxed, results):
            if len(s) == 0:
                continue
            b = lb.to_image(b.reshape(-1, 2, 2)).reshape(-1, 4)
            k = lb.to_image(k)
            keep = drop_cut(b, x, y, w, h, cw, ch) & (s >= self.short_tile_score)
            off = np.array([x - q, y - q], np.float32)
            all_b.append(b[keep] + np.tile(off, 2))
            all_k.append(k[keep] + off)
            all_s.append(s[keep])
        if not all_s:
            return np.zeros((0, 4), np.float32), np.zeros((0, 6, 2), np.float32), np.zeros(0, np.float32)
        return np.concatenate(all_b), np.concatenate(all_k), np.concatenate(all_s)

    def raw(self, bgr: np.ndarray, enhance: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(boxes (K, 4), keypoints (K, 6, 2), scores (K,)) after the NMS across passes, best first."""
        bgr = self.prepare(bgr, enhance)
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
            keep = self.confirmed(bgr, boxes, scores)
            boxes, kps, scores = boxes[keep], kps[keep], scores[keep]
        return boxes, kps, scores

    def confirmed(self, bgr: np.ndarray, boxes: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """Mask of the detections kept: confident ones, and weak ones that the short-range model finds
        again on a grey-padded crop around them (small faces: more context, so that the face is a
        size that model knows); all crops in one batched call per context."""
        keep = scores >= self.verify_below
        weak = np.nonzero(~keep)[0]
        if weak.size == 0:
            return keep
        sides = np.maximum(boxes[weak, 2] - boxes[weak, 0], boxes[weak, 3] - boxes[weak, 1])
        # the wide context only where the crop is upscaled into the model (faces up to input/context
        # px): a face that would be shrunk at 3.5x context is judged at 2x, where it is half the
        # model's input (measured: textures passed at 3.5x, e.g. the montage's suit at 0.72, score
        # ~0.46 at 2x; real faces of 5 % scored >= 0.78 at 2x on the scale sweep's seeds 0-2)
        small = ((sides < self.fine_max * min(bgr.shape[:2]))
                 & (sides * self.small_context <= self.short.spec.input_size))
        # a face that no pass found at its own threshold (a mid-size proposal, merged score below
        # full range's) is judged at 2x by a stricter score: real faces of ~10 % scored >= 0.75 there on
        # the scale sweep, a helmet's reflection in the photo bench's group image 0.6-0.65
        proposal = scores[weak] < self.full.min_score
        # faint small proposals (fine tiles below `fine_keep`) are judged by a stricter score, and only
        # the `max_faint` best of them (`weak` is in score order: the NMS sorts best first)
        faint = small & (scores[weak] < self.fine_keep)
        judged = np.ones(len(weak), bool)
        if self.max_faint is not None:
            judged[np.nonzero(faint)[0][self.max_faint:]] = False
        for mask, context, need in ((small & ~faint, self.small_context, self.verify_score),
                                    (faint & judged, self.small_context, self.weak_verify_score),
                                    (~small & ~proposal, self.verify_context, self.verify_score),
                                    (~small & proposal, self.verify_context, self.mid_verify_score)):
            idx = weak[mask]
            if idx.size:
                keep[idx] = self._short_tiles.confirm(bgr, boxes[idx], context, need)
        return keep

    def detect(self, bgr: np.ndarray, enhance: str | None = None) -> list[Detection]:
        return detect_with(lambda img: self.raw(img, enhance), bgr, self.max_faces)

    def __repr__(self) -> str:
        return (f"MultiScaleBlazeFace(pad={self.pad}, tile_frac={self.tile_frac}, "
                f"short_tile_frac={self.short_tile_frac}, fine_face={self.fine_face}, "
                f"fine_px={self.fine_px}, enhance={self.enhance!r})")
