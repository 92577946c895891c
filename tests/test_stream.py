"""The live-camera engine: tracker, StreamingAnalyzer on real-face frames, HistoryWriter.

Frames are built from NASA's astronaut photo (scikit-image): her head moving across a 640x480
background (`emotion.bench.scenes.moving_face_frames`) or three real faces side by side. The models are
the real ones from `emotion.registry`. Time is injected (a fake clock advancing 1/30 s a frame), so
the history cadence is exact and no assertion depends on how fast this machine is.

Tests that look at emotion scores need the project's trained model (models/fer_cnn.onnx) and skip,
saying so, only while that file is absent. Everything else runs without it.
"""
from __future__ import annotations

import threading

import numpy as np
import pytest

from emotion.records import Box, EMOTIONS
from emotion.tracking import Tracker

FPS = 30.0
NAME = "Eileen Collins"


# ------------------------------------------------------------------------------------------ helpers

class FakeClock:
    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t

    def tick(self, dt: float = 1.0 / FPS) -> None:
        self.t += dt


@pytest.fixture(scope="module")
def analyzer():
    from emotion.pipeline import get_analyzer

    return get_analyzer()


@pytest.fixture(scope="module")
def gallery(analyzer):
    from emotion.bench.scenes import astronaut_gallery

    return astronaut_gallery(analyzer)


@pytest.fixture(scope="module")
def moving_frames():
    from emotion.bench.scenes import moving_face_frames

    return moving_face_frames(90)


def needs_emotion_model(analyzer) -> None:
    if getattr(analyzer, "classifier", None) is None:
        from emotion.classify.fer_cnn import model_path

        if model_path().is_file():
            pytest.fail(f"{model_path().name} is present but the Analyzer has no classifier: "
                        f"{getattr(analyzer, 'classifier_error', '?')}")
        pytest.skip("models/fer_cnn.onnx (the project's emotion model) is not trained yet")


class Counting:
    """The real Analyzer, counting the calls of one of its stage methods (`calls`, one entry each)."""

    def __init__(self, inner, method: str):
        self._inner, self._method, self.calls = inner, method, []

    def __getattr__(self, name):
        attr = getattr(self._inner, name)
        if name != self._method:
            return attr

        def counted(*a, **k):
            self.calls.append(1)
            return attr(*a, **k)

        return counted


def stream_for(analyzer, clock, **kw):
    from emotion.live import StreamingAnalyzer

    return StreamingAnalyzer(analyzer, clock=clock, **kw)


def run_frames(stream, frames, clock):
    out = []
    for f in frames:
        out.append(stream.process(f))
        clock.tick()
    return out


# ------------------------------------------------------------------------------------------ tracker

def test_tracker_keeps_ids_when_the_prediction_overshoots():
    """A slow frame after fast ones makes the velocity prediction overshoot; the last box still
    matches, so the face keeps its id."""
    tr = Tracker()
    t = 0.0
    ids = []
    for i in range(5):  # 5 px every 5 ms: velocity 1000 px/s
        ids.append(tr.update([Box(100 + 5 * i, 100, 100, 100)], t)[0].track_id)
        t += 0.005
    t += 0.3  # a stall: the prediction moves the box 300 px away
    ids.append(tr.update([Box(125, 100, 100, 100)], t)[0].track_id)
    assert len(set(ids)) == 1


def test_tracker_survives_a_stall_but_expires_faces_that_left():
    tr = Tracker(max_age_s=1.0)
    a = tr.update([Box(0, 0, 50, 50)], 0.0)[0].track_id
    # the caller stalled for 2 s (one very slow frame): the face is still there, same id
    assert tr.update([Box(2, 0, 50, 50)], 2.0)[0].track_id == a
    # the face leaves: after max_age_s and a couple of frames without it, its track expires
    for k in range(1, 4):
        tr.update([], 2.0 + 0.6 * k)
    assert tr.get(a) is None
    assert tr.update([Box(2, 0, 50, 50)], 5.0)[0].track_id != a


