"""The annotated copy: an H.264 MP4 (yuv420p, ``+faststart``) that plays in every browser.

`AnnotatedWriter(path, rate)` takes BGR frames with their video times (`write(bgr, t)`) and encodes
them with PyAV: libx264 when the installed FFmpeg has it, else OpenH264. Presentation times are the
video's own (milliseconds), so a file analysed at 5 frames a second gives a 5-frames-a-second copy
whose clock matches the original. Frames are encoded as they come; nothing is buffered here beyond
the encoder's look-ahead. Odd sizes are padded to even (yuv420p needs it).
"""
from __future__ import annotations

import fractions
import os
from pathlib import Path

import numpy as np

#: encoders tried in order (all produce H.264)
ENCODERS = ("libx264", "libopenh264")


def h264_encoder() -> str | None:
    """The first H.264 encoder the installed PyAV/FFmpeg offers, or None."""
    import av

    for name in ENCODERS:
        try:
            av.codec.Codec(name, "w")
            return name
        except Exception:  # noqa: BLE001 - unknown encoder
            continue
    return None


class AnnotatedWriter:
    def __init__(self, path: str | os.PathLike, *, rate: float = 30.0, crf: int = 23, preset: str = "veryfast") -> None:
        self.path = Path(path)
        self.rate = float(rate) if rate and rate > 0 else 30.0
        self.crf = int(crf)
        self.preset = preset
        self.frames = 0
        self._container = None
        self._stream = None
        self._size: tuple[int, int] | None = None
        self._last_pts = -1

    def _open(self, width: int, height: int) -> None:
        import av

        codec = h264_encoder()
        if codec is None:
            raise RuntimeError("no H.264 encoder (libx264 / libopenh264) in this FFmpeg build")
        self._container = av.open(str(self.path), mode="w", format="mp4", options={"movflags": "+faststart"})
        opts = {"preset": self.preset, "crf": str(self.crf)} if codec == "libx264" else {}
        rate = fractions.Fraction(self.rate).limit_denominator(1001)
        stream = self._container.add_stream(codec, rate=rate, options=opts)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = fractions.Fraction(1, 1000)
        stream.time_base = fractions.Fraction(1, 1000)
        self._stream = stream
        self._size = (width, height)

    def write(self, bgr: np.ndarray, t: float) -> None:
        import av

        h, w = bgr.shape[:2]
        if self._container is None:
            self._open(w + (w % 2), h + (h % 2))
        W, H = self._size
        if (w, h) != (W, H):
            canvas = np.zeros((H, W, 3), np.uint8)
            canvas[:min(h, H), :min(w, W)] = bgr[:H, :W]
            bgr = canvas
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(bgr), format="bgr24")
        pts = max(int(round(t * 1000.0)), self._last_pts + 1)
        self._last_pts = pts
        frame.pts = pts
        frame.time_base = fractions.Fraction(1, 1000)
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames += 1

    def close(self) -> None:
        if self._container is None:
            return
        try:
            for packet in self._stream.encode():
                self._container.mux(packet)
        finally:
            self._container.close()
            self._container = None

    def __enter__(self) -> "AnnotatedWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
