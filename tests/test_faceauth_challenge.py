"""The liveness challenge's state machine and the recovery codes, on SYNTHETIC landmark sequences.

The shapes here are the astronaut photo's real 68 landmarks, with points moved to act out each
action (eyelids together, nose shifted, mouth corners apart, brows up). They test the rules of the
state machine; the detectors themselves are tested on real photos in test_faceauth_detectors.py.
Embeddings are random unit vectors: `ME` stands for the enrolled user, `OTHER` for someone else.
"""
from __future__ import annotations

import numpy as np
import pytest

from emotion.faceauth import challenge as ch
from emotion.faceauth import recovery
from emotion.faceauth.challenge import Challenge, ChallengeRun
from emotion.faceauth.detectors import ActionTracker
from emotion.faceauth.geometry import measure
from emotion.faceauth.probe import Observation

_rng = np.random.default_rng(7)
ME = _rng.normal(size=128).astype(np.float32)
OTHER = _rng.normal(size=128).astype(np.float32)


@pytest.fixture(scope="module")
def base_landmarks(astronaut_bgr):
    from emotion.faceauth.probe import FaceProbe

    obs = FaceProbe("blazeface").observe(np.ascontiguousarray(astronaut_bgr), 0.0, embed=False)
    assert obs.n_faces == 1
    return obs.landmarks.astype(np.float64)


def act(lm: np.ndarray, action: str | None) -> np.ndarray:
    """`lm` with `action` acted out by moving points (synthetic)."""
    p = lm.copy()
    iod = float(np.linalg.norm(p[42:48].mean(0) - p[36:42].mean(0)))
    if action == "blink":
        for top, bottom in ((37, 41), (38, 40), (43, 47), (44, 46)):
            mid = (p[top] + p[bottom]) / 2
            p[top] = mid + (p[top] - mid) * 0.2
            p[bottom] = mid + (p[bottom] - mid) * 0.2
    elif action in ("turn_left", "turn_right"):
        sign = 1 if action == "turn_left" else -1
        p[27:36, 0] += sign * 0.30 * iod
        p[48:68, 0] += sign * 0.12 * iod
    elif action == "smile":
        p[48, 0] -= 0.12 * iod
        p[54, 0] += 0.12 * iod
    elif action == "raise_eyebrows":
        p[17:27, 1] -= 0.15 * iod
    return p.astype(np.float32)


def frames(lm, script, *, emb=ME, t0=0.0, fps=10.0, n_faces=1):
    """Observations for `script`: a list of (action or None, number of frames)."""
    out, t = [], t0
    for action, n in script:
        for _ in range(n):
            out.append(Observation(t=t, n_faces=n_faces, landmarks=act(lm, action), embedding=emb))
            t += 1.0 / fps
    return out


def run_all(challenge, observations, enrolled=ME[None]):
    run = ChallengeRun(challenge, enrolled, start=observations[0].t)
    status = None
    for o in observations:
        status = run.feed(o)
    return status


def performing(actions):
    script = [(None, 4)]
    for a in actions:
        script += [(a, 3), (None, 3)]
    return script


# ------------------------------------------------------------------------- synthetic detectors
@pytest.mark.parametrize("action", ["turn_left", "turn_right", "smile", "raise_eyebrows"])
def test_each_synthetic_action_is_seen_alone(base_landmarks, action):
    tracker = ActionTracker()
    seen = [tracker.feed(measure(o.landmarks)) for o in frames(base_landmarks, [(None, 4), (action, 3)])]
    assert seen[-1].active == frozenset({action})
    assert all(not f.active for f in seen[:5])


def test_synthetic_blink_is_seen_once_when_the_eyes_reopen(base_landmarks):
    tracker = ActionTracker()
    seen = [tracker.feed(measure(o.landmarks)).blinked
            for o in frames(base_landmarks, [(None, 4), ("blink", 2), (None, 3)])]
    assert seen == [False] * 6 + [True, False, False]


# ------------------------------------------------------------------------- state machine
@pytest.mark.parametrize("actions", [("blink", "turn_left"), ("smile", "raise_eyebrows", "turn_right"),
                                     ("turn_right", "turn_left", "blink")])
def test_the_challenge_performed_in_order_passes(base_landmarks, actions):
    status = run_all(Challenge(actions), frames(base_landmarks, performing(actions)))
    assert (status.state, status.step) == (ch.PASSED, len(actions))


def test_a_still_photo_fails_as_still(base_landmarks):
    obs = frames(base_landmarks, [(None, 300)])  # 30 s of the same face shape
    status = run_all(Challenge(("blink", "turn_left")), obs)
    assert (status.state, status.reason) == (ch.FAILED, "still")


def test_a_replay_of_another_order_fails(base_landmarks):
    recording = frames(base_landmarks, performing(("turn_left", "smile")))
    status = run_all(Challenge(("smile", "turn_left")), recording)
    assert (status.state, status.reason) == (ch.FAILED, "wrong_action")


