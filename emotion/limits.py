"""Process-wide admission control for heavy requests: at most N photo analyses run at once.

Decoding and analysing one upload costs up to a few hundred MB for a moment (see
``python -m emotion bench --memory``); without a bound, every session uploading at the same time adds
its own peak. `ANALYSIS_SLOTS` lets `EMOTION_MAX_CONCURRENT_ANALYSES` (default 2) of them run; the
others wait in line, and the caller learns that it waits (``on_wait(position)``) so that the UI can say
so. A wait longer than `timeout` gives `AnalysisBusy` (code ``analysis.busy``: the UI asks to try
again) instead of a hung page.

    with ANALYSIS_SLOTS.hold(on_wait=lambda n: placeholder.info(f"{n} ahead of you")):
        bgr = load_image(data, max_side=1600)
        faces = analyzer.analyze(bgr, ...)
"""
from __future__ import annotations

import contextlib
import os
import threading
from typing import Callable, Iterator

from emotion.errors import AnalysisBusy

__all__ = ["AnalysisBusy", "AnalysisSlots", "ANALYSIS_SLOTS", "DEFAULT_SLOTS", "DEFAULT_WAIT_S"]

DEFAULT_SLOTS = 2
DEFAULT_WAIT_S = 120.0


class AnalysisSlots:
    """A bounded semaphore that reports waiting. Thread-safe; one instance per process."""

    def __init__(self, slots: int = DEFAULT_SLOTS, *, wait_s: float = DEFAULT_WAIT_S):
        if slots < 1:
            raise ValueError("at least one analysis slot is needed")
        self.slots = int(slots)
        self.wait_s = float(wait_s)
        self._sem = threading.BoundedSemaphore(self.slots)
        self._lock = threading.Lock()
        self._running = 0
        self._waiting = 0

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        return self._waiting

    @contextlib.contextmanager
    def hold(self, on_wait: Callable[[int], None] | None = None,
             timeout: float | None = None) -> Iterator[None]:
        """Run the body in a slot. When none is free, ``on_wait(position)`` is called once (1 = next)
        before blocking, for at most `timeout` seconds (default `wait_s`), then `AnalysisBusy`."""
        if not self._sem.acquire(blocking=False):
            with self._lock:
                self._waiting += 1
                position = self._waiting
            try:
                if on_wait is not None:
                    on_wait(position)
                got = self._sem.acquire(timeout=self.wait_s if timeout is None else max(0.0, timeout))
            finally:
                with self._lock:
                    self._waiting -= 1
            if not got:
                raise AnalysisBusy(f"all {self.slots} analysis slots stayed busy")
        with self._lock:
            self._running += 1
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1
            self._sem.release()


def _slots_from_env() -> int:
    try:
        return max(1, int(os.environ.get("EMOTION_MAX_CONCURRENT_ANALYSES", DEFAULT_SLOTS)))
    except ValueError:
        return DEFAULT_SLOTS


#: the one instance every photo analysis in this process goes through
ANALYSIS_SLOTS = AnalysisSlots(_slots_from_env())
