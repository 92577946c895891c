"""The live path with many small faces: the rolling tile scan finds 40-50 px faces in a 1280x720 frame
and keeps their tracks between two scans of their region; faces too small to classify are flagged
(``too_small``, no scores, a history row without scores) rather than guessed. Real models throughout
(BlazeFace, dlib, the emotion CNN), on NASA's astronaut photo (scikit-image)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from emotion.live import StreamingAnalyzer
from emotion.records import Box

W, H = 1280, 720
SEATS = [(150, 120), (640, 360), (1100, 600)]   # face top-left corners


@pytest.fixture(scope="module")
def analyzer():
    from emotion.pipeline import get_analyzer

    an = get_analyzer()
    if an.classifier is None:
        pytest.fail(f"no emotion classifier: {an.classifier_error}")
    return an


def _frame(astronaut_bgr, face_px: int) -> tuple[np.ndarray, list[Box]]:
    """Three copies of the astronaut's head, her face `face_px` wide, on grey."""
    from emotion.bench.scenes import ASTRONAUT_FACE as F

    scale = face_px / F.w
    head = cv2.resize(np.ascontiguousarray(astronaut_bgr[F.y - 40:F.y2 + 40, F.x - 40:F.x2 + 40]), None,
                      fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    frame = np.full((H, W, 3), 128, np.uint8)
    boxes = []
    for x, y in SEATS:
        hh, ww = head.shape[:2]
        frame[y:y + hh, x:x + ww] = head
        boxes.append(Box(x + round(40 * scale), y + round(40 * scale), face_px, round(F.h * scale)))
    return frame, boxes


def _inside(face, truth: list[Box]) -> bool:
    cx, cy = face.box.center()
    return any(b.x <= cx <= b.x2 and b.y <= cy <= b.y2 for b in truth)


def test_rolling_scan_finds_small_faces_and_keeps_their_tracks(analyzer, astronaut_bgr):
    from emotion import registry
    from emotion.live.rolling import RollingTiles

    frame, truth = _frame(astronaut_bgr, 46)
    rolling = RollingTiles(registry.get_detector("blazeface"), tile=200, overlap=100, per_frame=12)
    stream = StreamingAnalyzer(analyzer, rolling=rolling, landmarks=False, draw=False, warmup=False,
                               max_faces=40, min_classify_px=24)
    counts = []
    for i in range(3 * 7):   # 84 windows, 12 a frame: a cycle is 7 frames
        _, faces = stream.process(frame, timestamp=100.0 + i / 15)
        counts.append(sum(_inside(f, truth) for f in faces))
    # the whole-frame short-range pass finds none of them (the reason for the rolling scan)
    assert registry.get_detector("blazeface").detect(frame) == []
    assert counts[7:] == [3] * 14, counts                 # after one cycle: all three on every frame
    tracks = {f.track_id for f in faces}
    assert len(tracks) == 3 and all(f.scores is not None and not f.too_small for f in faces)


def test_a_face_too_small_to_classify_is_flagged_not_guessed(analyzer, astronaut_bgr):
    from emotion import registry
    from emotion.live import HistoryWriter
    from emotion.live.rolling import RollingTiles

    frame, truth = _frame(astronaut_bgr, 46)
    rows = []
    writer = HistoryWriter(rows.extend, start=False)
    rolling = RollingTiles(registry.get_detector("blazeface"), tile=200, overlap=100, per_frame=84)
    stream = StreamingAnalyzer(analyzer, rolling=rolling, landmarks=False, draw=True, warmup=False,
                               min_classify_px=60, history_sink=writer)
    out, faces = stream.process(frame, timestamp=100.0)
    assert len(faces) == 3 and all(f.too_small and f.scores is None and f.dominant is None for f in faces)
    assert writer.stop(timeout=10) and len(rows) == 3
    assert all(r["scores"] is None and r["dominant"] is None for r in rows)
    assert faces[0].to_dict()["too_small"] is True


def test_a_tracks_name_is_voted_so_one_poor_match_does_not_rename_it():
    from emotion.live.state import TrackState
    from emotion.records import Identity

    st = TrackState()
    ann, bob, nobody = Identity("Ann", 0.3, 1), Identity("Bob", 0.5, 2), Identity()
    assert [st.vote(i).name for i in (ann, nobody, ann, bob, nobody, nobody)] == \
        ["Ann", "Ann", "Ann", "Ann", "Ann", "Ann"]
    assert [st.vote(nobody).name for _ in range(2)] == ["Ann", "unknown"]   # 5 x unknown (2.5) > 2 x Ann
    assert st.vote(bob, reset=True).name == "Bob"                           # the gallery changed: start over


def test_windows_centred_on_tracks_keep_every_face_between_two_grid_scans(analyzer, astronaut_bgr):
    """One grid window a frame (a cycle of 84 frames): without focus windows the three faces would be
    carried unseen for most of the cycle and dropped; windows centred on the tracks re-detect them."""
    from emotion import registry
    from emotion.live.rolling import RollingTiles

    frame, truth = _frame(astronaut_bgr, 46)
    rolling = RollingTiles(registry.get_detector("blazeface"), tile=200, overlap=100, per_frame=84, focus=2,
                           refresh=3)
    stream = StreamingAnalyzer(analyzer, rolling=rolling, landmarks=False, draw=False, warmup=False,
                               max_faces=40, min_classify_px=24)
    stream.process(frame, timestamp=100.0)       # one full scan finds the three faces
    rolling.per_frame = 1                        # from now on the grid alone would take 84 frames a cycle
    tracks = {f.track_id for f in stream.process(frame, timestamp=100.05)[1]}
    from emotion.live.state import state_of

    counts, focused, stale = [], [], []
    for i in range(2, 40):
        before = rolling.scanned_total
        _, faces = stream.process(frame, timestamp=100.0 + i / 15)
        counts.append(sum(_inside(f, truth) for f in faces))
        focused.append(rolling.scanned_total - before - 1)
        assert {f.track_id for f in faces} == tracks, i
        # frames since each track's last real detection (not a carried box)
        stale.append(max(stream._frame_no - state_of(tr).detected_frame for tr in stream.tracker.tracks))
    assert counts == [3] * len(counts), counts
    assert max(stale) <= 2 * rolling.refresh, stale             # every face re-detected every few frames
    assert max(focused) >= 1 and sum(focused) <= len(focused) * 2   # focus windows ran, at most 2 a frame
    assert rolling.miss_frames() == 7                                # dropped after two missed focus scans


def test_focus_windows_are_clipped_into_the_frame_and_shared_by_neighbours():
    from emotion.live.rolling import RollingTiles

    rolling = RollingTiles(detector=None, tile=200, overlap=100, focus=2)
    near_a, near_b, corner, far = Box(300, 300, 40, 40), Box(360, 310, 40, 40), Box(5, 690, 40, 25), Box(900, 100, 40, 40)
    wins = rolling.focus_windows([near_a, near_b, corner, far], W, H)
    assert wins == [(220, 220, 200, 200), (0, 520, 200, 200)]      # b shares a's window; at most 2
    assert all(RollingTiles.inside(b, wins[:1], margin=4) for b in (near_a, near_b))


def test_a_borderline_first_match_is_confirmed_before_it_is_shown():
    from emotion.live.state import TrackState
    from emotion.records import Identity

    st = TrackState()
    wrong, right = Identity("Bob", 0.39, 2), Identity("Ann", 0.38, 1)
    assert st.unconfirmed(2) is False
    assert st.vote(wrong, confirm=2).name == "unknown" and st.unconfirmed(2)
    assert st.vote(right, confirm=2).name == "unknown"       # one vote each: nothing shown yet
    assert st.vote(right, confirm=2).name == "Ann" and not any(
        n == "Ann" for n, (c, _) in st.votes.items() if c < 2)
    sure = TrackState()
    assert sure.vote(Identity("Ann", 0.2, 1), confirm=2, sure=True).name == "Ann"   # well inside: at once
    assert not sure.unconfirmed(2)
    # settled: the same answer every time (refreshed less often); two names compete: not settled
    assert sure.settled() == 1 and (sure.vote(Identity("Ann", 0.3, 1)), sure.settled()) [1] == 2
    assert st.settled() == 0


def test_many_faces_switch_sets_the_classroom_set_up_and_restores_the_page_s(analyzer):
    from emotion.live.rolling import CLASSROOM_SCAN, CLASSROOM_STREAM, RollingTiles
    from ui.sessions_live import classroom_mode

    stream = StreamingAnalyzer(analyzer, landmarks=False, draw=False, warmup=False)
    before = {k: getattr(stream, k) for k in CLASSROOM_STREAM}
    classroom_mode(stream, True)
    assert isinstance(stream.rolling, RollingTiles)
    assert (stream.rolling.per_frame, stream.rolling.focus) == (CLASSROOM_SCAN["per_frame"], CLASSROOM_SCAN["focus"])
    assert {k: getattr(stream, k) for k in CLASSROOM_STREAM} == CLASSROOM_STREAM != before
    classroom_mode(stream, False)
    assert stream.rolling is None and {k: getattr(stream, k) for k in CLASSROOM_STREAM} == before


def test_the_tracker_s_matrix_matching_pairs_as_its_plain_python_matching():
    """A classroom's 20 x 20 pairs go through numpy; the same scenes matched pair by pair in plain
    Python (the path of a few faces) give the same pairs in the same order."""
    import random

    from emotion.tracking import Tracker

    rng = random.Random(7)
    compared = 0
    for _ in range(60):
        tracker = Tracker()
        faces = [(rng.randint(0, 1200), rng.randint(0, 650), rng.randint(20, 90)) for _ in range(rng.randint(8, 25))]
        t = 0.0
        for _ in range(15):
            t += rng.choice([0.03, 0.07, 0.5, 1.5])
            boxes = []
            for i, (x, y, s) in enumerate(faces):
                faces[i] = (x + rng.randint(-30, 30), y + rng.randint(-30, 30), max(8, s + rng.randint(-8, 8)))
                if rng.random() > 0.15:
                    boxes.append(Box(faces[i][0], faces[i][1], faces[i][2], int(faces[i][2] * 1.1)))
            rng.shuffle(boxes)
            live = tracker.tracks
            if live and boxes:
                small, many = tracker._pairs_small(boxes, live, t), tracker._pairs_many(boxes, live, t)
                assert small == many
                compared += len(small)
            tracker.update(boxes, t)
    assert compared > 1000
