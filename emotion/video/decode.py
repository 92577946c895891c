"""Streaming video decoding with PyAV: open and check a file, then yield the frames to analyse.

`probe(path)` opens the container, checks it is a video (typed `VideoError` otherwise) and returns a
`VideoInfo`. `iter_samples(path, rate=...)` decodes packet by packet and yields `Sample`s (time in
seconds from the first frame, BGR uint8): every frame (``rate=None``) or at most `rate` frames a
second of video, chosen by presentation time, so a variable frame rate is sampled evenly. Only the
frames it yields are converted to arrays; the decoder holds a few frames, never the video.

* Size: frames larger than `max_side` px are scaled down by libswscale as they are converted, so a
  4K or 8K video costs one small array per sample (the decoder's own buffers aside).
* Rotation: the display matrix (phone videos) is honoured: frames come out upright.
* Damage: a packet that cannot be decoded is skipped; a file cut short ends where its data ends, and
  `Decoder.truncated` says so (what was decoded up to there is kept).
The container is closed when the iteration ends, is cancelled or fails (`Decoder` is a context
manager; `iter_samples` closes it in a ``finally``).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from emotion.video.errors import VideoError

#: analysis rates (frames a second of video); None = every frame
RATES: tuple[float | None, ...] = (None, 1.0, 2.0, 5.0, 10.0)
#: frames wider or taller than this are scaled down while decoding (analysis runs at <= 1280 px)
DEFAULT_MAX_SIDE = 1280
#: the longest video accepted by default (seconds); the page and the CLI may pass their own
DEFAULT_MAX_DURATION_S = 2 * 3600.0
#: container formats (FFmpeg demuxer names) accepted as video; images (image2, *_pipe), text (tty)
#: and the like open in FFmpeg too but are not videos
VIDEO_FORMATS = frozenset({
    "mov", "mp4", "m4a", "3gp", "3g2", "mj2", "matroska", "webm", "avi", "mpeg", "mpegts", "flv", "asf",
    "ogg", "h264", "hevc", "m4v", "mpegvideo", "ivf", "nut", "dv", "rm",
})
#: the first bytes of containers that are certainly meant to be videos (a failure to open one of
#: those means a damaged file rather than "not a video")
_MAGIC = ((4, b"ftyp"), (0, b"\x1a\x45\xdf\xa3"), (8, b"AVI "), (0, b"\x00\x00\x01\xba"), (0, b"FLV"),
          (4, b"moov"), (4, b"mdat"), (4, b"free"), (4, b"wide"))
#: packets in a row that fail to decode before the file is treated as ending there
_MAX_BAD_PACKETS = 100


@dataclass(frozen=True)
class VideoInfo:
    name: str
    size_bytes: int
    format: str
    codec: str
    width: int  #: as displayed (after rotation), before any downscaling
    height: int
    rotation: int  #: clockwise degrees applied to each frame to show it upright (0, 90, 180, 270)
    fps: float | None  #: average frame rate, None when the container does not say
    duration_s: float | None
    frames: int | None  #: frame count from the container, or estimated from duration x fps
    has_audio: bool

    def expected_samples(self, rate: float | None) -> int | None:
        """How many samples `iter_samples(rate=rate)` should yield (an estimate; None if unknown)."""
        if rate is None:
            return self.frames
        if self.duration_s is None:
            return None
        n = int(math.floor(self.duration_s * rate + 1e-6)) + 1
        return min(n, self.frames) if self.frames else n


@dataclass
class Sample:
    index: int  #: the frame's index in the decoded stream (0-based)
    time_s: float  #: seconds since the first frame
    bgr: np.ndarray


def _looks_like_video(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError:
        return False
    return any(head[off:off + len(sig)] == sig for off, sig in _MAGIC)


def check_rate(rate: float | None) -> float | None:
    if rate in (None, 0):
        return None
    try:
        r = float(rate)
    except (TypeError, ValueError):
        raise VideoError("bad_option", option="rate", allowed="every frame, 1, 2, 5, 10", value=rate) from None
    if not (0.05 <= r <= 120) or not math.isfinite(r):
        raise VideoError("bad_option", option="rate", allowed="every frame, 1, 2, 5, 10", value=rate)
    return r


def _open(path: Path):
    import av

    try:
        size = path.stat().st_size
    except OSError as err:
        raise VideoError("unreadable", name=path.name, reason=err.strerror or str(err)) from None
    if size == 0:
        raise VideoError("not_a_video", name=path.name)
    try:
        return av.open(str(path), mode="r", timeout=10.0)
    except (av.FFmpegError, UnicodeDecodeError, ValueError, OSError) as err:
        if isinstance(err, (PermissionError, FileNotFoundError)):
            raise VideoError("unreadable", name=path.name, reason=str(err)) from None
        if isinstance(err, EOFError) and _looks_like_video(path):
            # a container header and nothing after it: a recording stopped before its first frame
            raise VideoError("zero_frames", name=path.name) from None
        raise VideoError("damaged" if _looks_like_video(path) else "not_a_video", name=path.name) from None


def _video_stream(container, name: str):
    import av

    streams = [s for s in container.streams.video
               if not (int(s.disposition) & int(av.stream.Disposition.attached_pic))]
    if not streams:
        raise VideoError("no_video_stream", name=name)
    fmt = set((container.format.name or "").split(","))
    if not fmt & VIDEO_FORMATS:
        raise VideoError("not_a_video", name=name)
    return streams[0]


def _rotation_of(stream, frame=None) -> int:
    """Clockwise degrees (0/90/180/270) that make the frames upright, from the display matrix."""
    ccw = 0.0
    if frame is not None:
        try:
            ccw = float(frame.rotation or 0)
        except (AttributeError, TypeError, ValueError):
            ccw = 0.0
    if not ccw:
        try:
            ccw = float(stream.metadata.get("rotate", 0)) * -1.0  # the old tag is clockwise
        except (TypeError, ValueError):
            ccw = 0.0
    return int(round((-ccw) / 90.0)) % 4 * 90


def probe(path: str | os.PathLike, *, max_duration_s: float | None = DEFAULT_MAX_DURATION_S,
          max_bytes: int | None = None) -> VideoInfo:
    """Open `path`, check it is a video within the limits and describe it (decodes one frame, for
    the rotation and to prove the stream holds a frame). Raises `VideoError`."""
    p = Path(path)
    if max_bytes is not None:
        try:
            size = p.stat().st_size
        except OSError as err:
            raise VideoError("unreadable", name=p.name, reason=err.strerror or str(err)) from None
        if size > max_bytes:
            raise VideoError("too_large", name=p.name, size_mb=size / 2**20, limit_mb=max_bytes / 2**20)
    container = _open(p)
    try:
        stream = _video_stream(container, p.name)
        cc = stream.codec_context
        fps = float(stream.average_rate) if stream.average_rate else (
            float(stream.guessed_rate) if stream.guessed_rate else None)
        duration = None
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / 1_000_000.0
        if duration is not None and (not math.isfinite(duration) or duration < 0):
            duration = None
        if max_duration_s is not None and duration is not None and duration > max_duration_s:
            raise VideoError("too_long", name=p.name, duration_s=duration, limit_s=max_duration_s)
        first = _first_frame(container, stream)
        if first is None:
            raise VideoError("zero_frames", name=p.name)
        rot = _rotation_of(stream, first)
        w, h = int(first.width or cc.width), int(first.height or cc.height)
        if rot in (90, 270):
            w, h = h, w
        frames = int(stream.frames) if stream.frames else None
        if not frames and duration and fps:
            frames = max(1, int(round(duration * fps)))
        return VideoInfo(name=p.name, size_bytes=p.stat().st_size, format=container.format.name,
                         codec=cc.name, width=w, height=h, rotation=rot, fps=fps, duration_s=duration,
                         frames=frames, has_audio=bool(container.streams.audio))
    finally:
        container.close()


def _first_frame(container, stream):
    import av

    bad = 0
    try:
        for packet in container.demux(stream):
            try:
                for frame in packet.decode():
                    return frame
            except av.FFmpegError:
                bad += 1
                if bad > _MAX_BAD_PACKETS:
                    return None
    except av.FFmpegError:
        return None
    return None


def scaled_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    """(w, h) scaled down so that the longer side is at most `max_side` (even numbers, >= 2)."""
    s = 1.0
    if max_side and max(width, height) > max_side:
        s = max_side / float(max(width, height))
    w, h = max(2, int(round(width * s))), max(2, int(round(height * s)))
    return w - (w % 2), h - (h % 2)


class Decoder:
    """Decodes one file; iterate `samples()`. ``with Decoder(path) as d: for s in d.samples(): ...``

    After the iteration: `frames_decoded`, `bad_packets`, `truncated` (the data ended early or
    broken packets were skipped), `last_time_s`."""

    def __init__(self, path: str | os.PathLike, *, rate: float | None = None,
                 max_side: int | None = DEFAULT_MAX_SIDE, threads: int = 2) -> None:
        self.path = Path(path)
        self.rate = check_rate(rate)
        self.max_side = max_side
        self.threads = max(1, int(threads))
        self.frames_decoded = 0
        self.bad_packets = 0
        self.truncated = False
        self.last_time_s: float | None = None
        self._container = None

    def __enter__(self) -> "Decoder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        c, self._container = self._container, None
        if c is not None:
            try:
                c.close()
            except Exception:  # noqa: BLE001 - closing must not hide the real error
                pass

    @property
    def is_open(self) -> bool:
        return self._container is not None

    def samples(self) -> Iterator[Sample]:
        import av

        self._container = container = _open(self.path)
        try:
            stream = _video_stream(container, self.path.name)
            stream.thread_type = "AUTO"
            stream.codec_context.thread_count = self.threads
            tb = float(stream.time_base) if stream.time_base else None
            fps = float(stream.average_rate) if stream.average_rate else 30.0
            start: float | None = None
            next_t = 0.0
            rot: int | None = None
            size: tuple[int, int] | None = None
            index = -1
            last_t = -1.0
            demux = container.demux(stream)
            while True:
                try:
                    packet = next(demux)
                except StopIteration:
                    break
                except av.FFmpegError:  # the data ends in the middle of a packet / box
                    self.truncated = True
                    break
                try:
                    frames = packet.decode()
                except av.FFmpegError:
                    self.bad_packets += 1
                    self.truncated = True
                    if self.bad_packets > _MAX_BAD_PACKETS:
                        break
                    continue
                for frame in frames:
                    index += 1
                    self.frames_decoded += 1
                    pts = frame.pts if frame.pts is not None else frame.dts
                    if pts is not None and tb:
                        t_abs = pts * tb
                        if start is None:
                            start = t_abs
                        t = t_abs - start
                    else:
                        t = index / fps
                    if t <= last_t:  # broken or repeated timestamps: keep time moving forward
                        t = last_t + 1e-3
                    last_t = t
                    self.last_time_s = t
                    if self.rate is not None:
                        if t + 1e-6 < next_t:
                            continue
                        next_t = (math.floor(t * self.rate + 1e-6) + 1) / self.rate
                    if rot is None:
                        rot = _rotation_of(stream, frame)
                    if size is None:
                        size = scaled_size(frame.width, frame.height, self.max_side)
                    if (frame.width, frame.height) != (size[0], size[1]):
                        bgr = frame.to_ndarray(format="bgr24", width=size[0], height=size[1],
                                               interpolation="AREA")
                    else:
                        bgr = frame.to_ndarray(format="bgr24")
                    if rot == 90:
                        bgr = cv2.rotate(bgr, cv2.ROTATE_90_CLOCKWISE)
                    elif rot == 180:
                        bgr = cv2.rotate(bgr, cv2.ROTATE_180)
                    elif rot == 270:
                        bgr = cv2.rotate(bgr, cv2.ROTATE_90_COUNTERCLOCKWISE)
                    yield Sample(index, float(t), np.ascontiguousarray(bgr))
            if self.frames_decoded == 0:
                raise VideoError("zero_frames", name=self.path.name)
        finally:
            self.close()


def iter_samples(path: str | os.PathLike, *, rate: float | None = None,
                 max_side: int | None = DEFAULT_MAX_SIDE) -> Iterator[Sample]:
    """The samples of `path` (see `Decoder`); the file is closed when the iterator is exhausted,
    closed or garbage-collected."""
    with Decoder(path, rate=rate, max_side=max_side) as dec:
        yield from dec.samples()
