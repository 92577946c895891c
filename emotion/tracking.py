"""Face tracking across video frames: stable track ids for the live camera.

A small IoU + centre-distance tracker, enough for faces in a webcam feed (a handful of faces, 15-60
frames a second). Each frame's boxes are matched greedily to the live tracks, best pairs first:

1. by IoU with the track's *predicted* box (its last box moved by its velocity) or with its last box,
   whichever overlaps more, when the IoU is at least `iou_threshold`;
2. what is left, by the distance between centres relative to the track's size (a fast-moving face
   can leave its last box entirely between two frames), again the nearer of the predicted and the
   last box, when under `max_center_dist` and the two boxes are of similar size.

Using the last box as well as the prediction keeps a track when the velocity estimate is off, which
happens when frames are processed at uneven intervals (a slow frame after a few fast ones makes the
prediction overshoot). The centre-distance limit also grows with the time since the track was last
seen (`gap_allowance` face sizes per second, up to `max_gap_dist`): a machine that analyses only a
few frames a second sees a moving face jump further between two of them.

Unmatched boxes start new tracks; a track expires when it has been unseen for `max_age_s` seconds
*and* missing from at least `min_misses` updates (a stall of the caller, e.g. one slow frame, is
not the face leaving). Times come from
the caller (`update(boxes, now)`), so tests drive it with a fake clock.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from emotion.records import Box


@dataclass
class Track:
    track_id: int
    box: Box
    first_seen: float
    last_seen: float
    hits: int = 1
    #: updates in a row this track was not matched in
    misses: int = 0
    #: centre velocity in pixels per second (smoothed), used to predict the next position
    velocity: tuple[float, float] = (0.0, 0.0)
    #: free slot for the caller's per-track state (identity cache, smoothed scores, ...)
    data: dict = field(default_factory=dict)

    def predicted(self, now: float) -> Box:
        dt = min(max(now - self.last_seen, 0.0), 0.5)
        dx, dy = self.velocity[0] * dt, self.velocity[1] * dt
        return Box(int(round(self.box.x + dx)), int(round(self.box.y + dy)), self.box.w, self.box.h)

    def age(self, now: float) -> float:
        return now - self.first_seen


def _center_distance(a: Box, b: Box) -> float:
    """Distance between centres in units of the larger side of `a` (the track)."""
    (ax, ay), (bx, by) = a.center(), b.center()
    scale = max(a.w, a.h, 1)
    return math.hypot(ax - bx, ay - by) / scale


def _similar_size(a: Box, b: Box, ratio: float = 2.0) -> bool:
    sa, sb = max(a.w, a.h, 1), max(b.w, b.h, 1)
    return max(sa, sb) / min(sa, sb) <= ratio


def _boxes(boxes: list[Box]) -> np.ndarray:
    """(N, 4) float64 x, y, w, h."""
    return np.array([(b.x, b.y, b.w, b.h) for b in boxes], np.float64).reshape(-1, 4)


def _iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box of `a` (rows) with every box of `b` (columns), as `Box.iou`."""
    ax2, ay2, bx2, by2 = a[:, 0] + a[:, 2], a[:, 1] + a[:, 3], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    ix = np.clip(np.minimum(ax2[:, None], bx2[None]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    iy = np.clip(np.minimum(ay2[:, None], by2[None]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = ix * iy
    area_a = np.clip(a[:, 2], 0, None) * np.clip(a[:, 3], 0, None)
    area_b = np.clip(b[:, 2], 0, None) * np.clip(b[:, 3], 0, None)
    union = area_a[:, None] + area_b[None] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def _center_dist_matrix(tracks: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(boxes, tracks): centre distance in units of the larger side of the track ."""
    tc = tracks[:, :2] + tracks[:, 2:] / 2.0
    bc = boxes[:, :2] + boxes[:, 2:] / 2.0
    scale = np.maximum(np.maximum(tracks[:, 2], tracks[:, 3]), 1)
    return np.hypot(bc[:, None, 0] - tc[None, :, 0], bc[:, None, 1] - tc[None, :, 1]) / scale[None]


def _similar_size_matrix(tracks: np.ndarray, boxes: np.ndarray, ratio: float = 2.0) -> np.ndarray:
    st = np.maximum(np.maximum(tracks[:, 2], tracks[:, 3]), 1)
    sb = np.maximum(np.maximum(boxes[:, 2], boxes[:, 3]), 1)
    big, small = np.maximum(sb[:, None], st[None]), np.minimum(sb[:, None], st[None])
    return big / small <= ratio


def _pairs(score: np.ndarray, ok: np.ndarray, best_first: str) -> list[tuple[int, int]]:
    """(box, track) index pairs where `ok`, ordered as the scalar code sorted its (score, box, track)
    tuples: highest score first (ties: higher indices first) or lowest first (ties: lower first)."""
    bi, ti = np.nonzero(ok)
    if len(bi) == 0:
        return []
    s = score[bi, ti]
    order = np.lexsort((ti, bi, s))  # ascending by score, then box, then track
    if best_first == "high":
        order = order[::-1]
    return list(zip(bi[order].tolist(), ti[order].tolist()))


#: up to this many (box, track) pairs the matching runs in plain Python, beyond it on numpy matrices
SMALL = 36


class Tracker:
    """Assigns track ids to face boxes frame after frame. Not thread-safe: one caller at a time."""

    def __init__(self, iou_threshold: float = 0.25, max_center_dist: float = 0.8, max_age_s: float = 1.0,
                 velocity_smoothing: float = 0.5, min_misses: int = 2, gap_allowance: float = 4.0,
                 max_gap_dist: float = 2.5) -> None:
        self.iou_threshold = float(iou_threshold)
        self.max_center_dist = float(max_center_dist)
        self.max_age_s = float(max_age_s)
        self.velocity_smoothing = float(velocity_smoothing)
        self.min_misses = max(0, int(min_misses))
        self.gap_allowance = float(gap_allowance)
        self.max_gap_dist = max(float(max_gap_dist), self.max_center_dist)
        self._tracks: dict[int, Track] = {}
        self._next_id = 1
        #: ids that expired at the last `update`, for the caller to clean its own state up
        self.expired: list[int] = []

    @property
    def tracks(self) -> list[Track]:
        return list(self._tracks.values())

    def get(self, track_id: int) -> Track | None:
        return self._tracks.get(track_id)

    def reset(self) -> None:
        self._tracks.clear()
        self.expired = []

    def update(self, boxes: list[Box], now: float) -> list[Track]:
        """Match `boxes` (this frame's faces) to tracks; returns the track of each box, in order."""
        self.expired = [tid for tid, t in self._tracks.items()
                        if now - t.last_seen > self.max_age_s and t.misses >= self.min_misses]
        for tid in self.expired:
            del self._tracks[tid]

        live = list(self._tracks.values())
        if not live or not boxes:
            pairs: list[tuple[int, int]] = []
        elif len(boxes) * len(live) <= SMALL:
            pairs = self._pairs_small(boxes, live, now)
        else:
            pairs = self._pairs_many(boxes, live, now)
        assigned = {bi: live[ti] for bi, ti in pairs}
        used = {ti for _, ti in pairs}

        out: list[Track] = []
        for bi, box in enumerate(boxes):
            track = assigned.get(bi)
            if track is None:
                track = Track(self._next_id, box, first_seen=now, last_seen=now)
                self._next_id += 1
                self._tracks[track.track_id] = track
            else:
                self._move(track, box, now)
            out.append(track)
        for ti, track in enumerate(live):
            if ti not in used:
                track.misses += 1
        return out

    def _pairs_small(self, boxes: list[Box], live: list[Track], now: float) -> list[tuple[int, int]]:
        """(box, track) index pairs for a few faces, in plain Python (numpy costs more than it saves)."""
        predicted = [t.predicted(now) for t in live]
        last = [t.box for t in live]
        done: dict[int, int] = {}
        used: set[int] = set()
        # 1. IoU pairs, best first
        cands = []
        for bi, box in enumerate(boxes):
            for ti, pbox in enumerate(predicted):
                iou = max(box.iou(pbox), box.iou(last[ti]))
                if iou >= self.iou_threshold:
                    cands.append((iou, bi, ti))
        for _, bi, ti in sorted(cands, reverse=True):
            if bi not in done and ti not in used:
                done[bi] = ti
                used.add(ti)
        # 2. centre distance for what is left, nearest first
        cands = []
        for bi, box in enumerate(boxes):
            if bi in done:
                continue
            for ti, pbox in enumerate(predicted):
                if ti in used or not _similar_size(pbox, box):
                    continue
                d = min(_center_distance(pbox, box), _center_distance(last[ti], box))
                gap = max(now - live[ti].last_seen, 0.0)
                if d <= min(self.max_center_dist + self.gap_allowance * gap, self.max_gap_dist):
                    cands.append((d, bi, ti))
        for _, bi, ti in sorted(cands):
            if bi not in done and ti not in used:
                done[bi] = ti
                used.add(ti)
        return list(done.items())

    def _pairs_many(self, boxes: list[Box], live: list[Track], now: float) -> list[tuple[int, int]]:
        """The same pairs as `_pairs_small`, in the same order of preference, with numpy matrices
        (a classroom: 20 faces x 20 tracks)."""
        b = _boxes(boxes)
        pred = _boxes([t.predicted(now) for t in live])
        last = _boxes([t.box for t in live])
        done: dict[int, int] = {}
        used: set[int] = set()
        iou = np.maximum(_iou_matrix(b, pred), _iou_matrix(b, last))
        for bi, ti in _pairs(iou, iou >= self.iou_threshold, best_first="high"):
            if bi not in done and ti not in used:
                done[bi] = ti
                used.add(ti)
        free_b = np.array([bi not in done for bi in range(len(boxes))])
        free_t = np.array([ti not in used for ti in range(len(live))])
        if free_b.any() and free_t.any():
            dist = np.minimum(_center_dist_matrix(pred, b), _center_dist_matrix(last, b))
            gaps = np.array([max(now - t.last_seen, 0.0) for t in live])
            limit = np.minimum(self.max_center_dist + self.gap_allowance * gaps, self.max_gap_dist)
            ok = free_b[:, None] & free_t[None, :] & _similar_size_matrix(pred, b) & (dist <= limit[None, :])
            for bi, ti in _pairs(dist, ok, best_first="low"):
                if bi not in done and ti not in used:
                    done[bi] = ti
                    used.add(ti)
        return list(done.items())

    def _move(self, track: Track, box: Box, now: float) -> None:
        dt = now - track.last_seen
        if dt > 1e-6:
            (ox, oy), (nx, ny) = track.box.center(), box.center()
            vx, vy = (nx - ox) / dt, (ny - oy) / dt
            a = self.velocity_smoothing
            track.velocity = (a * vx + (1 - a) * track.velocity[0], a * vy + (1 - a) * track.velocity[1])
        track.box = box
        track.last_seen = now
        track.hits += 1
        track.misses = 0