def test_tracker_allows_longer_jumps_after_longer_gaps():
    """A slow machine analyses few frames: after 0.4 s a face moving 360 px/s is 1.4 face sizes
    away, beyond the per-frame limit, and keeps its id; a face that far away one frame (33 ms)
    later is somebody else."""
    tr = Tracker()
    a = tr.update([Box(100, 100, 100, 100)], 0.0)[0].track_id
    assert tr.update([Box(244, 100, 100, 100)], 0.4)[0].track_id == a
    tr2 = Tracker()
    b = tr2.update([Box(100, 100, 100, 100)], 0.0)[0].track_id
    assert tr2.update([Box(244, 100, 100, 100)], 1 / 30)[0].track_id != b


def test_tracker_two_faces_crossing_keep_their_ids():
    tr = Tracker()
    ids_a, ids_b = set(), set()
    for i in range(20):
        a, b = tr.update([Box(100 + 4 * i, 100, 80, 80), Box(400 - 4 * i, 300, 80, 80)], i / 30)
        ids_a.add(a.track_id)
        ids_b.add(b.track_id)
    assert len(ids_a) == 1 and len(ids_b) == 1 and ids_a != ids_b


# ------------------------------------------------------------------------------------------ streaming

def test_moving_face_keeps_track_and_identity(analyzer, gallery, moving_frames):
    clock = FakeClock()
    stream = stream_for(analyzer, clock, gallery_provider=lambda: gallery, landmarks=True)
    results = run_frames(stream, moving_frames, clock)
    faces = [faces for _, faces in results]
    assert all(len(f) == 1 for f in faces), [len(f) for f in faces]
    assert len({f[0].track_id for f in faces}) == 1
    assert all(f[0].identity.name == NAME for f in faces)
    assert all(f[0].identity.person_id == 1 for f in faces)
    # the box follows the face: it moved right by more than 300 px over the sequence
    assert faces[-1][0].box.x - faces[0][0].box.x > 300
    for f in faces:
        assert f[0].landmarks is not None and f[0].landmarks.shape == (68, 2)
        box = f[0].box
        # the 68 points lie on the face (nose tip inside the box)
        nx, ny = f[0].landmarks[30]
        assert box.x <= nx <= box.x2 and box.y <= ny <= box.y2
    out, _ = results[10]
    assert out.shape == moving_frames[10].shape and out.dtype == np.uint8
    assert not np.array_equal(out, moving_frames[10])  # drawn on
    stream.close()


def test_recognition_is_cached_per_track_and_refreshed(analyzer, gallery, moving_frames):
    """One embedding for a new track, then one every recognize_every_s (1.5 s), not one a frame."""
    counting = Counting(analyzer, "embed_many")  # the live path embeds a frame's due faces in one batch
    calls = counting.calls
    clock = FakeClock()
    stream = stream_for(counting, clock, gallery_provider=lambda: gallery, warmup=False)
    run_frames(stream, moving_frames, clock)  # 90 frames = 3 s: at 0, 1.5 s (and not yet at 3.0 s)
    assert len(calls) == 2
    stream.close()


def test_people_changes_are_seen_without_reembedding(analyzer, gallery, moving_frames):
    """The gallery provider is asked every frame: a person added (or renamed) on the People page
    names the face on the next frame."""
    from emotion.recognize.gallery import Gallery

    empty = Gallery([], gallery.metric, gallery.threshold)
    current = [empty]
    clock = FakeClock()
    stream = stream_for(analyzer, clock, gallery_provider=lambda: current[0])
    names = []
    for i, f in enumerate(moving_frames[:30]):
        if i == 10:
            current[0] = gallery
        if i == 20:
            current[0] = Gallery([(7, "Renamed", gallery.entries[0][2])], gallery.metric, gallery.threshold)
        _, faces = stream.process(f)
        clock.tick()
        names.append(faces[0].identity.name)
    assert names[:10] == ["unknown"] * 10
    assert names[10:20] == [NAME] * 10
    assert names[20:] == ["Renamed"] * 10
    stream.close()


