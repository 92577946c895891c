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
