"""A bounded set of JPEG thumbnails of the analysed samples, spread evenly over the video.

The Video page shows "the frame at this time" when a point of the timeline is clicked. Keeping every
frame would grow with the video; `Thumbnails` keeps at most `max_items` small JPEGs: it takes a sample
when it is at least `stride` seconds after the last one kept, and when full it drops every other one
and doubles the stride, so the kept set always spans the whole video evenly.
"""
from __future__ import annotations

import bisect
import threading

import cv2
import numpy as np


class Thumbnails:
    def __init__(self, max_items: int = 120, width: int = 320, stride_s: float = 0.25, quality: int = 70) -> None:
        self.max_items = max(2, int(max_items))
        self.width = int(width)
        self.stride_s = float(stride_s)
        self.quality = int(quality)
        self._times: list[float] = []
        self._jpegs: list[bytes] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._times)

    @property
    def times(self) -> list[float]:
        with self._lock:
            return list(self._times)

    def nbytes(self) -> int:
        with self._lock:
            return sum(len(j) for j in self._jpegs)

    def due(self, t: float) -> bool:
        """Whether a frame at `t` would be kept (so the caller can skip drawing one that would not)."""
        with self._lock:
            return not self._times or t - self._times[-1] >= self.stride_s

    def offer(self, t: float, bgr: np.ndarray) -> bool:
        """Keep this frame if it is due; True when kept."""
        with self._lock:
            if self._times and t - self._times[-1] < self.stride_s:
                return False
        h, w = bgr.shape[:2]
        if w > self.width:
            bgr = cv2.resize(bgr, (self.width, max(1, int(round(h * self.width / w)))), interpolation=cv2.INTER_AREA)
        ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if not ok:
            return False
        with self._lock:
            self._times.append(float(t))
            self._jpegs.append(buf.tobytes())
            if len(self._times) > self.max_items:
                self._times = self._times[::2]
                self._jpegs = self._jpegs[::2]
                self.stride_s *= 2.0
        return True

    def nearest(self, t: float) -> tuple[float, bytes] | None:
        """(time, JPEG bytes) of the kept thumbnail closest to `t`, None when there is none."""
        with self._lock:
            if not self._times:
                return None
            i = bisect.bisect_left(self._times, t)
            cands = [j for j in (i - 1, i) if 0 <= j < len(self._times)]
            j = min(cands, key=lambda k: abs(self._times[k] - t))
            return self._times[j], self._jpegs[j]