def test_explicit_timestamps_drive_a_video_faster_than_real_time(analyzer, gallery, moving_frames):
    """A video's frames carry their own times: 90 frames 1/10 s apart are 9 s of video, so the stream
    writes one history row a second of *video* time (9 + the first), whatever the clock says."""
    rows = []
    frozen = FakeClock()  # never ticks: only the timestamps move
    stream = stream_for(analyzer, frozen, gallery_provider=lambda: gallery, history_sink=rows.extend,
                        warmup=False, source="video")
    start = 1_800_000_000.0
    for i, f in enumerate(moving_frames):
        stream.process(f, timestamp=start + i * 0.1)
    assert stream.stop(timeout=30)
    times = [r["time"].timestamp() for r in rows]
    assert len(rows) == 9, times
    assert times[0] == pytest.approx(start, abs=0.15)
    assert all(r["source"] == "video" for r in rows)
    assert max(times) - min(times) == pytest.approx(8.0, abs=0.25)
    stream.close()


def test_recognition_in_a_worker_process(analyzer, gallery, moving_frames):
    """recognition="process": the frame only cuts the chip; the name arrives a few frames later and
    the embedding is the same as the inline one."""
    import time

    clock = FakeClock()
    stream = stream_for(analyzer, clock, gallery_provider=lambda: gallery, recognition="process")
    assert stream.recognition == "process"
    frame = moving_frames[0]
    names = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        _, faces = stream.process(frame)
        clock.tick(0.01)  # stay under recognize_every_s: one embedding only
        names.append(faces[0].identity.name)
        if names[-1] == NAME:
            break
        time.sleep(0.02)
    assert names[-1] == NAME, names[-5:]
    inline = analyzer.embed(frame, faces[0].landmarks if faces[0].landmarks is not None
                            else analyzer.landmarks(frame, faces[0].box))
    assert np.linalg.norm(faces[0].embedding - inline) < 0.05
    stream.close()


def test_three_faces_three_tracks(analyzer, gallery):
    from emotion.bench.scenes import three_face_frames

    clock = FakeClock()
    stream = stream_for(analyzer, clock, gallery_provider=lambda: gallery)
    results = run_frames(stream, three_face_frames(30), clock)
    ids = [sorted(f.track_id for f in faces) for _, faces in results]
    assert all(len(i) == 3 for i in ids), ids
    assert all(i == ids[0] for i in ids)
    # after the first few frames (one embedding per frame, new tracks first) all three are named
    assert all(f.identity.name == NAME for _, faces in results[3:] for f in faces)
    stream.close()


def test_accurate_mode_detects_every_nth_frame_and_tracks_between(analyzer, moving_frames):
    counting = Counting(analyzer, "detect")
    calls = counting.calls
    clock = FakeClock()
    stream = stream_for(counting, clock, mode="accurate", accurate_every=3, warmup=False)
    results = run_frames(stream, moving_frames[:30], clock)
    assert len(calls) == 10
    faces = [faces for _, faces in results]
    assert all(len(f) == 1 for f in faces)
    assert len({f[0].track_id for f in faces}) == 1
    # in-between boxes follow the face (predicted from the velocity): within a few px of a detection
    assert abs(faces[-1][0].box.center()[0] - faces[-2][0].box.center()[0]) < 30
    stream.close()


def test_mode_and_landmarks_can_change_while_streaming(analyzer, moving_frames):
    clock = FakeClock()
    stream = stream_for(analyzer, clock, landmarks=False)
    _, faces = stream.process(moving_frames[0])
    assert faces[0].landmarks is None
    stream.landmarks = True
    stream.mode = "accurate"
    clock.tick()
    _, faces = stream.process(moving_frames[1])
    assert stream.mode == "accurate" and faces[0].landmarks.shape == (68, 2)
    nx, ny = faces[0].landmarks[30]  # the nose tip lies inside the face's box
    assert faces[0].box.x <= nx <= faces[0].box.x2 and faces[0].box.y <= ny <= faces[0].box.y2
    with pytest.raises(ValueError):
        stream.mode = "turbo"
    stream.close()


