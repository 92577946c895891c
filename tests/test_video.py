"""The video engine (emotion.video) on clips made here with PyAV from real faces (never committed).

Faces: NASA's astronaut (scikit-image) and two photos of Tony Blair / one of Colin Powell from
``../shared/data/photos/wild_dev`` (tests that need them skip outside CI and FAIL under CI=true).
The models are the real ones (`emotion.registry`); nothing is mocked.
"""
from __future__ import annotations

import csv
import io
import os
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from emotion.records import EMOTIONS
from emotion.video import synth
from emotion.video.analyse import VideoRow, analyse_video
from emotion.video.decode import Decoder, probe

FPS = 30.0
BLAIR_ENROL, BLAIR_CLIP, POWELL = "Tony_Blair_0024.jpg", "Tony_Blair_0079.jpg", "Colin_Powell_0126.jpg"


def need_photos(*names: str) -> None:
    missing = [n for n in names if not synth.photo_path(n).is_file()]
    if missing:
        msg = f"photos not found under {synth.photos_dir()}: {missing} (set EMOTION_PHOTOS_DIR)"
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(f"{msg}; CI=true: they must be present")
        pytest.skip(msg)


@pytest.fixture(scope="module")
def analyzer():
    from emotion.pipeline import get_analyzer

    an = get_analyzer()
    if an.classifier is None:
        pytest.fail(f"no emotion classifier: {an.classifier_error}")
    return an


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="module")
def moving_clip(clips):
    """3 s, 30 fps: the astronaut crossing the frame (about 150 px a second) and back."""
    return synth.write_clip(clips / "moving.mp4", synth.moving_face_frames(int(3 * FPS), period=90), FPS)


@pytest.fixture(scope="module")
def two_people_clip(clips):
    """3 s, 30 fps: Tony Blair (a photo not used for enrolment) and the astronaut side by side."""
    need_photos(BLAIR_CLIP)
    heads = [synth.photo_head(BLAIR_CLIP, 190), synth.astronaut_head()]
    return synth.write_clip(clips / "two.mp4", synth.people_frames(int(3 * FPS), heads), FPS)


def blair_gallery(analyzer, name: str = "Tony Blair"):
    """A gallery enrolling Tony Blair from another photo (pasted on the clips' background)."""
    from emotion.recognize.gallery import Gallery

    need_photos(BLAIR_ENROL)
    frame = next(synth.people_frames(1, [synth.photo_head(BLAIR_ENROL, 170)]))
    faces = analyzer.embed_faces(frame)
    assert len(faces) == 1
    rec = analyzer.recognizer
    return Gallery([(7, name, faces[0].embedding)], rec.metric, rec.threshold)


# ------------------------------------------------------------------------------------------ engine

def test_a_face_moving_across_the_frame_keeps_one_track(analyzer, moving_clip):
    r = analyse_video(moving_clip, analyzer, rate=None, thumbnails=0)
    assert r.samples == 90 and r.frames_decoded == 90
    assert [len([x for x in r.rows if x.frame == i]) for i in range(90)] == [1] * 90
    assert {x.track for x in r.rows} == {1}
    xs = [x.box[0] for x in r.rows]
    assert max(xs) - min(xs) > 300  # it really crossed the frame
    assert not r.cancelled and not r.truncated and r.errors == 0


def test_two_people_give_two_timelines_and_the_enrolled_one_is_named(analyzer, two_people_clip):
    from emotion.video.summary import person_summary, timelines

    r = analyse_video(two_people_clip, analyzer, rate=10, gallery=blair_gallery(analyzer), thumbnails=0)
    names = r.person_names()
    assert len(names) == 2
    assert sorted(names.values())[0] == "Tony Blair"
    unknown = [n for n in names.values() if n != "Tony Blair"][0]
    assert unknown.startswith("unknown #")
    lines = timelines(r.rows, names)
    assert sorted(lines) == sorted(names.values())
    for person, d in lines.items():
        assert len(d["time"]) == 30, person  # 10 samples a second for 3 s
        assert d["time"] == sorted(d["time"])
        assert all(len(d[e]) == 30 for e in EMOTIONS)
    summary = {p["person"]: p for p in person_summary(r.rows, names, r.rate)}
    assert summary["Tony Blair"]["samples"] == 30 and summary[unknown]["samples"] == 30
    # the astronaut smiles all through (the emotion model agrees on every photo test of hers)
    assert summary[unknown]["dominant"] == "happy"


