"""Camera glue of the face factor: frames from streamlit-webrtc's worker thread to the engine.

The video callback only hands the newest frame to `FrameWorker` and returns it at once; one
background thread analyses the newest frame it has (older ones are dropped: bounded memory, the
video never waits for the models) and feeds a `ChallengeSession` (sign-in) or `EnrolmentSession`
(settings). Pages read their thread-safe `snapshot()` from a fragment. Nothing here calls Streamlit
off the script thread.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

import numpy as np

from emotion.faceauth.challenge import Challenge, ChallengeRun, Status
from emotion.faceauth.enrol import PER_POSE, POSES, Enrolment


def get_probe():
    """A FaceProbe on the live camera's detector; its models are built once per process by the
    registry. Pages call this on the script thread and hand the probe to the sessions."""
    from emotion.detect import FAST_DETECTOR
    from emotion.faceauth.probe import FaceProbe

    return FaceProbe(FAST_DETECTOR)


class FrameWorker:
    """Analyses the newest submitted frame in a daemon thread: `handle(bgr, t)` does the work."""

    def __init__(self, handle: Callable[[np.ndarray, float], None]) -> None:
        self._handle = handle
        self._cond = threading.Condition()
        self._frame: tuple[np.ndarray, float] | None = None
        self._stopped = False
        self.analysed = 0
        self._thread = threading.Thread(target=self._loop, name="faceauth-worker", daemon=True)
        self._thread.start()

    def submit(self, bgr: np.ndarray, t: float | None = None) -> None:
        with self._cond:
            self._frame = (bgr, time.monotonic() if t is None else t)
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()

    #: a worker with no frame for this long ends (an abandoned face step or enrolment)
    IDLE_EXIT_S = 120.0
    PAUSE_S = 0.05

    def _loop(self) -> None:
        last = time.monotonic()
        while True:
            with self._cond:
                while self._frame is None and not self._stopped:
                    if time.monotonic() - last > self.IDLE_EXIT_S:
                        self._stopped = True
                        break
                    self._cond.wait(timeout=1.0)
                if self._stopped:
                    return
                last = time.monotonic()
                bgr, t = self._frame
                self._frame = None
            try:
                self._handle(bgr, t)
            except Exception:  # noqa: BLE001 - a bad frame must not kill the worker
                import logging

                logging.getLogger(__name__).exception("face factor: frame analysis failed")
            self.analysed += 1
            # dlib holds the GIL while it computes: leave the video's event loop a moment between frames
            time.sleep(self.PAUSE_S)


class ChallengeSession:
    """One sign-in challenge on the camera: its run starts at the first analysed frame."""

    def __init__(self, challenge: Challenge, enrolled: np.ndarray, probe=None) -> None:
        self.challenge = challenge
        self._enrolled = enrolled
        self._probe = probe
        self._lock = threading.Lock()
        self._run: ChallengeRun | None = None
        self._status: Status | None = None
        self.worker = FrameWorker(self._analyse)

    def _analyse(self, bgr: np.ndarray, t: float) -> None:
        probe = self._probe or get_probe()
        obs = probe.observe(bgr, t)
        with self._lock:
            if self._run is None:
                self._run = ChallengeRun(self.challenge, self._enrolled, start=t)
            self._status = self._run.feed(obs)
            if self._run.finished:
                self.worker.stop()

    def snapshot(self) -> Status | None:
        """The run's status; a run whose frames stopped coming fails when its time is up."""
        with self._lock:
            if self._run is not None and not self._run.finished:
                self._status = self._run.expire(time.monotonic())
                if self._run.finished:
                    self.worker.stop()
            return self._status

    def stop(self) -> None:
        self.worker.stop()


class EnrolmentSession:
    """Guided enrolment on the camera (settings): keeps embeddings only."""

    def __init__(self, probe=None) -> None:
        self._probe = probe
        self._lock = threading.Lock()
        self.enrolment = Enrolment()
        self.worker = FrameWorker(self._analyse)

    def _analyse(self, bgr: np.ndarray, t: float) -> None:
        probe = self._probe or get_probe()
        boxes = probe.faces(bgr)
        lm = probe.landmarks(bgr, boxes[0]) if len(boxes) == 1 else None
        emb = probe.embed(bgr, lm) if lm is not None else None
        with self._lock:
            self.enrolment.offer(bgr, boxes, lm, emb)
            if self.enrolment.complete:
                self.worker.stop()

    def snapshot(self) -> tuple[str | None, int, list[str]]:
        """(pose asked for now, good frames kept, the last frame's problems)."""
        with self._lock:
            e = self.enrolment
            return e.pose, sum(len(v) for v in e.kept.values()), list(e.last_problems)

    def embeddings(self) -> np.ndarray:
        with self._lock:
            return self.enrolment.embeddings()

    @staticmethod
    def total() -> int:
        return PER_POSE * len(POSES)

    def stop(self) -> None:
        self.worker.stop()