def test_emotion_scores_smoothed_and_mixed(analyzer, gallery, moving_frames):
    needs_emotion_model(analyzer)
    clock = FakeClock()
    stream = stream_for(analyzer, clock, gallery_provider=lambda: gallery)
    results = run_frames(stream, moving_frames[:60], clock)
    assert [len(faces) for _, faces in results] == [1] * 60
    sums = np.array([float(faces[0].scores.sum()) for _, faces in results])
    assert np.allclose(sums, 1.0, atol=1e-4)
    # smoothed: frame-to-frame changes stay a fraction of the per-frame model's (measured on these
    # frames: max 0.019 / mean 0.008 smoothed, max 0.060 / mean 0.032 with ema_alpha=1, i.e. unsmoothed)
    steps = np.abs(np.diff(np.stack([faces[0].scores for _, faces in results[5:]]), axis=0)).sum(axis=1)
    assert float(steps.max()) < 0.04 and float(steps.mean()) < 0.016, steps
    # the streaming path agrees with the photo path (Analyzer.analyze) on the same frame: the EMA
    # of a steady face converges to the per-frame scores
    photo = analyzer.analyze(moving_frames[59])[0].scores
    live = results[-1][1][0].scores
    assert float(np.abs(photo - live).sum()) < 0.2, (photo, live)
    # the smile: with the shipped model, her smoothed dominant emotion is "happy", as on the photo path
    assert EMOTIONS[int(np.argmax(photo))] == "happy"
    assert results[-1][1][0].dominant == "happy"
    mix = stream.mix(10)
    assert set(mix) == set(EMOTIONS) and abs(sum(mix.values()) - 1) < 1e-3
    per = stream.person_mix(10)
    assert list(per) == [NAME]
    snap = stream.snapshot()
    assert snap["frames"] == 60 and snap["faces"][0]["name"] == NAME
    lat = snap["latency_ms"]
    assert 0 < lat["p50"] <= lat["p95"] and lat["last"] > 0, lat
    stream.close()


def test_process_never_raises_and_reports_errors(analyzer):
    clock = FakeClock()
    stream = stream_for(analyzer, clock, warmup=False)
    gray = np.zeros((120, 160), np.uint8)  # not a BGR frame
    out, faces = stream.process(gray)
    assert faces == [] and out.shape[:2] == (120, 160)
    snap = stream.snapshot()
    assert snap["errors"] == 1 and snap["error"].startswith("ValueError: expected a BGR"), snap["error"]
    stream.close()


def test_snapshot_is_safe_while_processing(analyzer, moving_frames):
    clock = FakeClock()
    stream = stream_for(analyzer, clock)
    errors = []
    stop = threading.Event()

    def reader():
        try:
            while not stop.is_set():
                stream.snapshot()
                stream.last_frame()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    th = threading.Thread(target=reader)
    th.start()
    try:
        run_frames(stream, moving_frames[:20], clock)
    finally:
        stop.set()
        th.join()
    assert errors == []
    frame, faces, when = stream.last_frame()
    assert frame.shape == moving_frames[19].shape and len(faces) == 1
    assert when == pytest.approx(clock.t - 1.0 / FPS)  # the 20th frame's time (the clock ticked after it)
    stream.close()


# ------------------------------------------------------------------------------------------ history

def _user(store, name="live"):
    return store.create_user(name, "not-a-real-hash").id


def test_history_rows_at_one_per_track_per_second_all_written_after_stop(analyzer, gallery, moving_frames,
                                                                         store):
    from emotion.live import HistoryWriter, store_sink

    uid = _user(store)
    writer = HistoryWriter(store_sink(store, uid), interval=0.05)
    clock = FakeClock()
    # min_row_gap_s = row_interval_s: only the 1-per-second cadence (no extra rows on a change)
    stream = stream_for(analyzer, clock, gallery_provider=lambda: gallery, history_sink=writer,
                        min_row_gap_s=1.0)
    run_frames(stream, moving_frames, clock)  # 90 frames at 30 fps = 3 s of timestamps
    assert stream.stop() is True
    rows = store.history(uid)
    assert len(rows) == 3  # t = 0, 1, 2 s for the one track
    assert {r.name for r in rows} == {NAME}
    assert {r.source for r in rows} == {"camera"}
    assert len({r.track_id for r in rows}) == 1
    times = sorted(r.time for r in rows)
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:])]
    assert all(abs(g - 1.0) < 0.05 for g in gaps), gaps
    assert writer.stats()["written"] == 3 and writer.pending == 0


