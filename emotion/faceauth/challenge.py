"""The liveness challenge: a random sequence of actions, performed by the enrolled face, in time.

    challenge = Challenge.random()                  # 2 or 3 distinct actions, secrets-random order
    run = ChallengeRun(challenge, enrolled, start=t0)
    status = run.feed(observation)                  # once per analysed camera frame

Rules (each one is a test in tests/test_faceauth_challenge.py):
* Only frames with exactly one face are used; several faces or none are skipped (never progress).
* Every used frame must match the enrolled embeddings (distance <= threshold). A frame that does not
  is not used; more than `MAX_MISMATCHES` such frames fail the run ("face_mismatch"): a different
  person, or faces swapped mid-challenge, cannot pass.
* The first frames calibrate the per-user baseline; then the actions must come in the given order.
  A deliberate action other than the expected one fails the run ("wrong_action"): a replay of an
  earlier recording shows its own order. Actions that were active in the frame that completed a
  step (the action itself, and e.g. a mouth that changed with a head turn) are excused until they
  end, so holding a turn while the next step begins is not a wrong action -- nor does an excused
  action count for the next step: every step needs an action that starts after the previous step.
* All actions within `time_limit` seconds of the start, else "timeout" -- or "still" when the face's
  shape never changed (a photo held to the camera).
* A run ends once (passed or failed) and ignores later frames; a new attempt needs a new challenge.
  `expire(now)` ends a run whose frames stopped coming once its time is up.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field

import numpy as np

from emotion.faceauth.detectors import ACTIONS, ActionTracker
from emotion.faceauth.geometry import Shape, measure
from emotion.faceauth.policy import MATCH_THRESHOLD
from emotion.faceauth.probe import Observation, match_distance

PENDING, PASSED, FAILED = "pending", "passed", "failed"
REASONS = ("timeout", "still", "face_mismatch", "wrong_action")
MAX_MISMATCHES = 3
SECONDS_PER_ACTION = 7.0
CALIBRATION_SECONDS = 5.0
#: spread (max - min over the run) below which every measure counts as unchanged ("still")
STILL_SPREAD = {"ear": 0.02, "yaw": 0.03, "mouth": 0.02, "brow": 0.03}

#: test-only: a fixed challenge order ("blink,turn_left"); refused unless EMOTION_TEST_MODE=1
FIXED_ENV = "EMOTION_FACEAUTH_FIXED_CHALLENGE"
TEST_MODE_ENV = "EMOTION_TEST_MODE"


class UnsafeSetting(RuntimeError):
    """A test-only setting was found outside test mode; the face step refuses to run."""

    code = "faceauth_unsafe_setting"


def fixed_order_from_env(environ: dict[str, str] | None = None) -> tuple[str, ...] | None:
    """The fixed challenge order from `FIXED_ENV`, or None when unset. Raises `UnsafeSetting` when it
    is set without `TEST_MODE_ENV=1` (production), and ValueError for unknown actions."""
    env = os.environ if environ is None else environ
    raw = (env.get(FIXED_ENV) or "").strip()
    if not raw:
        return None
    if (env.get(TEST_MODE_ENV) or "").strip() != "1":
        raise UnsafeSetting(f"{FIXED_ENV} is a test-only setting and is refused outside test mode")
    actions = tuple(a.strip() for a in raw.split(",") if a.strip())
    bad = [a for a in actions if a not in ACTIONS]
    if bad or not 1 <= len(actions) <= 3 or len(set(actions)) != len(actions):
        raise ValueError(f"{FIXED_ENV}: 1-3 distinct actions of {', '.join(ACTIONS)}")
    return actions


@dataclass(frozen=True)
class Challenge:
    actions: tuple[str, ...]

    @property
    def time_limit(self) -> float:
        return CALIBRATION_SECONDS + SECONDS_PER_ACTION * len(self.actions)

    @classmethod
    def random(cls, rng: secrets.SystemRandom | None = None) -> "Challenge":
        rng = rng or secrets.SystemRandom()
        n = rng.choice((2, 3))
        return cls(tuple(rng.sample(ACTIONS, n)))

    @classmethod
    def for_sign_in(cls, environ: dict[str, str] | None = None) -> "Challenge":
        """The challenge of a sign-in: random, unless a test fixed it (see `fixed_order_from_env`)."""
        fixed = fixed_order_from_env(environ)
        return cls(fixed) if fixed else cls.random()


@dataclass(frozen=True)
class Status:
    state: str
    step: int                 # actions done
    action: str | None        # the action expected now (None while calibrating or when finished)
    calibrating: bool
    reason: str | None = None
    frames_used: int = 0
    max_distance: float | None = None  # largest match distance among used frames


@dataclass
class ChallengeRun:
    challenge: Challenge
    enrolled: np.ndarray
    start: float
    threshold: float = MATCH_THRESHOLD
    tracker: ActionTracker = field(default_factory=ActionTracker)

    def __post_init__(self) -> None:
        self.enrolled = np.asarray(self.enrolled, np.float32).reshape(-1, 128) if np.size(self.enrolled) else \
            np.zeros((0, 128), np.float32)
        self.step = 0
        self.mismatches = 0
        self.used = 0
        self.max_distance: float | None = None
        self._excused: set[str] = set()
        self._shapes: list[Shape] = []
        self._final: Status | None = None
        self._calibrating = True

    # ----------------------------------------------------------------------------------
    def _status(self, state: str = PENDING, reason: str | None = None) -> Status:
        acts = self.challenge.actions
        action = None if (state != PENDING or self._calibrating) else acts[self.step]
        return Status(state, self.step, action, self._calibrating and state == PENDING, reason, self.used,
                      self.max_distance)

    def _finish(self, state: str, reason: str | None = None) -> Status:
        self._final = self._status(state, reason)
        return self._final

    @property
    def finished(self) -> bool:
        return self._final is not None

    def _was_still(self) -> bool:
        if len(self._shapes) < 2:
            return True
        arr = {k: np.array([getattr(s, k) for s in self._shapes]) for k in STILL_SPREAD}
        return all(float(np.ptp(v)) < STILL_SPREAD[k] for k, v in arr.items())

    def expire(self, now: float) -> Status:
        """The status at time `now` without a new frame: a run whose frames stopped coming (camera
        closed, connection lost) fails once its time is up."""
        if self._final is None and now - self.start > self.challenge.time_limit:
            return self._finish(FAILED, "still" if self._was_still() else "timeout")
        return self._final or self._status()

    def feed(self, obs: Observation) -> Status:
        if self._final is not None:
            return self._final
        if obs.t - self.start > self.challenge.time_limit:
            return self._finish(FAILED, "still" if self._was_still() else "timeout")
        if self.enrolled.shape[0] == 0:
            return self._finish(FAILED, "face_mismatch")
        if obs.n_faces != 1 or obs.landmarks is None or obs.embedding is None:
            return self._status()
        dist = match_distance(obs.embedding, self.enrolled)
        if not dist <= self.threshold:
            self.mismatches += 1
            if self.mismatches > MAX_MISMATCHES:
                return self._finish(FAILED, "face_mismatch")
            return self._status()
        try:
            shape = measure(obs.landmarks)
        except ValueError:
            return self._status()
        self.used += 1
        self.max_distance = dist if self.max_distance is None else max(self.max_distance, dist)
        self._shapes.append(shape)
        fa = self.tracker.feed(shape)
        self._calibrating = fa.calibrating
        if fa.calibrating:
            return self._status()
        expected = self.challenge.actions[self.step]
        self._excused &= set(fa.active)
        if fa.shows(expected) and expected not in self._excused:
            self.step += 1
            self._excused = set(fa.active)
            if self.step == len(self.challenge.actions):
                return self._finish(PASSED)
            return self._status()
        wrong = [a for a in fa.active if a != expected and a not in self._excused]
        if wrong:
            return self._finish(FAILED, "wrong_action")
        return self._status()