def test_the_csv_has_one_row_per_sample_and_face_at_the_expected_times(analyzer, two_people_clip):
    from emotion.video.export import CSV_COLUMNS, csv_bytes

    # enrolled under a name that would be a formula in a spreadsheet
    r = analyse_video(two_people_clip, analyzer, rate=5, gallery=blair_gallery(analyzer, "=HYPERLINK(\"x\")"),
                      thumbnails=0)
    rows = list(csv.reader(io.StringIO(csv_bytes(r).decode("utf-8"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    body = rows[1:]
    assert len(body) == 15 * 2  # 5 samples a second for 3 s, two faces each
    times = sorted({float(x[0]) for x in body})
    assert times == pytest.approx([i / 5 for i in range(15)], abs=1e-3)
    people = sorted({x[3] for x in body})
    assert people[0] == "'=HYPERLINK(\"x\")" and people[1].startswith("unknown #")
    for x in body:
        scores = [float(v) for v in x[8:15]]
        assert sum(scores) == pytest.approx(1.0, abs=2e-3)
        assert x[15] == EMOTIONS[int(np.argmax(scores))]
        assert int(x[6]) > 40 and int(x[7]) > 40  # a face-sized box


def test_rotation_metadata_is_honoured(analyzer, clips):
    """A phone-style clip: the pixels are stored turned a quarter clockwise and the display matrix
    says to turn them back. Decoded frames must be upright (640x480) and the face found."""
    frames = (cv2.rotate(f, cv2.ROTATE_90_CLOCKWISE) for f in synth.moving_face_frames(20))
    path = synth.write_clip(clips / "rotated.mp4", frames, FPS, rotation=90)
    info = probe(path)
    assert (info.width, info.height, info.rotation) == (640, 480, 270)
    with Decoder(path) as dec:
        first = next(iter(dec.samples()))
    assert first.bgr.shape == (480, 640, 3)
    upright = next(synth.moving_face_frames(20))
    assert np.abs(first.bgr.astype(int) - upright.astype(int)).mean() < 6  # same picture (codec noise)
    r = analyse_video(path, analyzer, rate=None, thumbnails=0)
    assert [len([x for x in r.rows if x.frame == i]) for i in range(20)] == [1] * 20


def test_a_variable_frame_rate_is_sampled_by_time(clips):
    # frames 1/30 s apart for 1 s, then 1/10 s apart for 2 s: 30 + 20 frames
    times = [i / 30 for i in range(30)] + [1.0 + i / 10 for i in range(20)]
    path = synth.write_clip(clips / "vfr.mkv", synth.moving_face_frames(len(times)), FPS, times=times)
    with Decoder(path, rate=2) as dec:
        got = [s.time_s for s in dec.samples()]
    assert got == pytest.approx([0.0, 0.5, 1.0, 1.5, 2.0, 2.5], abs=0.02)
    with Decoder(path) as dec:
        every = [s.time_s for s in dec.samples()]
    assert every == pytest.approx(times, abs=0.002)


@pytest.mark.parametrize("size", [(3840, 2160), (7680, 4320)])
def test_4k_and_8k_are_decoded_scaled_down(clips, size):
    w, h = size
    bg = synth.background(w, h)
    path = synth.write_clip(clips / f"big{w}.mp4", (bg for _ in range(3)), FPS)
    info = probe(path)
    assert (info.width, info.height) == (w, h)
    with Decoder(path) as dec:
        shapes = [s.bgr.shape for s in dec.samples()]
    assert shapes == [(720, 1280, 3)] * 3


def test_annotated_copy_is_browser_playable_h264(analyzer, moving_clip, tmp_path):
    import av

    out = tmp_path / "annotated.mp4"
    r = analyse_video(moving_clip, analyzer, rate=5, out_path=out, thumbnails=0)
    assert r.annotated_path == str(out)
    data = out.read_bytes()
    assert 0 < data.find(b"moov") < data.find(b"mdat")  # +faststart: the index comes first
    with av.open(str(out)) as c:
        s = c.streams.video[0]
        assert s.codec_context.name == "h264" and s.codec_context.pix_fmt == "yuv420p"
        frames = [f.time for f in c.decode(s)]
    assert len(frames) == 15
    assert frames == pytest.approx([i / 5 for i in range(15)], abs=0.002)


def test_thumbnails_stay_bounded_and_span_the_video():
    from emotion.video.thumbs import Thumbnails

    th = Thumbnails(max_items=16, stride_s=0.1)
    img = np.zeros((480, 640, 3), np.uint8)
    for i in range(3000):  # 100 s at 30 fps
        if th.due(i / 30):
            th.offer(i / 30, img)
    assert 8 <= len(th) <= 16
    assert th.times[0] == 0.0 and th.times[-1] > 85.0
    t, jpeg = th.nearest(50.0)
    assert abs(t - 50.0) <= (th.times[1] - th.times[0]) and jpeg[:2] == b"\xff\xd8"


# ------------------------------------------------------------------------------------------ summary

def _rows(person_track: int, labels: list[str], step: float = 0.5, start: float = 0.0) -> list[VideoRow]:
    out = []
    for i, lab in enumerate(labels):
        s = np.full(7, 0.05, np.float32)
        s[EMOTIONS.index(lab)] = 0.7
        out.append(VideoRow(start + i * step, i, person_track, "unknown", None, (0, 0, 50, 50),
                            tuple(float(v) for v in s), lab))
    return out


def test_segments_follow_the_dominant_emotion_and_absorb_a_flicker():
    from emotion.video.summary import segments

    labels = ["happy"] * 6 + ["sad"] + ["happy"] * 4 + ["sad"] * 6  # 0.5 s steps
    rows = _rows(1, labels) + _rows(2, ["neutral"] * 4)
    names = {1: "Ann", 2: "unknown #2"}
    segs = segments(rows, names, rate=2)
    got = [(s.person, s.start_s, s.end_s, s.dominant, s.samples) for s in segs]
    assert got == [("Ann", 0.0, 5.5, "happy", 11), ("Ann", 5.5, 8.5, "sad", 6),
                   ("unknown #2", 0.0, 2.0, "neutral", 4)]
    assert segs[0].mean["happy"] == pytest.approx((10 * 0.7 + 0.05) / 11, abs=1e-4)


def test_csv_cells_are_escaped_against_formula_injection():
    from emotion.video.export import escape_cell

    assert [escape_cell(v) for v in ("=1+1", "+x", "-x", "@x", "\tx", "\rx", "Ann", "", 3, -2.5)] == \
        ["'=1+1", "'+x", "'-x", "'@x", "'\tx", "'\rx", "Ann", "", 3, -2.5]


# ------------------------------------------------------------------------------------------ jobs

def _fds_on(path: Path) -> int:
    n = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == str(path):
                n += 1
        except OSError:
            pass
    return n


def _poll(cond, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture(scope="module")
def long_clip(clips):
    """20 s at 30 fps (600 frames): long enough to cancel half-way on any machine."""
    return synth.write_clip(clips / "long.mp4", synth.moving_face_frames(600), FPS)


def test_a_job_runs_once_per_key_and_cancel_keeps_what_was_analysed(analyzer, long_clip):
    from emotion.video.jobs import VideoJobs

    jobs = VideoJobs(lambda: analyzer)
    try:
        a = jobs.submit(("user 1", "digest"), long_clip, {"rate": None})
        assert jobs.submit(("user 1", "digest"), long_clip, {"rate": None}) == a  # a rerun / a 2nd tab
        assert _poll(lambda: (jobs.progress(a) or {}).get("samples", 0) >= 10)
        assert _fds_on(long_clip) >= 1  # the decoder is reading it
        assert jobs.cancel(a)
        assert jobs.wait(a, timeout=30)
        view = jobs.progress(a)
        assert view["state"] == "cancelled"
        result = jobs.result(a)
        assert 10 <= result.samples < 600 and result.cancelled
        assert len(result.rows) == result.samples  # one face on every analysed frame, kept
        assert _fds_on(long_clip) == 0  # the decoder is closed
        # the same key with other parameters is a new job
        b = jobs.submit(("user 1", "digest"), long_clip, {"rate": 1.0, "annotate": False})
        assert b != a and jobs.wait(b, timeout=120)
        assert jobs.progress(b)["state"] == "done" and jobs.result(b).samples == 20
    finally:
        jobs.shutdown()


def test_an_abandoned_job_is_cancelled(analyzer, long_clip):
    from emotion.video.jobs import VideoJobs

    jobs = VideoJobs(lambda: analyzer, abandon_after_s=0.5)
    try:
        a = jobs.submit(("user 2", "d"), long_clip, {"rate": None, "annotate": False})
        job = jobs.job(a)
        assert _poll(lambda: job.final, timeout=60)  # nobody polls: the watchdog cancels it
        assert job.state == "cancelled" and job.result.samples < 600
        assert _fds_on(long_clip) == 0
    finally:
        jobs.shutdown()


def test_bad_input_in_a_job_is_a_typed_failure(tmp_path):
    from emotion.video.jobs import VideoJobs

    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video")
    jobs = VideoJobs(lambda: None)
    try:
        a = jobs.submit(("u", "x"), bad, {})
        assert jobs.wait(a, timeout=30)
        view = jobs.progress(a)
        assert (view["state"], view["error_code"], view["failure"]) == ("failed", "not_a_video", None)
    finally:
        jobs.shutdown()


def test_history_rows_one_per_person_and_second_with_stable_keys():
    from datetime import datetime, timezone

    from emotion.video.analyse import VideoResult
    from emotion.video.decode import VideoInfo
    from emotion.video.history import history_rows

    info = VideoInfo("a.mp4", 1, "mp4", "h264", 640, 480, 0, 30.0, 3.0, 90, False)
    rows = _rows(1, ["happy"] * 6, step=0.5) + _rows(2, ["sad"] * 4, step=0.5, start=1.0)
    rows[3] = VideoRow(1.5, 3, 1, "Ann", 4, (0, 0, 50, 50), rows[3].scores, "happy")  # recognised once
    result = VideoResult(info=info, rate=2.0, mode="fast", rows=rows)
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    h = history_rows(result, user_id=3, digest="abc", started_at=t0)
    got = [(r["track_id"], r["offset_s"], r["name"], r["person_id"], r["dominant"]) for r in h]
    assert got == [(1, 0.0, "Ann", 4, "happy"), (1, 1.0, "Ann", 4, "happy"), (2, 1.0, "unknown", None, "sad"),
                   (1, 2.0, "Ann", 4, "happy"), (2, 2.0, "unknown", None, "sad")]
    assert [r["time"] for r in h][:2] == [t0, datetime(2026, 1, 1, 0, 0, 1, tzinfo=timezone.utc)]
    assert {r["source"] for r in h} == {"video"}
    again = history_rows(result, user_id=3, digest="abc")
    assert [r["row_key"] for r in again] == [r["row_key"] for r in h]
    assert len({r["row_key"] for r in h}) == 5
    other = history_rows(result, user_id=3, digest="abd", started_at=t0)
    assert not {r["row_key"] for r in other} & {r["row_key"] for r in h}


def test_a_video_is_saved_to_the_history_once_with_its_offsets(store, analyzer, moving_clip):
    from emotion.video.history import history_rows

    uid = store.create_user("viewer", "not-a-real-hash").id
    r = analyse_video(moving_clip, analyzer, rate=5, thumbnails=0)
    digest = "ab" * 32
    rows = history_rows(r, user_id=uid, digest=digest)
    assert len(rows) == 3  # one person, 3 s of video, one row a second
    assert store.add_history(uid, rows, source="video") == 3
    # a rerun, a second tab, the same file uploaded again later: nothing new
    assert store.add_history(uid, history_rows(r, user_id=uid, digest=digest), source="video") == 0
    df = store.history_frame(uid, sources=["video"])
    assert list(df["offset_s"]) == [0.0, 1.0, 2.0]
    assert set(df["media_digest"]) == {digest} and set(df["source"]) == {"video"}
    assert df["session_id"].isna().all()
    assert store.history_count(uid, sources=["camera"]) == 0
