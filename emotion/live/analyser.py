"""The per-frame path of a live stream, `StreamingAnalyzer`: one per camera stream or uploaded video.

Per frame (``StreamingAnalyzer.process``, called from streamlit-webrtc's video thread):

1. detect: "fast" mode runs BlazeFace short-range on a copy downscaled to `detect_width` px (320 by
   default); "accurate" mode runs the Analyzer's own detector (opencv / mtcnn / ..., the photo
   detector) every `accurate_every` frames and moves the tracks by their velocity in between;
2. track (`emotion.tracking.Tracker`): a face keeps its track id while it moves;
3. landmarks (dlib 68 on the tracked box) every frame when `landmarks` is on;
4. recognise once per new track and again every `recognize_every_s` (1.5 s): the embedding is cached
   on the track and re-matched against the gallery whenever `gallery_provider` returns a new one, so a
   change on the People page shows at once without re-embedding;
5. emotion every frame on the FER crop, smoothed per track with an exponential moving average;
6. draw (`emotion.draw.annotate`) with an FPS / latency readout;
7. history: one row per track per second (sooner when the smoothed dominant emotion changes) goes to
   a `HistoryWriter`, which writes batches from a background thread and never blocks the video.

Time is the clock's unless `process` is given each frame's `timestamp` (a video, faster than real time).

No model is loaded in `process`: every model comes from the Analyzer / `emotion.registry`, built
before the first frame. Nothing here imports streamlit.
"""
from __future__ import annotations

import collections
import logging
import threading
import time
from typing import Any, Callable

import numpy as np

from emotion.detect.base import detect_downscaled
from emotion.live.landmarks import track_landmarks
from emotion.live.recognition import Recognition
from emotion.live.rolling import rolling_step
from emotion.live.smoothing import classify_crops, percentile, plain_twin, smooth
from emotion.live.state import state_of
from emotion.live.writer import HistoryWriter, due_rows
from emotion.records import EMOTIONS, UNKNOWN, Box, Detection, FaceRecord, Identity
from emotion.tracking import Tracker

log = logging.getLogger(__name__)

MODES = ("fast", "accurate")


