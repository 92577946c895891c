"""Challenge detectors: which actions a face performs, from its landmark measures over frames.

`ActionTracker` is fed one `geometry.Shape` per used frame. Its first `CALIBRATION_FRAMES` frames
in which the user looks straight at the camera (|yaw| <= `CALIBRATION_MAX_YAW`; turned frames are
skipped while calibrating) set the per-user baseline: median yaw, mouth width and brow height. After that, each frame reports the deliberate actions that are *active* (held for
`HOLD_FRAMES` frames beyond a threshold relative to the baseline) and whether a blink just ended.

* blink: the eye aspect ratio falls below `BLINK_CLOSED` x the open-eye level and then rises above
  `BLINK_OPEN` x that level again. The open-eye level is the 80th percentile of this user's EAR over
  the frames seen so far (so narrow eyes and wide eyes both work, and a blink during calibration
  does not spoil it).
* turn_left / turn_right: yaw - baseline beyond +/- `TURN_YAW` (positive yaw = the subject's left;
  see `geometry`).
* smile: mouth width >= `SMILE_RATIO` x baseline.
* raise_eyebrows: brow height >= `BROW_RATIO` x baseline.

A still photo, moved or tilted in front of the camera, keeps every measure (they are ratios inside
the face), so it performs no action. Thresholds are set from real photos (tests/test_faceauth_detectors.py
shows them on photos of the same people with and without each action).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from emotion.faceauth.geometry import Shape

ACTIONS: tuple[str, ...] = ("blink", "turn_left", "turn_right", "smile", "raise_eyebrows")
#: actions a person makes only on purpose (a blink also happens by itself)
DELIBERATE: tuple[str, ...] = ("turn_left", "turn_right", "smile", "raise_eyebrows")

CALIBRATION_FRAMES = 3
CALIBRATION_MAX_YAW = 0.18
HOLD_FRAMES = 2
BLINK_CLOSED = 0.72
BLINK_OPEN = 0.85
TURN_YAW = 0.22
SMILE_RATIO = 1.12
BROW_RATIO = 1.15
_EAR_WINDOW = 90


@dataclass(frozen=True)
class Baseline:
    yaw: float
    mouth: float
    brow: float


@dataclass(frozen=True)
class FrameActions:
    """What one frame shows: `active` deliberate actions (held), `blinked` when a blink just ended."""

    calibrating: bool
    active: frozenset[str]
    blinked: bool

    def shows(self, action: str) -> bool:
        return self.blinked if action == "blink" else action in self.active


def raw_active(shape: Shape, base: Baseline) -> set[str]:
    """Deliberate actions beyond their threshold in this one frame (no holding)."""
    out = set()
    dy = shape.yaw - base.yaw
    if dy >= TURN_YAW:
        out.add("turn_left")
    elif dy <= -TURN_YAW:
        out.add("turn_right")
    if base.mouth > 0 and shape.mouth >= SMILE_RATIO * base.mouth:
        out.add("smile")
    if base.brow > 0 and shape.brow >= BROW_RATIO * base.brow:
        out.add("raise_eyebrows")
    return out


class ActionTracker:
    """Per-user detector state for one challenge (see the module docstring)."""

    def __init__(self) -> None:
        self._calib: list[Shape] = []
        self.baseline: Baseline | None = None
        self._ears: deque[float] = deque(maxlen=_EAR_WINDOW)
        self._closed = False
        self._streak: dict[str, int] = {a: 0 for a in DELIBERATE}

    def open_level(self) -> float:
        return float(np.percentile(np.array(self._ears), 80)) if self._ears else 0.0

    def feed(self, shape: Shape) -> FrameActions:
        self._ears.append(shape.ear)
        blinked = self._blink(shape.ear)
        if self.baseline is None:
            if abs(shape.yaw) > CALIBRATION_MAX_YAW:
                return FrameActions(True, frozenset(), False)
            self._calib.append(shape)
            if len(self._calib) >= CALIBRATION_FRAMES:
                c = self._calib
                self.baseline = Baseline(yaw=float(np.median([s.yaw for s in c])),
                                         mouth=float(np.median([s.mouth for s in c])),
                                         brow=float(np.median([s.brow for s in c])))
            return FrameActions(True, frozenset(), False)
        now = raw_active(shape, self.baseline)
        for a in DELIBERATE:
            self._streak[a] = self._streak[a] + 1 if a in now else 0
        active = frozenset(a for a in DELIBERATE if self._streak[a] >= HOLD_FRAMES)
        return FrameActions(False, active, blinked)

    def _blink(self, ear: float) -> bool:
        if len(self._ears) < 2:
            return False
        level = self.open_level()
        if level <= 0:
            return False
        if not self._closed and ear < BLINK_CLOSED * level:
            self._closed = True
        elif self._closed and ear > BLINK_OPEN * level:
            self._closed = False
            return True
        return False
