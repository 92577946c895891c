"""A comparison followed from a background thread, so the page can show progress and a Cancel button
while the engine works (no Streamlit here; the page keeps the job in its session). The engine itself
runs in the comparison process (`emotion.compare.worker`), not in the server.

One comparison runs at a time per server: the machine's cores are shared by every user, and a
comparison uses them all. A job waiting for its turn says so (``waiting``) and can be cancelled while
it waits. The job drops its copy of the uploaded bytes once they are handed to the process.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Sequence

from emotion.compare import CompareError, CompareOptions, CompareResult

log = logging.getLogger(__name__)

#: the comparison process runs one job at a time; the others wait here (and can be cancelled)
_SLOTS = threading.BoundedSemaphore(1)


class CompareJob:
    """`start()` hands the comparison to the comparison process and follows it from a daemon thread;
    read `done`, `total`, `stage`, `label`, `waiting`, then `result` or `error` once `finished` is set."""

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
        from emotion.compare import worker

        try:
            self.waiting = True
            while not _SLOTS.acquire(timeout=0.2):
                if self.cancel.is_set():
                    return
            self.waiting = False
            try:
                photos, self._photos = self._photos or [], None
                self._run_in_worker(worker, photos)
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

    def _run_in_worker(self, worker, photos: list) -> None:
        """Hand the job to the comparison process and follow it until its result or error arrives."""
        answered = threading.Event()

        def on_message(kind: str, payload: Any) -> None:
            if kind == "progress":
                self._progress(*payload)
                return
            if kind == "result":
                self.result = payload
            else:
                code, message, params = payload
                self.error = CompareError(code, message, **params)
            answered.set()

        proc = worker.get_worker()
        jid = worker.next_id()
        proc.submit(jid, photos, self.same, self.options, on_message)
        del photos
        asked_to_stop = False
        try:
            while not answered.wait(0.2):
                if self.cancel.is_set() and not asked_to_stop:
                    proc.cancel(jid)
                    asked_to_stop = True
        finally:
            proc.forget(jid)

    def wait(self, timeout: float | None = None) -> bool:
        return self.finished.wait(timeout)
