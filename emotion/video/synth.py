"""Test and benchmark clips made on the fly with PyAV from real faces (never stored in the project).

Faces: NASA's astronaut (scikit-image) and photos from ``../shared/data/photos/wild_dev`` (LFW-style
250x250 news photos; `photos_dir()` finds the folder, ``EMOTION_PHOTOS_DIR`` overrides it). Frames are
generated one at a time and encoded as they come, so a 5-minute clip costs no more memory than a
10-second one.

* `moving_face_frames`: the astronaut's head moving left to right and back, bobbing;
* `people_frames`: several heads side by side, each drifting a little (two people, three faces ...);
* `write_clip(path, frames, fps)`: H.264 (or any PyAV codec) into any container, with an optional
  display rotation and optional per-frame times (a variable frame rate).
"""
from __future__ import annotations

import fractions
import os
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import cv2
import numpy as np

FRAME_W, FRAME_H = 640, 480


def photos_dir() -> Path:
    env = os.environ.get("EMOTION_PHOTOS_DIR")
    if env:
        return Path(env)
    root = Path(__file__).resolve().parents[2]  # the checkout
    return root.parent / "shared" / "data" / "photos"


def photo_path(name: str) -> Path:
    return photos_dir() / "wild_dev" / name


def photo_head(name: str, size: int = 170) -> np.ndarray:
    """A wild_dev photo (a face crop) as a `size` px square patch."""
    path = photo_path(name)
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(f"photo not found: {path}")
    return cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)


def astronaut_head(scale: float = 1.0) -> np.ndarray:
    from emotion.bench.scenes import _head

    return _head(scale)


def background(width: int = FRAME_W, height: int = FRAME_H, seed: int = 0) -> np.ndarray:
    from emotion.bench.scenes import background as bg

    return bg(width, height, seed)


def _paste(frame: np.ndarray, patch: np.ndarray, x: int, y: int) -> None:
    h, w = patch.shape[:2]
    x = int(np.clip(x, 0, frame.shape[1] - w))
    y = int(np.clip(y, 0, frame.shape[0] - h))
    frame[y:y + h, x:x + w] = patch


def moving_face_frames(n: int, width: int = FRAME_W, height: int = FRAME_H, *, head: np.ndarray | None = None,
                       period: int = 150) -> Iterator[np.ndarray]:
    """`n` frames of one head crossing the frame left to right and back every `period` frames."""
    head = astronaut_head() if head is None else head
    bg = background(width, height)
    h, w = head.shape[:2]
    for i in range(n):
        f = bg.copy()
        phase = (i % period) / max(period - 1, 1)
        t = 2 * phase if phase <= 0.5 else 2 * (1 - phase)  # there and back again
        x = int(round(10 + t * (width - w - 20)))
        y = int(round((height - h) / 2 + 20 * np.sin(2 * np.pi * phase)))
        _paste(f, head, x, y)
        yield f


def people_frames(n: int, heads: Sequence[np.ndarray], width: int = FRAME_W, height: int = FRAME_H,
                  *, show: Callable[[int, int], bool] | None = None) -> Iterator[np.ndarray]:
    """`n` frames with the heads side by side (evenly spaced), each drifting a few pixels.
    `show(i, k)`: whether head k is on frame i (all, by default)."""
    bg = background(width, height, seed=1)
    slots = len(heads)
    for i in range(n):
        f = bg.copy()
        for k, head in enumerate(heads):
            if show is not None and not show(i, k):
                continue
            h, w = head.shape[:2]
            cx = (k + 0.5) * width / slots
            dx = 6 * np.sin(2 * np.pi * i / 60.0 + k)
            y = (height - h) / 2 + (0.25 * (height - h) if k % 2 else -0.25 * (height - h))
            _paste(f, head, int(round(cx - w / 2 + dx)), int(round(y)))
        yield f


def three_heads() -> list[np.ndarray]:
    """The astronaut, her mirror image and a smaller brighter copy (as `emotion.bench.scenes`)."""
    a = astronaut_head(0.95)
    return [a, a[:, ::-1].copy(), cv2.convertScaleAbs(astronaut_head(0.85), alpha=1.1, beta=12)]


def write_clip(path: str | os.PathLike, frames: Iterable[np.ndarray], fps: float = 30.0, *,
               codec: str = "libx264", container_format: str | None = None, rotation: int = 0,
               times: Iterable[float] | None = None, pix_fmt: str = "yuv420p", audio_s: float = 0.0) -> Path:
    """Encode BGR `frames` into `path`. `rotation`: display matrix, degrees counter-clockwise (as a
    phone writes it). `times`: per-frame seconds (a variable frame rate); default i / fps.
    `audio_s`: add that many seconds of a quiet tone (AAC) as a second stream."""
    import av

    path = Path(path)
    tb = fractions.Fraction(1, 1000)
    times_it = iter(times) if times is not None else None
    with av.open(str(path), mode="w", format=container_format) as out:
        stream = None
        audio = None
        for i, bgr in enumerate(frames):
            if stream is None:
                h, w = bgr.shape[:2]
                stream = out.add_stream(codec, rate=fractions.Fraction(fps).limit_denominator(1001))
                stream.width, stream.height = w - w % 2, h - h % 2
                stream.pix_fmt = pix_fmt
                if codec == "libx264":
                    stream.options = {"preset": "ultrafast"}
                stream.codec_context.time_base = tb
                if rotation:
                    stream.set_display_rotation(rotation)
                if audio_s > 0:
                    audio = _tone_stream(out)
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(bgr[:stream.height, :stream.width]), format="bgr24")
            t = next(times_it) if times_it is not None else i / fps
            frame.pts, frame.time_base = int(round(t * 1000)), tb
            for p in stream.encode(frame):
                out.mux(p)
        if stream is not None:
            for p in stream.encode():
                out.mux(p)
        if audio is not None:
            _encode_tone(out, audio, audio_s)
    return path


def write_audio_only(path: str | os.PathLike, seconds: float = 1.0, container_format: str | None = None) -> Path:
    import av

    with av.open(str(path), mode="w", format=container_format) as out:
        _encode_tone(out, _tone_stream(out), seconds)
    return Path(path)


def _tone_stream(out):
    a = out.add_stream("aac", rate=16000)
    a.layout = "mono"
    return a


def _encode_tone(out, a, seconds: float) -> None:
    import av

    rate = 16000
    n = int(seconds * rate)
    t = np.arange(n, dtype=np.float32) / rate
    pcm = (0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None, :]
    step = 1024
    for i in range(0, n, step):
        fr = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm[:, i:i + step]), format="fltp", layout="mono")
        fr.sample_rate = rate
        fr.pts = i
        for p in a.encode(fr):
            out.mux(p)
    for p in a.encode():
        out.mux(p)
