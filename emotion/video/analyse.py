"""Analyse a whole video with the live camera's streaming analyser, as fast as the CPU allows.

`analyse_video(path, analyzer, ...)` decodes the file (`emotion.video.decode`), feeds every sample to
a `StreamingAnalyzer` (the same tracking, recognition cache and per-track smoothing as the live page)
with the sample's *video* time as its timestamp, so tracks, the recognition refresh (every 1.5 s of video) and the
smoothing behave as on a camera running at the video's speed, whatever the CPU's speed. It returns a
`VideoResult`: one `VideoRow` per sample and face, the bounded thumbnails, and what happened (samples,
cancelled, truncated). Optional: an annotated H.264 MP4 (`emotion.video.encode`).

`cancel` (a `threading.Event`) is checked before every sample: the run stops within one sample's
analysis and returns what it has (``cancelled=True``). `on_progress(Progress)` is called after each
sample (cheap; throttle in the callback if needed). The decoder is always closed on the way out.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from emotion.records import EMOTIONS, UNKNOWN, FaceRecord
from emotion.video.decode import DEFAULT_MAX_DURATION_S, DEFAULT_MAX_SIDE, Decoder, VideoInfo, check_rate, probe
from emotion.video.errors import VideoError
from emotion.video.thumbs import Thumbnails

log = logging.getLogger(__name__)

MODES = ("fast", "accurate")


@dataclass(frozen=True)
class VideoRow:
    """One analysed face on one sample."""

    time_s: float
    frame: int
    track: int
    name: str  #: the recogniser's answer on this sample ("unknown" until recognised)
    person_id: int | None
    box: tuple[int, int, int, int]  #: x, y, w, h in the analysed (possibly downscaled) frame
    scores: tuple[float, ...]  #: smoothed, EMOTIONS order; empty when no classifier
    dominant: str | None


@dataclass
class Progress:
    samples: int = 0  #: samples analysed
    expected: int | None = None  #: samples expected (an estimate from the container)
    video_time_s: float = 0.0  #: position reached in the video
    duration_s: float | None = None
    elapsed_s: float = 0.0

    @property
    def fraction(self) -> float | None:
        if self.duration_s:
            return max(0.0, min(1.0, self.video_time_s / self.duration_s))
        if self.expected:
            return max(0.0, min(1.0, self.samples / self.expected))
        return None

    @property
    def eta_s(self) -> float | None:
        f = self.fraction
        if f is None or f <= 0.0 or self.elapsed_s <= 0.0:
            return None
        return max(0.0, self.elapsed_s * (1.0 - f) / f)

    @property
    def speed(self) -> float | None:
        """Video seconds analysed per wall-clock second ("N x real time")."""
        return self.video_time_s / self.elapsed_s if self.elapsed_s > 0 else None


@dataclass
class VideoResult:
    info: VideoInfo
    rate: float | None
    mode: str
    rows: list[VideoRow] = field(default_factory=list)
    samples: int = 0
    frames_decoded: int = 0
    cancelled: bool = False
    truncated: bool = False
    errors: int = 0  #: samples whose analysis failed (they have no rows)
    elapsed_s: float = 0.0
    video_time_s: float = 0.0  #: the last sample's time
    annotated_path: str | None = None
    thumbnails: Thumbnails | None = None

    @property
    def speed(self) -> float | None:
        return self.video_time_s / self.elapsed_s if self.elapsed_s > 0 else None

    def person_names(self) -> dict[int, str]:
        """Track -> the name shown for it: the name it was recognised as most often, else
        "unknown #<track>" (so two unknown people keep two timelines)."""
        counts: dict[int, dict[str, int]] = {}
        for r in self.rows:
            c = counts.setdefault(r.track, {})
            if r.name and r.name != UNKNOWN:
                c[r.name] = c.get(r.name, 0) + 1
        return {t: (max(c.items(), key=lambda kv: (kv[1], kv[0]))[0] if c else f"{UNKNOWN} #{t}")
                for t, c in counts.items()}


#: seconds of video between two embeddings of one track. The live page refreshes every 1.5 s; a file
#: names a whole track after the fact (`VideoResult.person_names`), so a slower refresh loses nothing
#: but the dlib ResNet's cost (the largest one per sample at 5 frames a second)
RECOGNIZE_EVERY_S = 5.0


def make_streaming_analyzer(analyzer: Any, *, mode: str, gallery: Any = None, landmarks: bool = True,
                            **kw: Any):
    """The live page's analyser configured for a file (it is given each sample's video time), inline recognition (a
    worker process would let a fast file outrun its names), a track re-embedded every
    `RECOGNIZE_EVERY_S` of video, no drawing, no history writer."""
    kw.setdefault("recognize_every_s", RECOGNIZE_EVERY_S)
    from emotion.live import StreamingAnalyzer

    return StreamingAnalyzer(analyzer, mode=mode, gallery_provider=(lambda: gallery) if gallery is not None else None,
                             history_sink=None, landmarks=landmarks, draw=False,
                             recognition="inline", warmup=kw.pop("warmup", False), **kw)


def analyse_video(path: str | os.PathLike, analyzer: Any, *, rate: float | None = None, mode: str = "fast",
                  gallery: Any = None, out_path: str | os.PathLike | None = None,
                  cancel: threading.Event | None = None, on_progress: Callable[[Progress], None] | None = None,
                  max_side: int | None = DEFAULT_MAX_SIDE, max_duration_s: float | None = DEFAULT_MAX_DURATION_S,
                  max_bytes: int | None = None, landmarks: bool = True, thumbnails: int = 120,
                  info: VideoInfo | None = None, streaming: Any = None) -> VideoResult:
    """Analyse `path`; see the module docstring. Raises `VideoError` for bad input (before any
    analysis, or `zero_frames` when nothing decodes); a damaged tail ends the run with
    ``truncated=True`` and the rows so far."""
    if mode not in MODES:
        raise VideoError("bad_option", option="mode", allowed="fast, accurate", value=mode)
    rate = check_rate(rate)
    info = info or probe(path, max_duration_s=max_duration_s, max_bytes=max_bytes)
    stream = streaming or make_streaming_analyzer(analyzer, mode=mode, gallery=gallery, landmarks=landmarks)
    if streaming is not None:
        stream.reset()  # a new video: no tracks from the last one, time starts again at 0
    result = VideoResult(info=info, rate=rate, mode=mode,
                         thumbnails=Thumbnails(max_items=thumbnails, stride_s=_thumb_stride(info, thumbnails))
                         if thumbnails else None)
    writer = None
    if out_path is not None:
        from emotion.video.encode import AnnotatedWriter

        writer = AnnotatedWriter(out_path, rate=rate or info.fps or 30.0)
    progress = Progress(expected=info.expected_samples(rate), duration_s=info.duration_s)
    t0 = time.perf_counter()
    decoder = Decoder(path, rate=rate, max_side=max_side)
    try:
        for sample in decoder.samples():
            if cancel is not None and cancel.is_set():
                result.cancelled = True
                break
            try:
                faces = _analyse_one(stream, sample.bgr, sample.time_s)
            except Exception:  # noqa: BLE001 - one bad frame must not lose the video
                log.exception("analysing the sample at %.2f s failed", sample.time_s)
                result.errors += 1
                faces = []
            for f in faces:
                result.rows.append(_row(sample.time_s, sample.index, f))
            thumb_due = result.thumbnails is not None and result.thumbnails.due(sample.time_s)
            if writer is not None or thumb_due:
                from emotion.draw import annotate

                drawn = annotate(sample.bgr, faces, landmarks=False, extra_text=_clock_text(sample.time_s))
                if writer is not None:
                    writer.write(drawn, sample.time_s)
                if thumb_due:
                    result.thumbnails.offer(sample.time_s, drawn)
            result.samples += 1
            result.video_time_s = sample.time_s
            if on_progress is not None:
                progress.samples = result.samples
                progress.video_time_s = sample.time_s
                progress.elapsed_s = time.perf_counter() - t0
                on_progress(progress)
    finally:
        decoder.close()
        result.frames_decoded = decoder.frames_decoded
        result.truncated = decoder.truncated
        result.elapsed_s = time.perf_counter() - t0
        if writer is not None:
            try:
                writer.close()
                result.annotated_path = str(out_path) if writer.frames else None
            except Exception:  # noqa: BLE001 - the rows matter more than the annotated copy
                log.exception("finishing the annotated video failed")
    last = decoder.last_time_s
    if not result.cancelled and not result.truncated and info.duration_s and last is not None:
        # the frames ended well before the container's duration: a cut file the demuxer did not flag
        result.truncated = last + max(2.0, 0.05 * info.duration_s) < info.duration_s
    return result


def _analyse_one(stream: Any, bgr: np.ndarray, t: float) -> list[FaceRecord]:
    """One sample through the streaming analyser, at video time `t`. It swallows model errors (a
    live frame must go on); here they count, so they are raised again (its error counter is read
    directly: `snapshot()` computes far more than this needs)."""
    before = getattr(stream, "_errors", 0)
    _, faces = stream.process(bgr, timestamp=t)
    if getattr(stream, "_errors", 0) > before:
        raise RuntimeError(getattr(stream, "_last_error", "analysis failed"))
    return faces


def _row(t: float, frame: int, f: FaceRecord) -> VideoRow:
    scores = tuple(round(float(v), 5) for v in f.scores) if f.scores is not None else ()
    return VideoRow(time_s=round(float(t), 4), frame=int(frame), track=int(f.track_id or 0),
                    name=f.identity.name or UNKNOWN, person_id=f.identity.person_id,
                    box=f.box.as_tuple(), scores=scores, dominant=f.dominant)


def _thumb_stride(info: VideoInfo, n: int) -> float:
    """Seconds between thumbnails so that `n` of them span the video (>= 0.25 s): a long video is
    not drawn and encoded at 4 thumbnails a second only to thin them out later."""
    return max(0.25, (info.duration_s or 0.0) / max(1, n))


def _clock_text(t: float) -> str:
    m, s = divmod(max(0.0, t), 60.0)
    return f"{int(m):02d}:{s:05.2f}"


__all__ = ["EMOTIONS", "MODES", "Progress", "VideoResult", "VideoRow", "analyse_video", "make_streaming_analyzer"]