def test_name_change_writes_a_row_at_once(analyzer, gallery, moving_frames):
    """A row is also written when a track's name (or dominant emotion) changes, not before
    min_row_gap_s."""
    from emotion.recognize.gallery import Gallery

    got = []
    current = [Gallery([], gallery.metric, gallery.threshold)]
    clock = FakeClock()
    stream = stream_for(analyzer, clock, gallery_provider=lambda: current[0], history_sink=got.extend,
                        min_row_gap_s=0.25)
    for i, f in enumerate(moving_frames[:30]):  # 1 s
        if i == 15:  # 0.5 s in, the person is enrolled
            current[0] = gallery
        stream.process(f)
        clock.tick()
    stream.stop()
    assert [r["name"] for r in got] == ["unknown", NAME]
    assert all(len(r["row_key"]) == 36 for r in got)


class Flaky:
    """A sink in front of a real Store that raises StoreUnavailable for its first `fail` calls and,
    with `lose_ack`, once more *after* writing (the commit went through but the reply was lost)."""

    def __init__(self, store, uid, fail=3, lose_ack=True):
        from emotion.live import store_sink

        self.sink = store_sink(store, uid)
        self.fail = fail
        self.lose_ack = lose_ack
        self.calls = 0

    def __call__(self, rows):
        from emotion.store import StoreUnavailable

        self.calls += 1
        if self.fail > 0:
            self.fail -= 1
            raise StoreUnavailable()
        self.sink(rows)
        if self.lose_ack:
            self.lose_ack = False
            raise StoreUnavailable()


def _rows(n, start=0):
    from datetime import datetime, timedelta, timezone

    from emotion.records import FaceRecord, Identity
    from emotion.live import make_row

    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    out = []
    for i in range(start, start + n):
        scores = np.full(7, 1 / 7, np.float32)
        face = FaceRecord(Box(i, 0, 10, 10), 0.9, identity=Identity(NAME), scores=scores, track_id=1)
        out.append(make_row(face, t0 + timedelta(seconds=i)))
    return out


def test_writer_retries_after_outage_none_lost_none_duplicated(store):
    from emotion.live import HistoryWriter

    uid = _user(store)
    sink = Flaky(store, uid, fail=3, lose_ack=True)
    writer = HistoryWriter(sink, interval=0.02, backoff=0.01, max_backoff=0.05, batch_size=40)
    rows = _rows(100)
    for i in range(0, 100, 10):
        writer.put(rows[i:i + 10])
    assert writer.stop(timeout=20) is True
    stats = writer.stats()
    assert stats["pending"] == 0 and stats["dropped"] == 0
    assert stats["failed"] == 4  # three outages and one lost acknowledgement
    stored = store.history(uid)
    assert store.history_count(uid) == 100
    assert len(stored) == 100
    assert sink.calls > 4


def test_writer_keeps_rows_while_down_and_stop_reports_pending():
    from emotion.store import StoreUnavailable
    from emotion.live import HistoryWriter

    def down(rows):
        raise StoreUnavailable()

    writer = HistoryWriter(down, interval=0.01, backoff=0.01, max_backoff=0.02)
    writer.put(_rows(5))
    assert writer.stop(timeout=0.3) is False  # still down: nothing lost, still pending
    assert writer.pending == 5 and writer.stats()["last_error"]
    got = []
    writer.sink = got.extend  # the database is back
    assert writer.stop(timeout=5) is True
    assert len(got) == 5 and writer.pending == 0


def test_writer_buffer_is_bounded():
    from emotion.live import HistoryWriter

    writer = HistoryWriter(lambda rows: None, max_buffer=10, start=False)
    writer.put(_rows(15))
    assert writer.pending == 10 and writer.dropped == 5
    writer.stop(timeout=1)
    assert writer.written == 10


def test_writer_drops_a_batch_the_store_rejects():
    """A non-retriable error (a bad row) does not block the rows behind it forever."""
    from emotion.live import HistoryWriter

    got = []

    def picky(rows):
        if any(r.get("bad") for r in rows):
            raise ValueError("bad row")
        got.extend(rows)

    writer = HistoryWriter(picky, batch_size=1, start=False)
    rows = _rows(3)
    rows[1]["bad"] = True
    writer.put(rows)
    assert writer.stop(timeout=2) is True
    assert len(got) == 2 and writer.dropped == 1 and writer.failed == 1
