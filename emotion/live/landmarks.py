"""dlib's 68 points on a tracked face, cheaper than a photo's: refit rarely, follow the box in between."""
from __future__ import annotations

from typing import Any

import numpy as np

from emotion.live.state import TrackState
from emotion.records import Box

__all__ = ["track_landmarks"]


def track_landmarks(analyzer: Any, bgr: np.ndarray, box: Box, state: TrackState, every: int) -> np.ndarray:
    """The 68 points of the face in `box` on this frame.

    * a new track gets the Analyzer's full two-pass fit (`Analyzer.landmarks`);
    * later frames fit once, on the box dlib's HOG detector would draw around the track's last
      points moved with its box (the second pass of the full fit, whose first pass only finds
      that box), when the Analyzer's landmarker offers ``predict(..., refine=False)``;
    * on in-between frames (see `every`) the last points just follow the box (translation +
      scale), which costs nothing.
    """
    prev, prev_box = state.landmarks, state.landmarks_box
    moved = None
    if prev is not None and prev_box is not None:
        sx, sy = box.w / max(prev_box.w, 1), box.h / max(prev_box.h, 1)
        if 0.8 <= sx <= 1.25 and 0.8 <= sy <= 1.25:
            moved = ((prev - (prev_box.x, prev_box.y)) * (sx, sy) + (box.x, box.y)).astype(np.float32)
    if moved is not None and state.landmarks_age + 1 < every:
        state.landmarks_age += 1
        return moved
    landmarker = getattr(analyzer, "landmarker", None)
    lm = None
    if moved is not None and landmarker is not None:
        try:
            from emotion.landmarks.dlib68 import hog_like_box

            h, w = bgr.shape[:2]
            guess = hog_like_box(moved)
            if guess.x >= 0 and guess.y >= 0 and guess.x2 <= w and guess.y2 <= h and guess.w >= 8:
                lm = landmarker.predict(bgr, guess, refine=False)
        except (ImportError, TypeError, AttributeError):
            lm = None
    if lm is None:
        lm = analyzer.landmarks(bgr, box)
    lm = np.asarray(lm, np.float32)
    # a new track starts at a phase of its own, so that several faces do not all refit on the same frame
    state.landmarks, state.landmarks_box = lm, box
    state.landmarks_age = 0 if prev is not None else state.phase % every
    return lm