class StreamingAnalyzer:
    """Analyses a camera stream frame by frame; see the module docstring for the stages.

    analyzer: an `emotion.pipeline.Analyzer` (its stage methods detect / landmarks / embed / classify
        and its models are used; it is shared and thread-safe).
    mode: "fast" (BlazeFace on a `detect_width` px copy) or "accurate" (the Analyzer's detector every
        `accurate_every` frames, velocity-predicted boxes in between).
    gallery_provider: ``() -> Gallery | None``, called once per frame; it must be cheap (see
        `RefreshingGallery`). None: no recognition, every face is "unknown".
    history_sink: a `HistoryWriter` or a callable ``(rows: list[dict])`` (wrapped in one); None: no rows.
    landmarks: compute and draw the 68 points every frame.
    fast_detector: the BlazeFace detector (default ``emotion.registry.get_detector("blazeface")``).
    clock: wall-clock seconds (``time.time``); tracks, the chart buffer and row times use it, so tests
        can drive time.
    recognition: where embeddings are computed: "inline" (default; in `process`; deterministic),
        "process" (a worker process per server process and recogniser: the frame only cuts the
        chips; dlib's ResNet holds the GIL, so a *thread* would stall the video; falls back to inline
        if the worker dies) or "thread" (only for recognisers that release the GIL).
    max_embeds_per_frame: at most this many embeddings per frame (1), new tracks first, sent as one
        batch (and none while the worker still has the last batch), spreading the cost over frames.
    landmark_every: recompute dlib's 68 points every this many frames per track (2 by default); in
        between, the last points follow the box (translation + scale). 1: every frame.
    spread_tta: when the Analyzer's classifier averages each crop with its mirror image (fer_cnn's
        test-time augmentation, two forward passes a face), classify one of the two per frame instead,
        alternating, with a twin of the classifier without TTA (same weights file, one per process);
        the per-track EMA does the averaging. Halves the emotion cost per frame.
    warmup: run each model once at construction (see `warmup`).
    source: the history rows' source: "camera", or "video" when frames come from a file (then pass
        each frame's `timestamp` to `process`).
    detect_every: fast mode: detect every this many frames, tracks moved by their velocity between.
    min_classify_px: a face narrower or lower than this is not classified: ``too_small``, no scores.
    rolling: fast mode: an `emotion.live.rolling.RollingTiles` (small faces in a big frame).
    classify_every: classify each face every this many frames (its own phase, so a frame's batch
        holds 1/n of the faces; the EMA carries the scores between); 1 = every face every frame.
    confirm_names, confirm_after_s, sure_fraction, settle_after, settled_factor: the recognition
        schedule of a class (`TrackState.vote` and `TrackState.embed_key`): a name shows once matched
        `confirm_names` times or once under `sure_fraction` x the threshold, a waiting name is looked
        at again after `confirm_after_s`, a track that gave the same answer `settle_after` times (0:
        never) is refreshed `settled_factor` times less often.
    """

    def __init__(self, analyzer: Any, *, mode: str = "fast", gallery_provider: Callable[[], Any] | None = None,
                 history_sink: HistoryWriter | Callable[[list[dict]], Any] | None = None,
                 landmarks: bool = True, fast_detector: Any = None, detect_width: int = 320,
                 accurate_every: int = 1, recognize_every_s: float = 1.5, ema_alpha: float = 0.35,
                 row_interval_s: float = 1.0, min_row_gap_s: float = 0.25, window_s: float = 60.0,
                 max_faces: int = 10, draw: bool = True, clock: Callable[[], float] = time.time,
                 tracker: Tracker | None = None, recognition: str = "inline",
                 landmark_every: int = 2, max_embeds_per_frame: int = 1, spread_tta: bool = True,
                 warmup: bool = True, source: str = "camera", detect_every: int = 1,
                 min_classify_px: int = 0, rolling: Any = None, classify_every: int = 1,
                 confirm_names: int = 1, confirm_after_s: float = 0.5, sure_fraction: float = 0.85,
                 settle_after: int = 0, settled_factor: float = 3.0) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        self.analyzer = analyzer
        #: the history rows' source ("camera"; "video" for an uploaded video)
        self.source = source
        #: translations of the drawn emotion names and "unknown" (`emotion.draw.annotate`); the page
        #: sets them from the user's language, None draws English
        self.labels: dict[str, str] | None = None
        self.gallery_provider = gallery_provider
        if history_sink is None or isinstance(history_sink, HistoryWriter):
            self.writer = history_sink
        else:
            self.writer = HistoryWriter(history_sink)
        if fast_detector is None:
            from emotion import registry
            from emotion.detect import FAST_DETECTOR

            fast_detector = registry.get_detector(FAST_DETECTOR)
        self.fast_detector = fast_detector
        self.detect_width = int(detect_width)
        self.accurate_every = max(1, int(accurate_every))
        self.detect_every = max(1, int(detect_every))
        self.min_classify_px = int(min_classify_px)
        self.rolling = rolling
        self.classify_every = max(1, int(classify_every))
        self.confirm_names = max(1, int(confirm_names))
        self.confirm_after_s = float(confirm_after_s)
        self.sure_fraction = float(sure_fraction)
        self.settle_after = max(0, int(settle_after))
        self.settled_factor = max(1.0, float(settled_factor))
        self.recognize_every_s = float(recognize_every_s)
        self.ema_alpha = float(ema_alpha)
        self.row_interval_s = float(row_interval_s)
        self.min_row_gap_s = float(min_row_gap_s)
        self.window_s = float(window_s)
        self.max_faces = int(max_faces)
        self.draw = bool(draw)
        self.clock = clock
        self._mode = mode
        self._landmarks = bool(landmarks)
        #: switch history rows off and on while streaming (the page's "save" toggle)
        self.history_enabled = True
        #: the classroom session the rows belong to (None: no session, or paused); set from any thread
        self.session_id: int | None = None
        self.tracker = tracker or Tracker()
        self.landmark_every = max(1, int(landmark_every))
        self._plain_classifier = plain_twin(getattr(analyzer, "classifier", None)) if spread_tta else None
        self.max_embeds_per_frame = max(1, int(max_embeds_per_frame))
        self._recognition = Recognition(analyzer, recognition)

        # _proc_lock: one frame at a time through the models and the tracker.
        # _state_lock: what snapshot() reads (stats, chart buffer, last frame); held only briefly.
        self._proc_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._frame_no = 0
        self._gallery_seen: Any = None
        self._latencies: collections.deque[float] = collections.deque(maxlen=600)
        self._frame_times: collections.deque[float] = collections.deque(maxlen=600)
        self._stage_ms: dict[str, float] = {}
        self._ring: collections.deque[tuple[float, int, str, str, np.ndarray]] = collections.deque(maxlen=50_000)
        self._last_frame: np.ndarray | None = None
        self._last_faces: list[FaceRecord] = []
        self._last_time: float | None = None
        self._frames = 0
        self._errors = 0
        self._last_error: str | None = None
        self._stopped = False
        if warmup:
            self.warmup()

    def warmup(self) -> None:
        """Run every model once on a plain grey frame, so that lazy loading and the runtimes' first-call
        set-up (LiteRT's XNNPACK, ONNX Runtime, dlib) happen here and not on the first camera frame."""
        frame = np.full((240, 320, 3), 128, np.uint8)
        box = Box(110, 70, 100, 100)
        try:
            self.fast_detector.detect(frame)
            lm = np.asarray(self.analyzer.landmarks(frame, box), np.float32)
            if self.gallery_provider is not None:
                self.analyzer.embed(frame, lm)
            if getattr(self.analyzer, "classifier", True) is not None:
                self.analyzer.classify(frame, lm)
            if self._plain_classifier is not None:
                self._plain_classifier.predict(np.zeros((1, 48, 48), np.uint8))
        except Exception:  # noqa: BLE001 - a model that fails will say so on the frames
            log.exception("warming the live models up failed")

    # ---- settings (may change while streaming, from the page's thread) ------------------------------

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {value!r}")
        with self._proc_lock:
            if value != self._mode:
                self._mode = value
                self._frame_no = 0

    @property
    def landmarks(self) -> bool:
        return self._landmarks

    @landmarks.setter
    def landmarks(self, value: bool) -> None:
        self._landmarks = bool(value)

    @property
    def recognition(self) -> str:
        """Where embeddings are computed now ("process" falls back to "inline" when the worker dies)."""
        return self._recognition.mode

    # ---- the per-frame path ------------------------------------------------------------------------

    def process(self, bgr: np.ndarray, *, timestamp: float | None = None) -> tuple[np.ndarray, list[FaceRecord]]:
        """Analyse one BGR uint8 frame; returns (annotated copy, faces). Never raises for a model
        error: the frame comes back with the error written on it (see `snapshot()["error"]`).

        `timestamp`: the frame's time in seconds (e.g. a video's start time plus the frame's
        offset), used for tracks, smoothing, recognition refreshes and history rows instead of the
        clock, so that a recorded video can be analysed faster than real time. Timestamps must not
        go backwards within a stream (call `reset` between videos)."""
        t0 = time.perf_counter()
        with self._proc_lock:
            now = self.clock() if timestamp is None else float(timestamp)
            try:
                faces, stage = self._analyze(bgr, now)
                error = None
            except Exception as exc:  # noqa: BLE001 - a live callback must keep going
                log.exception("live frame failed")
                faces, stage, error = [], {}, f"{type(exc).__name__}: {exc}"
            rows = (self._history_rows(faces, now)
                    if self.writer is not None and self.history_enabled and error is None else [])
            fps = self._fps(now)
            t_draw = time.perf_counter()
            out = self._render(bgr, faces, fps, (t_draw - t0) * 1000.0, error)
            stage["draw"] = (time.perf_counter() - t_draw) * 1000.0
        latency = (time.perf_counter() - t0) * 1000.0
        if rows:
            self.writer.put(rows)
        with self._state_lock:
            self._frames += 1
            self._latencies.append(latency)
            self._frame_times.append(now)
            self._stage_ms = stage
            self._last_frame = out
            self._last_faces = faces
            self._last_time = now
            if error is not None:
                self._errors += 1
                self._last_error = error
            for f in faces:
                self._ring.append((now, int(f.track_id or 0), f.identity.name, f.dominant or "", f.scores))
            cutoff = now - self.window_s
            while self._ring and self._ring[0][0] < cutoff:
                self._ring.popleft()
        return out, faces

    def _detect(self, bgr: np.ndarray, now: float) -> list[Detection] | None:
        """This frame's detections, or None on an in-between frame of the accurate mode."""
        if self._mode == "fast":
            if self._frame_no % self.detect_every == 0 or not self.tracker.tracks:
                return detect_downscaled(self.fast_detector.detect, bgr, max_width=self.detect_width or None)
            return None
        if self._frame_no % self.accurate_every == 0 or not self.tracker.tracks:
            return list(self.analyzer.detect(bgr))
        return None

    def _analyze(self, bgr: np.ndarray, now: float) -> tuple[list[FaceRecord], dict[str, float]]:
        if bgr is None or bgr.ndim != 3 or bgr.shape[2] != 3 or bgr.size == 0:
            raise ValueError("expected a BGR uint8 (H, W, 3) frame")
        h, w = bgr.shape[:2]
        stage: dict[str, float] = {"detect": 0.0, "landmarks": 0.0, "embed": 0.0, "classify": 0.0}
        t = time.perf_counter()
        rolling = self.rolling is not None and self._mode == "fast"
        dets = None if rolling else self._detect(bgr, now)
        self._frame_no += 1
        if rolling:  # a share of the tiles scanned, the other tracks carried
            dets, matched = rolling_step(self.rolling, self.tracker, bgr, now, self._frame_no, self.max_faces)
        elif dets is None:  # between two detections: move the live tracks
            tracks = [tr for tr in self.tracker.tracks if now - tr.last_seen <= self.tracker.max_age_s]
            pairs = [(tr, Detection(tr.predicted(now).clip(w, h), state_of(tr).confidence))
                     for tr in tracks]
            pairs = [(tr, d) for tr, d in pairs if d.box.w > 1 and d.box.h > 1]
            for tr, d in pairs:
                tr.box = d.box
            matched, dets = [p[0] for p in pairs], [p[1] for p in pairs]
        else:
            dets = [d for d in dets if d.box.w > 1 and d.box.h > 1][: self.max_faces]
            matched = self.tracker.update([d.box for d in dets], now)
        stage["detect"] = (time.perf_counter() - t) * 1000.0

        gallery = self.gallery_provider() if self.gallery_provider is not None else None
        has_gallery = gallery is not None and len(gallery) > 0
        gallery_changed = gallery is not self._gallery_seen
        self._gallery_seen = gallery
        done = self._recognition.take_all()
        live = {tr.track_id for tr in matched}

        # which tracks get an embedding this frame (`TrackState.embed_key`), at most `max_embeds_per_frame`
        # (dlib's ResNet holds the GIL: spreading the work over frames keeps every frame short)
        want: list[tuple] = []
        for track in matched:
            st = state_of(track)
            result = done.pop(track.track_id, None)
            if result is not None:
                st.accept_embedding(result)
            key = st.embed_key(now, every=self.recognize_every_s, settle_after=self.settle_after,
                               settled_factor=self.settled_factor, confirm=self.confirm_names,
                               confirm_after=self.confirm_after_s)
            if has_gallery and key is not None:
                want.append((*key, track.track_id))
        embed_now = set() if self._recognition.busy() else \
            {w[-1] for w in sorted(want)[: self.max_embeds_per_frame]}

        faces: list[FaceRecord] = []
        crop_src: list[Any] = []  # per face: its landmarks, or its Detection (eye keypoints) without
        jobs: list[tuple[int, np.ndarray]] = []  # this frame's embeddings, asked for in one batch
        for det, track in zip(dets, matched):
            st = state_of(track)
            st.confidence = det.confidence
            want_embed = track.track_id in embed_now
            lm = None
            if self._landmarks or want_embed:
                t = time.perf_counter()
                try:
                    lm = track_landmarks(self.analyzer, bgr, det.box, st, self.landmark_every)
                except (ValueError, RuntimeError) as err:  # a face cut by the frame's border, ...
                    log.debug("landmarks failed for %s: %s", det.box, err)
                    want_embed = False
                stage["landmarks"] += (time.perf_counter() - t) * 1000.0
            if want_embed:
                st.embed_pending = now
                jobs.append((track.track_id, lm))
            faces.append(FaceRecord(box=det.box, confidence=float(det.confidence),
                                    landmarks=lm if self._landmarks else None, track_id=track.track_id,
                                    too_small=min(det.box.w, det.box.h) < self.min_classify_px))
            crop_src.append(lm if lm is not None else det)
        if jobs:
            t = time.perf_counter()
            if self._recognition.start_many(bgr, jobs, now):
                stage["embed"] += (time.perf_counter() - t) * 1000.0
        for face, track in zip(faces, matched):
            st = state_of(track)
            result = self._recognition.take(track.track_id) if jobs else None  # the synchronous path
            if result is not None:
                st.accept_embedding(result)
            if not has_gallery:
                st.identity = None
                face.identity = Identity()
            elif st.embedding is not None and (st.identity is None or gallery_changed):
                match = gallery.match(st.embedding)
                sure = match.distance is not None and match.distance <= self.sure_fraction * gallery.threshold
                st.identity = face.identity = st.vote(match, reset=gallery_changed, confirm=self.confirm_names,
                                                      sure=sure)
            else:
                face.identity = st.identity or Identity()
            face.embedding = st.embedding

        # emotion: one batched call for every face of the frame, then the per-track EMA
        n = self.classify_every
        classify = [i for i, (f, tr) in enumerate(zip(faces, matched)) if not f.too_small and (
            n == 1 or state_of(tr).ema is None or (tr.track_id + self._frame_no) % n == 0)]
        for f, tr in zip(faces, matched):  # the faces not in this frame's batch keep their scores
            if not f.too_small and state_of(tr).ema is not None:
                f.scores = state_of(tr).ema.copy()
        if classify and getattr(self.analyzer, "classifier", True) is not None:
            t = time.perf_counter()
            probs = classify_crops(self.analyzer, self._plain_classifier, bgr, [crop_src[i] for i in classify],
                                   mirror=bool(self._frame_no % 2))
            for i, p in zip(classify, probs):
                st = state_of(matched[i])
                st.ema = smooth(st.ema, p, self.ema_alpha)
                faces[i].scores = st.ema.copy()
            stage["classify"] = (time.perf_counter() - t) * 1000.0
        if done:  # results for tracks not on this frame: keep them for when the track comes back
            self._recognition.keep({tid: res for tid, res in done.items()
                                    if tid not in live and self.tracker.get(tid) is not None})
        return faces, stage

    def _history_rows(self, faces: list[FaceRecord], now: float) -> list[dict]:
        return due_rows(faces, self.tracker, now, row_interval_s=self.row_interval_s,
                        min_row_gap_s=self.min_row_gap_s, source=self.source, session_id=self.session_id)

    def _fps(self, now: float) -> float | None:
        with self._state_lock:
            times = [t for t in self._frame_times if now - t <= 2.0]
        if len(times) < 2 or now - times[0] <= 0:
            return None
        return len(times) / (now - times[0])

    def _render(self, bgr: np.ndarray, faces: list[FaceRecord], fps: float | None, ms: float,
                error: str | None) -> np.ndarray:
        if not self.draw:
            return bgr
        from emotion.draw import annotate

        extra = f"{ms:.0f} ms  {self._mode}"
        if error is not None:
            extra = f"error: {error}"[:80]
        return annotate(bgr, faces, landmarks=self._landmarks, fps=fps, extra_text=extra, labels=self.labels)

    # ---- readers (any thread) ----------------------------------------------------------------------

    def last_stage_ms(self) -> dict[str, float]:
        """ms per stage of the last frame (detect, landmarks, embed, classify, draw)."""
        with self._state_lock:
            return dict(self._stage_ms)

    def last_frame(self) -> tuple[np.ndarray | None, list[FaceRecord], float | None]:
        """(last annotated frame, its faces, its clock time) for the Capture button."""
        with self._state_lock:
            return self._last_frame, list(self._last_faces), self._last_time

    def mix(self, seconds: float = 10.0, *, now: float | None = None) -> dict[str, float]:
        """Mean smoothed emotion scores over every face seen in the last `seconds` (EMOTIONS order;
        all zero when nothing was seen)."""
        entries = self._recent(seconds, now)
        if not entries:
            return {e: 0.0 for e in EMOTIONS}
        m = np.mean(np.stack([e[4] for e in entries]), axis=0)
        return {e: float(v) for e, v in zip(EMOTIONS, m)}

    def person_mix(self, seconds: float = 10.0, *, now: float | None = None) -> dict[str, dict[str, float]]:
        """Per name (recognised people; "unknown" for the rest): mean scores over the last `seconds`."""
        groups: dict[str, list[np.ndarray]] = {}
        for _, _, name, _, scores in self._recent(seconds, now):
            groups.setdefault(name or UNKNOWN, []).append(scores)
        return {name: {e: float(v) for e, v in zip(EMOTIONS, np.mean(np.stack(s), axis=0))}
                for name, s in sorted(groups.items())}

    def _recent(self, seconds: float, now: float | None) -> list:
        with self._state_lock:
            if now is None:
                now = self._last_time if self._last_time is not None else self.clock()
            cutoff = now - seconds
            return [e for e in self._ring if e[0] >= cutoff and e[4] is not None]

    def timeline(self, seconds: float = 10.0) -> list[dict]:
        """The ring buffer's entries of the last `seconds`: time, track, name, emotion and scores."""
        return [{"time": t, "track_id": tid, "name": name, "emotion": dom,
                 **{e: float(v) for e, v in zip(EMOTIONS, scores)}}
                for t, tid, name, dom, scores in self._recent(seconds, None)]

    def snapshot(self, seconds: float = 10.0) -> dict[str, Any]:
        """Everything the page's fragment shows, read under the state lock: fps, latency p50/p95,
        per-stage ms of the last frame, faces on the last frame, the mix of the last `seconds`
        overall and per person, the history writer's counters and the last error."""
        with self._state_lock:
            lat = list(self._latencies)[-300:]
            now = self._last_time
            faces = list(self._last_faces)
            stage = dict(self._stage_ms)
            info = {"frames": self._frames, "errors": self._errors, "error": self._last_error,
                    "mode": self._mode, "landmarks": self._landmarks, "last_time": now}
        fps = self._fps(now) if now is not None else None
        info.update(
            fps=fps,
            latency_ms={"last": lat[-1] if lat else None, "p50": percentile(lat, 50), "p95": percentile(lat, 95)},
            stage_ms=stage,
            faces=[{"track_id": f.track_id, "name": f.identity.name, "emotion": f.dominant,
                    "score": f.dominant_score} for f in faces],
            mix=self.mix(seconds),
            person_mix=self.person_mix(seconds),
            history=self.writer.stats() if self.writer is not None else None,
        )
        return info

    # ---- lifecycle ---------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget tracks and statistics (a new stream on the same analyzer)."""
        with self._proc_lock, self._state_lock:
            self.tracker.reset()
            self._frame_no = 0
            self._latencies.clear()
            self._frame_times.clear()
            self._ring.clear()
            self._last_frame, self._last_faces, self._last_time = None, [], None
            self._stopped = False
        self._recognition.clear()

    def stop(self, timeout: float = 10.0) -> bool:
        """Flush the history writer (rows of the last frames included). True when nothing is left
        pending. Safe to call twice; `process` may be called again afterwards."""
        self._stopped = True
        if self.writer is None:
            return True
        return self.writer.stop(timeout=timeout)

    def close(self, timeout: float = 10.0) -> bool:
        """`stop()` and end the recognition worker (the object is not used again)."""
        ok = self.stop(timeout)
        self._recognition.close()
        return ok

