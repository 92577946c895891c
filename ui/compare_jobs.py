"""A comparison running in a background thread, so the page can show progress and a Cancel button
while the engine works (no Streamlit here; the page keeps the job in its session).

At most `SLOTS` comparisons run at once in the server process (env EMOTION_COMPARE_SLOTS, default 1):
the machine's cores are shared by every user, and a comparison uses them all. A job waiting for a
slot says so (``waiting``) and can be cancelled while it waits. The uploaded bytes are released as
soon as the engine has decoded them.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any, Sequence

from emotion.compare import CompareError, CompareOptions, CompareResult, compare

log = logging.getLogger(__name__)

SLOTS = max(1, int(os.environ.get("EMOTION_COMPARE_SLOTS", 1)))
_SLOTS = threading.BoundedSemaphore(SLOTS)


class CompareJob:
    """`start()` runs `emotion.compare.compare` in a daemon thread; read `done`, `total`, `stage`,
    `label`, `waiting`, then `result` or `error` once `finished` is set."""

    def __init__(self, photos: Sequence[tuple[str, Any]], same: Sequence[Sequence[str]],
                 options: CompareOptions | None = None) -> None:
        self._photos: list[tuple[str, Any]] | None = list(photos)
        self.same = [list(g) for g in same]
        self.options = options or CompareOptions()
        self.cancel = threading.Event()
        self.finished = threading.Event()
        self.waiting = False
        self.done = 0
        self.total = 0
        self.stage = ""
        self.label = ""
        self.result: CompareResult | None = None
        self.error: CompareError | None = None
        self.started_at = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="compare-job", daemon=True)

    def start(self) -> "CompareJob":
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return not self.finished.is_set()

    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0

    def _progress(self, done: int, total: int, stage: str, label: str) -> None:
        self.done, self.total, self.stage, self.label = done, total, stage, label

    def _run(self) -> None:
        try:
            self.waiting = True
            while not _SLOTS.acquire(timeout=0.2):
                if self.cancel.is_set():
                    return
            self.waiting = False
            try:
                photos, self._photos = self._photos or [], None
                self.result = compare(photos, self.same, self.options, progress=self._progress, cancel=self.cancel)
            finally:
                _SLOTS.release()
        except CompareError as err:
            self.error = err
        except Exception as err:  # noqa: BLE001 - the page shows a message, never a traceback
            log.exception("comparison failed")
            self.error = CompareError("internal", f"{type(err).__name__}: {err}", detail=f"{type(err).__name__}")
        finally:
            self.waiting = False
            self._photos = None
            self.finished.set()

    def wait(self, timeout: float | None = None) -> bool:
        return self.finished.wait(timeout)
