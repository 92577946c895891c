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
        predicted = [t.predicted(now) for t in live]
        last = [t.box for t in live]
        assigned: dict[int, Track] = {}
        used: set[int] = set()

        # 1. IoU pairs, best first
        pairs = []
        for bi, box in enumerate(boxes):
            for ti, pbox in enumerate(predicted):
                iou = max(box.iou(pbox), box.iou(last[ti]))
                if iou >= self.iou_threshold:
                    pairs.append((iou, bi, ti))
        for _, bi, ti in sorted(pairs, reverse=True):
            if bi in assigned or ti in used:
                continue
            assigned[bi] = live[ti]
            used.add(ti)

        # 2. centre distance for what is left, nearest first
        pairs = []
        for bi, box in enumerate(boxes):
            if bi in assigned:
                continue
            for ti, pbox in enumerate(predicted):
                if ti in used or not _similar_size(pbox, box):
                    continue
                d = min(_center_distance(pbox, box), _center_distance(last[ti], box))
                gap = max(now - live[ti].last_seen, 0.0)
                limit = min(self.max_center_dist + self.gap_allowance * gap, self.max_gap_dist)
                if d <= limit:
                    pairs.append((d, bi, ti))
        for _, bi, ti in sorted(pairs):
            if bi in assigned or ti in used:
                continue
            assigned[bi] = live[ti]
            used.add(ti)

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
