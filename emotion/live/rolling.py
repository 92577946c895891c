"""Small faces in a big frame at a constant cost per frame: `RollingTiles`, a rolling tile scan.

BlazeFace short range letterboxes its input to 128x128 and finds a face only when it is at least
about a fifth of the input's side, so a 40 px face of a 1280x720 classroom is found only in a window
of about 200 px. Scanning the whole frame that way costs some 80 windows; `RollingTiles` scans a
different `per_frame` of them on each frame (round robin: every window once per cycle of
``ceil(len(windows) / per_frame)`` frames), so every frame costs the same. The analyser
(`StreamingAnalyzer`, ``rolling=``) keeps a track alive between two scans of its region by carrying
its last box, for up to `hold_cycles` cycles after its last real detection (one missed scan of its
region is forgiven: the detector misses a small face now and then), so a face that left is dropped
within about a second.

Windows overlap by `overlap` px (at least the largest face expected), so every face lies whole in
some window; a face cut by a scanned window's inner edge is dropped there (the neighbouring window
sees it whole). Detections of overlapping windows are merged by IoU.

Tracked faces do not wait for the round robin: every frame, up to `focus` more windows are centred on
the tracks that have gone longest without a detection (once `refresh` frames have passed; a window
confirms every track lying whole in it), so each face is re-detected every few frames in a window
that never cuts it, while the grid scan's `per_frame` windows only have to find new faces. A track
whose window was scanned twice without finding it is dropped.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from emotion.records import Box, Detection


#: the classroom set-up ("Many faces" on the Live page, ``bench --live --faces N``): the rolling scan's
#: windows and the `StreamingAnalyzer` attributes it changes (see `classroom_settings`)
CLASSROOM_SCAN = {"tile": 200, "overlap": 100, "per_frame": 4, "focus": 3, "refresh": 8}
CLASSROOM_STREAM = {"max_faces": 40, "classify_every": 4, "min_classify_px": 24, "recognize_every_s": 4.0,
                    "max_embeds_per_frame": 6, "confirm_names": 2, "settle_after": 2}


def classroom_settings(detector: Any, **overrides: Any) -> dict[str, Any]:
    """The `StreamingAnalyzer` attributes of the classroom set-up, ``rolling`` included (a
    `RollingTiles` over `detector`, BlazeFace short range); `overrides` replace scan or stream values."""
    scan = {k: overrides.pop(k, v) for k, v in CLASSROOM_SCAN.items()}
    stream = {k: overrides.pop(k, v) for k, v in CLASSROOM_STREAM.items()}
    if overrides:
        raise TypeError(f"unknown classroom settings: {sorted(overrides)}")
    return {"rolling": RollingTiles(detector, **scan), **stream}


def windows_for(width: int, height: int, tile: int, overlap: int) -> list[tuple[int, int, int, int]]:
    """(x, y, w, h) windows of side `tile` covering the frame, neighbours overlapping by `overlap`."""
    def starts(length: int) -> list[int]:
        if length <= tile:
            return [0]
        n = math.ceil((length - tile) / max(1, tile - overlap)) + 1
        return [round(i * (length - tile) / (n - 1)) for i in range(n)]

    tw, th = min(tile, width), min(tile, height)
    return [(x, y, tw, th) for y in starts(height) for x in starts(width)]


def _near(a: Box, b: Box) -> bool:
    """The same face, roughly: overlapping, or centres within half a face of each other."""
    (ax, ay), (bx, by) = a.center(), b.center()
    return a.iou(b) >= 0.1 or math.hypot(ax - bx, ay - by) <= 0.5 * max(a.w, b.w)


def _merge(dets: list[Detection], iou: float = 0.3) -> list[Detection]:
    out: list[Detection] = []
    for d in sorted(dets, key=lambda d: -d.confidence):
        if all(d.box.iou(o.box) < iou for o in out):
            out.append(d)
    return out


class RollingTiles:
    """detector: a `FaceDetector` (BlazeFace short range); tile / overlap in frame pixels; per_frame:
    windows scanned per frame; hold_cycles: how many scan cycles a track is carried unseen."""

    def __init__(self, detector: Any, *, tile: int = 200, overlap: int = 100, per_frame: int = 12,
                 hold_cycles: float = 2.0, focus: int = 0, refresh: int = 6) -> None:
        self.detector = detector
        self.tile = int(tile)
        self.overlap = int(overlap)
        self.per_frame = max(1, int(per_frame))
        self.hold_cycles = float(hold_cycles)
        #: windows centred on tracks per frame (0: none, the grid scan alone keeps the tracks)
        self.focus = max(0, int(focus))
        #: frames after a track's last detection before a window is centred on it
        self.refresh = max(1, int(refresh))
        self._windows: list[tuple[int, int, int, int]] = []
        self._size: tuple[int, int] | None = None
        self._next = 0
        #: windows scanned so far and scans (frames), for the benchmark's windows per frame
        self.scanned_total = 0
        self.scans = 0

    def cycle_frames(self) -> int:
        return max(1, math.ceil(len(self._windows) / self.per_frame))

    def hold_frames(self) -> int:
        """Frames a track may go without a real detection before it is no longer carried."""
        return int(math.ceil(self.hold_cycles * self.cycle_frames())) + 1

    def miss_frames(self) -> int:
        """Frames without a detection after which a track whose region was just scanned is dropped:
        one missed scan is forgiven (a focus window every `refresh` frames, else a grid cycle)."""
        return (2 * self.refresh + 1) if self.focus else self.cycle_frames() + 1

    def focus_windows(self, boxes: list[Box], width: int, height: int) -> list[tuple[int, int, int, int]]:
        """At most `focus` windows of side `tile` centred on `boxes` (most urgent first) and clipped
        into the frame; a box already whole in a chosen window gets none of its own."""
        out: list[tuple[int, int, int, int]] = []
        tw, th = min(self.tile, width), min(self.tile, height)
        for b in boxes:
            if len(out) >= self.focus:
                break
            if b.w > tw - 8 or b.h > th - 8 or self.inside(b, out, margin=4):
                continue
            cx, cy = b.center()
            x = int(min(max(0, round(cx - tw / 2)), width - tw))
            y = int(min(max(0, round(cy - th / 2)), height - th))
            out.append((x, y, tw, th))
        return out

    def scan(self, bgr: np.ndarray, focus: list[Box] = ()) -> tuple[list[Detection], list[tuple[int, int, int, int]]]:
        """This frame's share of the windows, plus windows centred on the boxes in `focus` (tracks
        due for a detection, most urgent first): (detections in frame pixels, the windows scanned)."""
        h, w = bgr.shape[:2]
        if self._size != (w, h):
            self._size, self._next = (w, h), 0
            self._windows = windows_for(w, h, self.tile, self.overlap)
        n = len(self._windows)
        picked = [self._windows[(self._next + i) % n] for i in range(min(self.per_frame, n))]
        self._next = (self._next + len(picked)) % n
        if focus and self.focus:
            picked += self.focus_windows(list(focus), w, h)
        self.scanned_total += len(picked)
        self.scans += 1
        found: list[Detection] = []
        for x, y, tw, th in picked:
            margin = 0.02 * max(tw, th)
            for d in self.detector.detect(bgr[y:y + th, x:x + tw]):
                b = d.box
                cut = ((x > 0 and b.x <= margin) or (y > 0 and b.y <= margin)
                       or (x + tw < w and b.x2 >= tw - margin) or (y + th < h and b.y2 >= th - margin))
                if cut:
                    continue
                shift = (lambda p: None if p is None else (p[0] + x, p[1] + y))
                found.append(Detection(Box(b.x + x, b.y + y, b.w, b.h), d.confidence,
                                       shift(d.left_eye), shift(d.right_eye)))
        return _merge(found), picked

    @staticmethod
    def inside(box: Box, windows: list[tuple[int, int, int, int]], margin: int = 2) -> bool:
        """True when `box` lies whole in one of `windows` (a scan there would have found it)."""
        return any(box.x >= x + margin and box.y >= y + margin and box.x2 <= x + w - margin
                   and box.y2 <= y + h - margin for x, y, w, h in windows)


def rolling_step(rolling: RollingTiles, tracker: Any, bgr: np.ndarray, now: float, frame_no: int,
                 max_faces: int) -> tuple[list[Detection], list[Any]]:
    """One frame of the rolling scan: this frame's detections plus the carried boxes of live tracks
    whose region was not scanned (and that were really detected within `hold_frames`), matched to
    the tracks. Returns (detections, their tracks)."""
    from emotion.live.state import state_of

    h, w = bgr.shape[:2]
    due = []
    if rolling.focus:  # tracks not detected for `refresh` frames, longest first
        due = sorted((tr for tr in tracker.tracks if frame_no - state_of(tr).detected_frame >= rolling.refresh),
                     key=lambda tr: state_of(tr).detected_frame)
    found, scanned = rolling.scan(bgr, [tr.box.clip(w, h) for tr in due])
    hold = rolling.hold_frames()
    miss = rolling.miss_frames()
    carried = []
    for tr in tracker.tracks:
        st = state_of(tr)
        # the last box as it is: a carried box fed back to the tracker must not move it (a velocity
        # applied to its own prediction frame after frame would walk the box off the face)
        box = tr.box.clip(w, h)
        if box.w <= 1 or box.h <= 1 or frame_no - st.detected_frame > hold:
            continue
        # its region was scanned and it was not found: gone - unless the previous scan found it (the
        # detector misses a small face now and then; one missed scan is forgiven)
        if RollingTiles.inside(tr.box, scanned) and frame_no - st.detected_frame > miss:
            continue
        if any(_near(box, d.box) for d in found):  # found again (maybe a little off): no second box
            continue
        carried.append(Detection(box, st.confidence))
    dets = (found + carried)[:max_faces]
    matched = tracker.update([d.box for d in dets], now)
    for _, track in zip(found, matched):
        state_of(track).detected_frame = frame_no
    return dets, matched