def test_a_different_person_fails(base_landmarks):
    actions = ("blink", "smile")
    status = run_all(Challenge(actions), frames(base_landmarks, performing(actions), emb=OTHER))
    assert (status.state, status.reason, status.frames_used) == (ch.FAILED, "face_mismatch", 0)


def test_swapping_faces_mid_challenge_does_not_count_the_other_faces_frames(base_landmarks):
    actions = ("turn_left", "smile")
    obs = frames(base_landmarks, [(None, 4), ("turn_left", 3), (None, 2)])
    obs += frames(base_landmarks, [("smile", 5), (None, 2)], emb=OTHER, t0=obs[-1].t + 0.1)
    status = run_all(Challenge(actions), obs)
    assert (status.state, status.reason, status.step) == (ch.FAILED, "face_mismatch", 1)


def test_frames_with_two_faces_are_never_used(base_landmarks):
    actions = ("blink", "turn_left")
    status = run_all(Challenge(actions), frames(base_landmarks, performing(actions), n_faces=2))
    assert (status.state, status.frames_used) == (ch.PENDING, 0)


def test_too_slow_fails_with_timeout(base_landmarks):
    actions = ("smile", "turn_left")
    obs = frames(base_landmarks, [(None, 4), ("smile", 3), (None, 250), ("turn_left", 3)])
    status = run_all(Challenge(actions), obs)
    assert (status.state, status.reason, status.step) == (ch.FAILED, "timeout", 1)


def test_a_finished_run_ignores_later_frames(base_landmarks):
    run = ChallengeRun(Challenge(("smile", "blink")), ME[None], start=0.0)
    for o in frames(base_landmarks, [(None, 4), ("turn_left", 3)]):
        status = run.feed(o)
    assert status.reason == "wrong_action"
    later = frames(base_landmarks, performing(("smile", "blink")), t0=1.0)
    assert all(run.feed(o) == status for o in later)


def test_random_challenges_have_two_or_three_distinct_actions():
    seen = [Challenge.random().actions for _ in range(300)]
    assert {len(a) for a in seen} == {2, 3}
    assert all(len(set(a)) == len(a) for a in seen)
    assert len(set(seen)) > 30  # not a fixed list


# ------------------------------------------------------------------------- the test-only setting
def test_the_fixed_order_is_honoured_in_test_mode():
    env = {ch.FIXED_ENV: "blink, turn_left", ch.TEST_MODE_ENV: "1"}
    assert Challenge.for_sign_in(env).actions == ("blink", "turn_left")


@pytest.mark.parametrize("mode", [None, "", "0", "true"])
def test_production_refuses_the_fixed_order(mode):
    env = {ch.FIXED_ENV: "blink,turn_left"}
    if mode is not None:
        env[ch.TEST_MODE_ENV] = mode
    with pytest.raises(ch.UnsafeSetting):
        Challenge.for_sign_in(env)


def test_without_the_setting_the_order_is_random():
    orders = {Challenge.for_sign_in({ch.TEST_MODE_ENV: "1"}).actions for _ in range(40)}
    assert len(orders) > 5


# ------------------------------------------------------------------------- recovery codes
def test_recovery_codes_are_ten_distinct_and_verify_once_each():
    codes = recovery.new_codes()
    assert len(codes) == 10 and len(set(codes)) == 10
    hashes = [recovery.hash_code(c) for c in codes]
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert all(c not in h for c, h in zip(codes, hashes))
    assert recovery.find_code(codes[3], hashes) == 3
    assert recovery.find_code(codes[3].lower().replace("-", " "), hashes) == 3
    assert recovery.find_code(codes[3], hashes[:3] + hashes[4:]) is None  # used (removed) -> refused


@pytest.mark.parametrize("typed", ["", "ABCDE", "ABCDE-FGHJK-M", "ÄBCDE-FGHJK", "x" * 10_000, None, 12345])
def test_malformed_recovery_codes_are_refused_without_hashing(typed):
    assert recovery.normalise(typed) is None
    assert recovery.find_code(typed, ["not-a-hash"]) is None


def test_look_alike_characters_are_folded():
    assert recovery.normalise("o0iL1-abcde") == "00111ABCDE"


def test_calibration_waits_for_a_straight_look(base_landmarks):
    # the first frames are turned: they must not become the baseline (else looking straight would
    # read as the opposite turn)
    tracker = ActionTracker()
    seen = [tracker.feed(measure(o.landmarks)) for o in frames(base_landmarks, [("turn_left", 3), (None, 5)])]
    assert [f.calibrating for f in seen] == [True] * 6 + [False] * 2
    assert not any(f.active for f in seen)


def test_a_run_whose_frames_stop_fails_when_its_time_is_up(base_landmarks):
    run = ChallengeRun(Challenge(("smile", "blink")), ME[None], start=0.0)
    for o in frames(base_landmarks, [(None, 4), ("smile", 3)]):
        run.feed(o)
    assert run.expire(5.0).state == ch.PENDING
    status = run.expire(Challenge(("smile", "blink")).time_limit + 0.1)
    assert (status.state, status.reason, status.step) == (ch.FAILED, "timeout", 1)
