"""Bad video input: each kind gets its typed error code (the CLI: a one-line message, exit 2, no
traceback); a damaged tail keeps what was decoded; the big ones work within bounded memory (see
test_video.py for 4K/8K). Clips are made here with PyAV; no models are needed except where the
CLI runs end to end."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from emotion.video import synth
from emotion.video.decode import Decoder, probe
from emotion.video.errors import VideoError

FPS = 30.0


def code_of(path, **kw) -> str:
    with pytest.raises(VideoError) as info:
        probe(path, **kw)
    return info.value.code


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A 2 s plain MP4 (its index at the end, as most cameras write it)."""
    d = tmp_path_factory.mktemp("bad")
    return synth.write_clip(d / "good.mp4", synth.moving_face_frames(60), FPS)


def test_text_and_an_image_renamed_to_mp4_are_not_videos(tmp_path, astronaut_bgr):
    import cv2

    txt = tmp_path / "notes.mp4"
    txt.write_text("hello, this is not a video\n" * 50)
    assert code_of(txt) == "not_a_video"
    png = tmp_path / "photo.mp4"
    png.write_bytes(cv2.imencode(".png", np.asarray(astronaut_bgr))[1].tobytes())
    assert code_of(png) == "not_a_video"
    empty = tmp_path / "empty.mov"
    empty.write_bytes(b"")
    assert code_of(empty) == "not_a_video"
    assert code_of(tmp_path / "missing.mp4") == "unreadable"


def test_a_truncated_mp4_without_its_index_is_damaged(good, tmp_path):
    data = good.read_bytes()
    assert data.find(b"moov") > data.find(b"mdat")  # the index is at the end
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    assert code_of(cut) == "damaged"


def test_a_truncated_faststart_mp4_keeps_the_frames_before_the_cut(tmp_path):
    import av

    src = synth.write_clip(tmp_path / "src.mkv", synth.moving_face_frames(90), FPS)
    fast = tmp_path / "fast.mp4"
    with av.open(str(src)) as i, av.open(str(fast), "w", options={"movflags": "+faststart"}) as o:
        s = o.add_stream_from_template(i.streams.video[0])
        for p in i.demux(i.streams.video[0]):
            if p.dts is not None:
                p.stream = s
                o.mux(p)
    data = fast.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")
    cut = tmp_path / "fast-cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.5)])
    info = probe(cut)  # the index is complete: it opens
    assert info.frames == 90
    with Decoder(cut) as dec:
        n = sum(1 for _ in dec.samples())
        assert dec.truncated
    assert 20 <= n < 90


def test_audio_only_has_no_video_stream(tmp_path):
    for name in ("voice.m4a", "voice.mp4", "voice.mkv"):
        path = synth.write_audio_only(tmp_path / name, 1.0)
        assert code_of(path) == "no_video_stream", name


@pytest.mark.parametrize("name,codec", [("zero.mkv", "libx264"), ("zero.webm", "libvpx-vp9")])
def test_a_video_header_without_frames(tmp_path, name, codec):
    """A recording stopped before its first frame: the header of a video stream, then nothing."""
    import av

    path = tmp_path / name
    with av.open(str(path), "w") as o:
        s = o.add_stream(codec, rate=30)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        o.start_encoding()
    assert path.stat().st_size > 0
    assert code_of(path) == "zero_frames"


def test_an_mp4_without_frames_has_no_video_stream(tmp_path):
    """FFmpeg's MP4 reader drops a track without samples: to it (and so to us) there is no video."""
    import av

    path = tmp_path / "zero.mp4"
    with av.open(str(path), "w") as o:
        s = o.add_stream("libx264", rate=30)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        o.start_encoding()
    assert code_of(path) == "no_video_stream"


def test_too_long_and_too_large(good):
    assert code_of(good, max_duration_s=1.0) == "too_long"
    assert code_of(good, max_bytes=1000) == "too_large"
    assert probe(good, max_duration_s=600).duration_s == pytest.approx(2.0, abs=0.05)


@pytest.mark.parametrize("name,codec,fmt", [
    ("clip.mov", "libx264", "mov"), ("clip.mkv", "libx264", "matroska"), ("clip.webm", "libvpx-vp9", "webm"),
    ("clip.avi", "mpeg4", "avi"),
    # a wrong extension: the content decides
    ("really-an-mp4.avi", "libx264", "mp4"), ("really-a-webm.mp4", "libvpx-vp9", "webm"),
])
def test_every_accepted_container_decodes_whatever_its_extension(tmp_path, name, codec, fmt):
    path = synth.write_clip(tmp_path / name, synth.moving_face_frames(10), FPS, codec=codec, container_format=fmt)
    info = probe(path)
    assert (info.width, info.height) == (640, 480)
    with Decoder(path) as dec:
        assert [s.index for s in dec.samples()] == list(range(10))


def test_a_video_with_audio_is_a_video(tmp_path):
    path = synth.write_clip(tmp_path / "talk.mp4", synth.moving_face_frames(30), FPS, audio_s=1.0)
    info = probe(path)
    assert info.has_audio and info.frames == 30


def test_bad_rate_and_mode_are_typed():
    from emotion.video.analyse import analyse_video
    from emotion.video.decode import check_rate

    with pytest.raises(VideoError) as e:
        check_rate("fast")
    assert e.value.code == "bad_option"
    with pytest.raises(VideoError) as e:
        analyse_video("x.mp4", None, mode="slow")
    assert e.value.code == "bad_option"


def test_every_code_has_an_english_message():
    from emotion.video.errors import CODES

    params = dict(name="a.mp4", duration_s=700.0, limit_s=600.0, size_mb=600.0, limit_mb=500.0, reason="denied",
                  option="rate", allowed="1, 2", value="x")
    for code in CODES:
        msg = VideoError(code, **params).message
        assert "a.mp4" in msg or "rate" in msg, code
        assert not msg.startswith(code), code


def test_the_cli_says_what_is_wrong_without_a_traceback(tmp_path):
    audio = synth.write_audio_only(tmp_path / "voice.m4a", 1.0)
    txt = tmp_path / "notes.webm"
    txt.write_text("not a video")
    for path, words in ((audio, "no video stream"), (txt, "not a video file")):
        proc = subprocess.run([sys.executable, "-m", "emotion", "video", str(path)], capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert words in proc.stderr and "Traceback" not in proc.stderr


def test_every_code_has_a_message_in_english_and_chinese():
    import string

    from emotion.video.errors import CODES
    from ui.i18n_video import EN, ZH

    assert EN.keys() == ZH.keys()
    for code in CODES:
        assert "verr_" + code in EN, code
    fields = lambda s: {f for _, f, _, _ in string.Formatter().parse(s) if f}  # noqa: E731
    for key in EN:
        assert fields(EN[key]) == fields(ZH[key]), key
