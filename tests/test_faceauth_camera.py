"""The face factor's camera glue without a browser: frames submitted the way the video callback
submits them reach the challenge; the worker keeps only the newest frame (bounded memory)."""
from __future__ import annotations

import threading
import time

import numpy as np

from emotion.faceauth.challenge import Challenge
from emotion.faceauth.probe import Observation
from ui.faceauth_camera import ChallengeSession, FrameWorker


def _wait(cond, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def test_the_worker_analyses_only_the_newest_frame():
    gate = threading.Event()
    seen = []

    def handle(bgr, t):
        gate.wait(10)
        seen.append(int(bgr[0, 0, 0]))

    w = FrameWorker(handle)
    try:
        w.submit(np.full((2, 2, 3), 1, np.uint8), 0.0)
        _wait(lambda: w._frame is None)  # frame 1 taken, the worker now waits inside handle
        for v in (2, 3, 4):
            w.submit(np.full((2, 2, 3), v, np.uint8), float(v))
        gate.set()
        _wait(lambda: w.analysed == 2)
        assert seen == [1, 4]
    finally:
        w.stop()


class _FixedProbe:
    """Stands in for FaceProbe (no model here): every frame shows one face of another person."""

    def observe(self, bgr, t):
        lm = np.zeros((68, 2), np.float32)
        return Observation(t=t, n_faces=1, landmarks=lm, embedding=np.ones(128, np.float32))


def test_a_challenge_session_fails_a_stranger_and_stops_its_worker():
    enrolled = -np.ones((1, 128), np.float32)
    s = ChallengeSession(Challenge(("blink", "smile")), enrolled, probe=_FixedProbe())
    frame = np.zeros((4, 4, 3), np.uint8)
    for i in range(6):
        s.worker.submit(frame, float(i))
        _wait(lambda: s.worker.analysed == i + 1 or s.worker._stopped)
    status = s.snapshot()
    assert (status.state, status.reason) == ("failed", "face_mismatch")
    assert s.worker._stopped
