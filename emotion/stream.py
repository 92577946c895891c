"""The live camera at camera speed: `StreamingAnalyzer` (one per camera stream) and `HistoryWriter`.

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

No model is loaded in `process`: every model comes from the Analyzer / `emotion.registry`, built
before the first frame. Nothing here imports streamlit.
"""
from __future__ import annotations

import atexit
import collections
import concurrent.futures
import concurrent.futures.process
import logging
import os
import struct
import threading
import time
import uuid
import weakref
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

import cv2
import numpy as np

from emotion.records import EMOTIONS, UNKNOWN, Box, Detection, FaceRecord, Identity
from emotion.tracking import Tracker

log = logging.getLogger(__name__)

MODES = ("fast", "accurate")
#: rows the HistoryWriter keeps at most while the database is down (the oldest go first beyond it)
MAX_BUFFERED_ROWS = 100_000


def _is_retriable(exc: BaseException) -> bool:
    """A database outage (StoreUnavailable, a dropped connection): keep the rows and retry."""
    kinds: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError)
    try:
        from emotion.store import StoreUnavailable
    except Exception:  # pragma: no cover - the store module is always there in the app
        pass
    else:
        kinds += (StoreUnavailable,)
    return isinstance(exc, kinds)


# ====================================================================================================
# HistoryWriter
# ====================================================================================================

class HistoryWriter:
    """Writes history rows in the background, in batches, through `sink(rows: list[dict])`.

    Every row carries a ``row_key`` (a uuid made when the row was created, see `make_row`), and the
    store skips keys it already has, so a batch retried after an outage is never written twice.

    - `put(rows)` only appends to an in-memory buffer (bounded by `max_buffer`; beyond it the
      oldest rows are dropped and counted in `dropped`), so the video thread never waits on SQL;
    - a daemon thread flushes every `interval` seconds, at most `batch_size` rows per sink call;
    - when the sink raises a retriable error (StoreUnavailable, ConnectionError, TimeoutError) the
      batch stays buffered and the writer backs off (`backoff` doubling up to `max_backoff`);
      any other error drops that batch (counted in `dropped`, logged) so one bad row cannot block
      the rest forever;
    - `stop()` flushes everything still buffered (trying until `timeout`) and stops the thread; it
      also runs at interpreter exit. `put` after `stop` starts the thread again, and so does
      `start()` (e.g. to keep retrying in the background after a `stop` that timed out). The thread
      also ends by itself after `idle_exit_s` seconds with nothing buffered.

    Counters: `written` (rows the sink accepted), `pending` (buffered), `failed` (sink calls that
    raised), `dropped` (rows given up), `last_error` (message of the last failure, None after a
    success).
    """

    def __init__(self, sink: Callable[[list[dict]], Any], *, interval: float = 1.0, batch_size: int = 500,
                 max_buffer: int = MAX_BUFFERED_ROWS, backoff: float = 0.5, max_backoff: float = 30.0,
                 start: bool = True, idle_exit_s: float = 60.0) -> None:
        self.sink = sink
        self.idle_exit_s = float(idle_exit_s)
        self.interval = float(interval)
        self.batch_size = max(1, int(batch_size))
        self.max_buffer = max(1, int(max_buffer))
        self.initial_backoff = float(backoff)
        self.max_backoff = float(max_backoff)
        self._buf: collections.deque[dict] = collections.deque()
        self._lock = threading.Lock()  # guards _buf and the counters
        self._flush_lock = threading.Lock()  # one sink call at a time
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._retry_at = 0.0
        self._backoff = self.initial_backoff
        self.written = 0
        self.failed = 0
        self.dropped = 0
        self.last_error: str | None = None
        _LIVE_WRITERS.add(self)
        if start:
            self.start()

    # ---- producer side -------------------------------------------------------------------------

    def put(self, rows: Iterable[dict]) -> None:
        rows = list(rows)
        if not rows:
            return
        with self._lock:
            self._buf.extend(rows)
            over = len(self._buf) - self.max_buffer
            if over > 0:
                for _ in range(over):
                    self._buf.popleft()
                self.dropped += over
        if over > 0:
            log.warning("history buffer full: dropped the %d oldest rows", over)
        if self._thread is None or not self._thread.is_alive():
            self.start()

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._buf)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {"written": self.written, "pending": len(self._buf), "failed": self.failed,
                    "dropped": self.dropped, "last_error": self.last_error,
                    "retry_in_s": max(0.0, self._retry_at - time.monotonic()) if self.last_error else 0.0}

    # ---- the thread ----------------------------------------------------------------------------

    def start(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="emotion-history-writer", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        idle_since = time.monotonic()
        while not self._stopping.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stopping.is_set():
                break
            if time.monotonic() >= self._retry_at:
                self.flush_once(max_batches=None)
            with self._lock:
                if self._buf:
                    idle_since = time.monotonic()
                elif time.monotonic() - idle_since > self.idle_exit_s:
                    # nothing to do for a while (the stream stopped, its page was left): end the
                    # thread; the next `put` starts a new one
                    self._thread = None
                    return

    def flush_once(self, max_batches: int | None = 1) -> bool:
        """Send buffered rows now (up to `max_batches` batches, all when None). Returns True when the
        buffer was emptied, False when a sink call failed (the rows stay buffered)."""
        with self._flush_lock:
            n = 0
            while max_batches is None or n < max_batches:
                with self._lock:
                    batch = [self._buf[i] for i in range(min(self.batch_size, len(self._buf)))]
                if not batch:
                    return True
                n += 1
                try:
                    self.sink(batch)
                except Exception as exc:  # noqa: BLE001 - the sink is the store; report, never raise
                    retriable = _is_retriable(exc)
                    with self._lock:
                        self.failed += 1
                        self.last_error = str(exc) or type(exc).__name__
                        if not retriable:
                            self._pop(len(batch))
                            self.dropped += len(batch)
                        else:
                            self._retry_at = time.monotonic() + self._backoff
                            self._backoff = min(self._backoff * 2, self.max_backoff)
                    if not retriable:
                        log.exception("history batch of %d rows dropped", len(batch))
                        continue
                    log.warning("history write failed (%s); %d rows kept for a retry", exc, self.pending)
                    return False
                with self._lock:
                    self._pop(len(batch))
                    self.written += len(batch)
                    self.last_error = None
                    self._backoff = self.initial_backoff
                    self._retry_at = 0.0
            with self._lock:
                return not self._buf

    def _pop(self, n: int) -> None:
        # the batch is the head of the deque; `put` only appends and only overflow pops from the left,
        # so fewer than n may be left when rows were dropped meanwhile
        for _ in range(min(n, len(self._buf))):
            self._buf.popleft()

    def stop(self, timeout: float = 10.0) -> bool:
        """Flush everything and stop the thread. Retries a failing sink (with backoff) until
        `timeout` seconds have passed; returns True when nothing is left pending."""
        self._stopping.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=max(timeout, 0.1))
        deadline = time.monotonic() + timeout
        delay = 0.05
        while True:
            if self.flush_once(max_batches=None):
                return True
            if time.monotonic() + delay > deadline:
                return False
            time.sleep(delay)
            delay = min(delay * 2, 1.0)

    close = stop

    def __repr__(self) -> str:
        s = self.stats()
        return f"HistoryWriter(written={s['written']}, pending={s['pending']}, failed={s['failed']})"


_LIVE_WRITERS: "weakref.WeakSet[HistoryWriter]" = weakref.WeakSet()


@atexit.register
def _flush_all_writers() -> None:  # pragma: no cover - runs at interpreter exit
    for writer in list(_LIVE_WRITERS):
        try:
            writer.stop(timeout=5.0)
        except Exception:  # noqa: BLE001
            log.exception("flushing history at exit failed")


def store_sink(store: Any | Callable[[], Any], user_id: int, *, source: str = "camera") -> Callable[[list[dict]], int]:
    """A HistoryWriter sink writing to ``store.add_history(user_id, rows, source=...)``. `store` may be
    a zero-argument callable returning the Store (it is called per batch, so a store that could not be
    built yet raises StoreUnavailable there and the rows are retried)."""

    def sink(rows: list[dict]) -> int:
        s = store() if callable(store) and not hasattr(store, "add_history") else store
        return s.add_history(user_id, rows, source=source)

    return sink


def make_row(face: FaceRecord, when: float | datetime, *, source: str = "camera") -> dict:
    """A history row (the dict form `Store.add_history` takes) with a fresh uuid `row_key`."""
    ts = when if isinstance(when, datetime) else datetime.fromtimestamp(float(when), tz=timezone.utc)
    return {
        "row_key": str(uuid.uuid4()),
        "time": ts,
        "source": source,
        "track_id": face.track_id,
        "name": face.identity.name,
        "person_id": face.identity.person_id,
        "box": face.box.as_tuple(),
        "confidence": float(face.confidence),
        "scores": None if face.scores is None else [float(v) for v in face.scores],
        "dominant": face.dominant,
    }


# ====================================================================================================
# Gallery provider with a background refresh
# ====================================================================================================

class RefreshingGallery:
    """``provider()`` for `StreamingAnalyzer`: returns the last loaded gallery at once and reloads it
    in a background thread every `ttl` seconds, so a slow or unreachable database never stalls the
    video. `load()` returns a Gallery (or None); while it raises, the previous gallery is kept and
    `error` holds the message."""

    def __init__(self, load: Callable[[], Any], ttl: float = 2.0, *, initial: Any = None) -> None:
        self.load = load
        self.ttl = float(ttl)
        self._value = initial
        self._loaded_at = -float("inf") if initial is None else time.monotonic()
        self._lock = threading.Lock()
        self._loading = False
        self.error: str | None = None

    def refresh(self) -> Any:
        """Load synchronously now (used before the stream starts)."""
        try:
            value = self.load()
        except Exception as exc:  # noqa: BLE001
            with self._lock:
                self.error = str(exc) or type(exc).__name__
                self._loaded_at = time.monotonic()
            return self._value
        with self._lock:
            self._value, self.error, self._loaded_at = value, None, time.monotonic()
        return value

    def invalidate(self) -> None:
        with self._lock:
            self._loaded_at = -float("inf")

    def _background(self) -> None:
        try:
            self.refresh()
        finally:
            with self._lock:
                self._loading = False

    def __call__(self) -> Any:
        with self._lock:
            stale = time.monotonic() - self._loaded_at >= self.ttl
            if stale and not self._loading:
                self._loading = True
                threading.Thread(target=self._background, name="emotion-gallery-refresh", daemon=True).start()
            return self._value


# ====================================================================================================
# StreamingAnalyzer
# ====================================================================================================

_TWINS: dict[tuple, Any] = {}
_TWINS_LOCK = threading.Lock()


def _plain_twin(classifier: Any) -> Any:
    """The classifier without test-time augmentation (a FerNetClassifier with tta=False on the same
    weights), built once per process and weights file; None when `classifier` has no TTA to spread."""
    if classifier is None or not getattr(classifier, "tta", False):
        return None
    try:
        from emotion.classify.fernet import FerNetClassifier
    except ImportError:  # pragma: no cover
        return None
    if not isinstance(classifier, FerNetClassifier):
        return None
    path = getattr(classifier, "path", None)
    try:
        key = (str(path), path.stat().st_mtime_ns)
    except (AttributeError, OSError):
        return None
    with _TWINS_LOCK:
        twin = _TWINS.get(key)
        if twin is None:
            twin = FerNetClassifier(path.parent, tta=False)
            _TWINS[key] = twin
        return twin


# ---- the recognition worker process (shared by every stream of this process) -----------------------
#
# A plain subprocess (`python -m emotion.stream --embed-worker NAME`) speaking a tiny binary protocol
# over its stdin/stdout, not multiprocessing: Streamlit runs page scripts as the `__main__` module,
# and multiprocessing's "spawn" would re-run app.py in the child.

_HEADER_IN = struct.Struct("<III")  # n, height, width of the uint8 RGB chips that follow
_HEADER_OUT = struct.Struct("<II")  # n, dim of the float32 embeddings that follow (dim 0: failed)


class EmbedProcess:
    """Embeds 150x150 RGB chips in a child process holding its own copy of recogniser `name`
    (loaded there through `emotion.registry`). `submit(chips) -> Future` of float32 (N, D); requests
    are answered in order. Thread-safe. When the child dies, pending and later futures fail with
    BrokenProcessPool."""

    def __init__(self, name: str) -> None:
        import subprocess
        import sys

        from emotion.config import PROJECT_ROOT

        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(PROJECT_ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        self.name = name
        self.proc = subprocess.Popen([sys.executable, "-m", "emotion.stream", "--embed-worker", name],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd=str(PROJECT_ROOT))
        self._lock = threading.Lock()
        self._pending: collections.deque[concurrent.futures.Future] = collections.deque()
        self.broken = False
        self._reader = threading.Thread(target=self._read, name=f"emotion-embed-reader-{name}", daemon=True)
        self._reader.start()

    def submit(self, chips: np.ndarray) -> concurrent.futures.Future:
        chips = np.ascontiguousarray(chips, dtype=np.uint8)
        if chips.ndim == 3:
            chips = chips[None]
        future: concurrent.futures.Future = concurrent.futures.Future()
        with self._lock:
            if self.broken:
                raise concurrent.futures.process.BrokenProcessPool("the recognition process is gone")
            n, h, w = chips.shape[:3]
            try:
                self.proc.stdin.write(_HEADER_IN.pack(n, h, w) + chips.tobytes())
                self.proc.stdin.flush()
            except (OSError, ValueError) as exc:
                self.broken = True
                raise concurrent.futures.process.BrokenProcessPool(str(exc)) from exc
            self._pending.append(future)
        return future

    def _read(self) -> None:
        out = self.proc.stdout
        try:
            while True:
                head = out.read(_HEADER_OUT.size)
                if len(head) < _HEADER_OUT.size:
                    break
                n, dim = _HEADER_OUT.unpack(head)
                body = out.read(n * dim * 4) if dim else b""
                with self._lock:
                    future = self._pending.popleft() if self._pending else None
                if future is None:
                    continue
                if dim == 0:
                    future.set_exception(RuntimeError("the recognition process could not embed the chip"))
                else:
                    future.set_result(np.frombuffer(body, np.float32).reshape(n, dim).copy())
        finally:
            with self._lock:
                self.broken = True
                pending, self._pending = list(self._pending), collections.deque()
            for future in pending:
                future.set_exception(concurrent.futures.process.BrokenProcessPool("the recognition process exited"))

    def shutdown(self, wait: bool = False, **_: Any) -> None:
        with self._lock:
            self.broken = True
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        if wait:
            self.proc.wait(timeout=10)


def _embed_worker_main(name: str) -> int:  # the child process
    import sys

    from emotion import registry

    recognizer = registry.get_recognizer(name)
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    while True:
        head = inp.read(_HEADER_IN.size)
        if len(head) < _HEADER_IN.size:
            return 0
        n, h, w = _HEADER_IN.unpack(head)
        body = inp.read(n * h * w * 3)
        try:
            emb = np.ascontiguousarray(recognizer.embed(np.frombuffer(body, np.uint8).reshape(n, h, w, 3)),
                                       dtype=np.float32)
            out.write(_HEADER_OUT.pack(n, emb.shape[1]) + emb.tobytes())
        except Exception:  # noqa: BLE001
            log.exception("embedding failed in the recognition process")
            out.write(_HEADER_OUT.pack(n, 0))
        out.flush()


_PROC_POOLS: dict[str, EmbedProcess] = {}


def _recognizer_process(name: str) -> EmbedProcess | None:
    """The worker process embedding chips with recogniser `name`, started on first use (its model
    loads there while the stream starts); None when no process can be started here."""
    with _TWINS_LOCK:
        pool = _PROC_POOLS.get(name)
        if pool is not None and pool.broken:
            pool = None
        if pool is None:
            try:
                pool = EmbedProcess(name)
                pool.submit(np.zeros((1, 150, 150, 3), np.uint8))  # loads the model, not waited for
            except Exception:  # noqa: BLE001
                log.exception("could not start the recognition process; recognising inline")
                return None
            _PROC_POOLS[name] = pool
        return pool


@atexit.register
def _close_recognizer_processes() -> None:  # pragma: no cover - interpreter exit
    for pool in list(_PROC_POOLS.values()):
        pool.shutdown()


def _drop_recognizer_process(pool: Any) -> None:
    with _TWINS_LOCK:
        for name, p in list(_PROC_POOLS.items()):
            if p is pool:
                del _PROC_POOLS[name]
    try:
        pool.shutdown()
    except Exception:  # noqa: BLE001
        pass


def _percentile(values: Iterable[float], q: float) -> float | None:
    arr = np.fromiter(values, dtype=np.float64)
    return float(np.percentile(arr, q)) if arr.size else None


def _scale_detection(d: Detection, s: float) -> Detection:
    if s == 1.0:
        return d
    b = d.box
    box = Box(int(round(b.x * s)), int(round(b.y * s)), int(round(b.w * s)), int(round(b.h * s)))
    le = None if d.left_eye is None else (d.left_eye[0] * s, d.left_eye[1] * s)
    re = None if d.right_eye is None else (d.right_eye[0] * s, d.right_eye[1] * s)
    return Detection(box, d.confidence, le, re)


class StreamingAnalyzer:
    """Analyses a camera stream frame by frame; see the module docstring for the stages.

    analyzer: an `emotion.pipeline.Analyzer` (its stage methods detect / landmarks / embed / classify
        and its models are used; it is shared and thread-safe).
    mode: "fast" (BlazeFace on a `detect_width` px copy) or "accurate" (the Analyzer's detector every
        `accurate_every` frames, velocity-predicted boxes in between).
    gallery_provider: ``() -> Gallery | None``, called once per frame; it must be cheap (see
        `RefreshingGallery`). None: no recognition, every face is "unknown".
    history_sink: a `HistoryWriter`, or a callable ``(rows: list[dict])`` wrapped in one. None: no
        history rows.
    landmarks: compute and draw the 68 points every frame.
    fast_detector: the BlazeFace detector (default ``emotion.registry.get_detector("blazeface")``).
    clock: wall-clock seconds (``time.time``); tracks, the chart buffer and row times use it, so tests
        can drive time.
    recognition: where embeddings are computed.
        "inline" (default): in `process`, at most `max_embeds_per_frame` a frame; deterministic.
        "process": in a worker process (one per server process and recogniser, started here, its
        model loaded there through `emotion.registry`); the frame only cuts the 150x150 chip and
        the name appears a few frames later. dlib's ResNet holds the GIL for its whole forward pass
        (measured: a worker *thread* stalls the video thread as long as the embedding takes), so
        only a process takes that cost off the frames. Falls back to inline if the worker dies.
        "thread": a worker thread; useful only for recognisers that release the GIL.
    max_embeds_per_frame: at most this many embeddings per frame (1), new tracks first, so the
        recognition cost is spread over frames instead of stalling one.
    landmark_every: recompute dlib's 68 points every this many frames per track (2 by default); in
        between, the last points follow the box (translation + scale). 1: every frame.
    spread_tta: when the Analyzer's classifier averages each crop with its mirror image (fernet's
        test-time augmentation, two forward passes a face), classify one of the two per frame instead,
        alternating, with a twin of the classifier without TTA (same weights file, one per process);
        the per-track EMA does the averaging. Halves the emotion cost per frame.
    warmup: run each model once at construction (see `warmup`).
    """

    def __init__(self, analyzer: Any, *, mode: str = "fast", gallery_provider: Callable[[], Any] | None = None,
                 history_sink: HistoryWriter | Callable[[list[dict]], Any] | None = None,
                 landmarks: bool = True, fast_detector: Any = None, detect_width: int = 320,
                 accurate_every: int = 1, recognize_every_s: float = 1.5, ema_alpha: float = 0.35,
                 row_interval_s: float = 1.0, min_row_gap_s: float = 0.25, window_s: float = 60.0,
                 max_faces: int = 10, draw: bool = True, clock: Callable[[], float] = time.time,
                 tracker: Tracker | None = None, recognition: str = "inline",
                 landmark_every: int = 2, max_embeds_per_frame: int = 1, spread_tta: bool = True,
                 warmup: bool = True) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        self.analyzer = analyzer
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
        self.tracker = tracker or Tracker()
        self.landmark_every = max(1, int(landmark_every))
        self._plain_classifier = _plain_twin(getattr(analyzer, "classifier", None)) if spread_tta else None
        self.max_embeds_per_frame = max(1, int(max_embeds_per_frame))
        if recognition not in ("inline", "thread", "process"):
            raise ValueError("recognition must be 'inline', 'thread' or 'process'")
        self.recognition = recognition
        self._recog_pool: concurrent.futures.Executor | None = None
        self._recog_broken = False
        if recognition == "thread":
            self._recog_pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="emotion-live-embed")
        elif recognition == "process":
            self._recog_pool = _recognizer_process(getattr(analyzer, "recognizer_name", "Dlib"))
            if self._recog_pool is None:
                self.recognition = "inline"
        self._recog_lock = threading.Lock()
        self._recog_done: dict[int, tuple[np.ndarray | None, float]] = {}

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

    # ---- the per-frame path ------------------------------------------------------------------------

    def process(self, bgr: np.ndarray) -> tuple[np.ndarray, list[FaceRecord]]:
        """Analyse one BGR uint8 frame; returns (annotated copy, faces). Never raises for a model
        error: the frame comes back with the error written on it (see `snapshot()["error"]`)."""
        t0 = time.perf_counter()
        with self._proc_lock:
            now = self.clock()
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
            h, w = bgr.shape[:2]
            s = 1.0
            small = bgr
            if self.detect_width and w > self.detect_width:
                s = w / float(self.detect_width)
                small = cv2.resize(bgr, (self.detect_width, max(1, int(round(h / s)))), interpolation=cv2.INTER_AREA)
            dets = [_scale_detection(d, s) for d in self.fast_detector.detect(small)]
            return [Detection(d.box.clip(w, h), d.confidence, d.left_eye, d.right_eye) for d in dets]
        if self._frame_no % self.accurate_every == 0 or not self.tracker.tracks:
            return list(self.analyzer.detect(bgr))
        return None

    def _landmarks_for(self, bgr: np.ndarray, box: Box, data: dict, stage: dict) -> np.ndarray:
        """dlib's 68 points on `box`, cheaper than a photo's:

        * a new track gets the Analyzer's full two-pass fit (`Analyzer.landmarks`);
        * later frames fit once, on the box dlib's HOG detector would draw around the track's last
          points moved with its box (the second pass of the full fit, whose first pass only finds
          that box), when the Analyzer's landmarker offers ``predict(..., refine=False)``;
        * on in-between frames (see `landmark_every`) the last points just follow the box
          (translation + scale), which costs nothing.
        """
        prev, prev_box = data.get("lm"), data.get("lm_box")
        n = data.get("lm_age", 0)
        moved = None
        if prev is not None and prev_box is not None:
            sx, sy = box.w / max(prev_box.w, 1), box.h / max(prev_box.h, 1)
            if 0.8 <= sx <= 1.25 and 0.8 <= sy <= 1.25:
                moved = ((prev - (prev_box.x, prev_box.y)) * (sx, sy) + (box.x, box.y)).astype(np.float32)
        if moved is not None and n + 1 < self.landmark_every:
            data["lm_age"] = n + 1
            return moved
        t = time.perf_counter()
        landmarker = getattr(self.analyzer, "landmarker", None)
        lm = None
        if moved is not None and landmarker is not None:
            try:
                from emotion.landmarks.dlib68 import hog_like_box

                h, w = bgr.shape[:2]
                guess = hog_like_box(moved)
                if guess.x >= 0 and guess.y >= 0 and guess.x2 <= w and guess.y2 <= h and guess.w >= 8:
                    lm = landmarker.predict(bgr, guess, refine=False)
            except (ImportError, TypeError, AttributeError):
                lm = None
        if lm is None:
            lm = self.analyzer.landmarks(bgr, box)
        lm = np.asarray(lm, np.float32)
        stage["landmarks"] += (time.perf_counter() - t) * 1000.0
        # a new track starts at a phase of its own, so that several faces do not all refit on the
        # same frame
        data["lm"], data["lm_box"] = lm, box
        data["lm_age"] = 0 if prev is not None else data.get("phase", 0) % self.landmark_every
        return lm

    def _embed_job(self, track_id: int, bgr: np.ndarray, lm: np.ndarray, when: float) -> None:
        try:
            emb = np.asarray(self.analyzer.embed(bgr, lm), np.float32).reshape(-1)
        except Exception:  # noqa: BLE001 - recognition failing leaves the face "unknown"
            log.exception("embedding a live face failed")
            emb = None
        with self._recog_lock:
            self._recog_done[track_id] = (emb, when)

    def _recognize(self, bgr: np.ndarray, lm: np.ndarray, track: Any, now: float, stage: dict) -> None:
        """Start (or, inline, do) an embedding of this track's face."""
        data = track.data
        data["embed_pending"] = now
        tid = track.track_id
        t = time.perf_counter()
        if self.recognition == "process" and self._recog_pool is not None and self._recog_broken:
            log.error("the recognition process died; embedding inline from now on")
            _drop_recognizer_process(self._recog_pool)
            self._recog_pool, self.recognition = None, "inline"
        if self.recognition == "process" and self._recog_pool is not None:
            try:
                chips = self.analyzer.recognition_chips(bgr, [lm])
                future = self._recog_pool.submit(chips)
            except Exception:  # noqa: BLE001 - a dead worker: carry on inline
                log.exception("the recognition process is unusable; embedding inline from now on")
                _drop_recognizer_process(self._recog_pool)
                self._recog_pool, self.recognition = None, "inline"
            else:
                def done(f: concurrent.futures.Future) -> None:
                    try:
                        emb = np.asarray(f.result(), np.float32)[0]
                    except Exception as exc:  # noqa: BLE001
                        log.error("embedding a live face in the worker process failed: %r", exc)
                        emb = None
                        if isinstance(exc, concurrent.futures.process.BrokenProcessPool):
                            self._recog_broken = True
                    with self._recog_lock:
                        self._recog_done[tid] = (emb, now)

                future.add_done_callback(done)
                stage["embed"] += (time.perf_counter() - t) * 1000.0
                return
        if self.recognition == "thread" and self._recog_pool is not None:
            self._recog_pool.submit(self._embed_job, tid, bgr, lm, now)
            return
        self._embed_job(tid, bgr, lm, now)
        stage["embed"] += (time.perf_counter() - t) * 1000.0

    def _analyze(self, bgr: np.ndarray, now: float) -> tuple[list[FaceRecord], dict[str, float]]:
        if bgr is None or bgr.ndim != 3 or bgr.shape[2] != 3 or bgr.size == 0:
            raise ValueError("expected a BGR uint8 (H, W, 3) frame")
        h, w = bgr.shape[:2]
        stage: dict[str, float] = {"detect": 0.0, "landmarks": 0.0, "embed": 0.0, "classify": 0.0}
        t = time.perf_counter()
        dets = self._detect(bgr, now)
        self._frame_no += 1
        if dets is None:  # accurate mode, between two detections: move the live tracks
            tracks = [tr for tr in self.tracker.tracks if now - tr.last_seen <= self.tracker.max_age_s]
            pairs = [(tr, Detection(tr.predicted(now).clip(w, h), tr.data.get("confidence", 0.0)))
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
        with self._recog_lock:
            done, self._recog_done = self._recog_done, {}
        live = {tr.track_id for tr in matched}

        # which tracks get an embedding this frame: new tracks first, then the longest unrefreshed,
        # at most `max_embeds_per_frame` (dlib's ResNet holds the GIL for its whole forward pass, so
        # a worker thread cannot hide its cost; spreading the work keeps every frame short)
        want: list[tuple[bool, float, int]] = []
        for track in matched:
            data = track.data
            result = done.pop(track.track_id, None)
            if result is not None:
                data.pop("embed_pending", None)
                if result[0] is not None:
                    data["embedding"], data["embedded_at"] = result[0], result[1]
                    data.pop("identity", None)  # match it below against the current gallery
            pending = data.get("embed_pending")
            if pending is not None and now - pending > 10.0:  # a lost job: ask again
                data.pop("embed_pending", None)
                pending = None
            if has_gallery and pending is None and (
                    "embedding" not in data or now - data.get("embedded_at", -1e18) >= self.recognize_every_s):
                want.append(("embedding" in data, data.get("embedded_at", -1e18), track.track_id))
        embed_now = {tid for _, _, tid in sorted(want)[: self.max_embeds_per_frame]}

        faces: list[FaceRecord] = []
        crop_src: list[Any] = []  # per face: its landmarks, or its Detection (eye keypoints) without
        for det, track in zip(dets, matched):
            data = track.data
            data["confidence"] = det.confidence
            data.setdefault("phase", track.track_id)
            want_embed = track.track_id in embed_now
            lm = None
            if self._landmarks or want_embed:
                try:
                    lm = self._landmarks_for(bgr, det.box, data, stage)
                except (ValueError, RuntimeError) as err:  # a face cut by the frame's border, ...
                    log.debug("landmarks failed for %s: %s", det.box, err)
                    want_embed = False
            if want_embed:
                self._recognize(bgr, lm, track, now, stage)
                with self._recog_lock:  # the synchronous path has its result already
                    result = self._recog_done.pop(track.track_id, None)
                if result is not None:
                    data.pop("embed_pending", None)
                    if result[0] is not None:
                        data["embedding"], data["embedded_at"] = result[0], result[1]
                        data.pop("identity", None)
            if not has_gallery:
                identity = Identity()
                data.pop("identity", None)
            elif "embedding" in data and ("identity" not in data or gallery_changed):
                data["identity"] = gallery.match(data["embedding"])
                identity = data["identity"]
            else:
                identity = data.get("identity") or Identity()
            faces.append(FaceRecord(box=det.box, confidence=float(det.confidence),
                                    landmarks=lm if self._landmarks else None, identity=identity,
                                    track_id=track.track_id, embedding=data.get("embedding")))
            crop_src.append(lm if lm is not None else det)

        # emotion: one batched call for every face of the frame, then the per-track EMA
        if faces and getattr(self.analyzer, "classifier", True) is not None:
            t = time.perf_counter()
            if self._plain_classifier is not None:
                # TTA spread over time: the plain crop on even frames, its mirror image on odd ones;
                # the per-track EMA averages the two as the classifier's own TTA would, at half the cost
                crops = np.stack([self.analyzer.fer_crop(bgr, f) for f in crop_src])
                if self._frame_no % 2:
                    crops = np.ascontiguousarray(crops[:, :, ::-1])
                probs = np.asarray(self._plain_classifier.predict(crops), np.float32)
            elif hasattr(self.analyzer, "classify_many"):
                probs = np.asarray(self.analyzer.classify_many(bgr, crop_src), np.float32)
            else:
                probs = np.stack([np.asarray(self.analyzer.classify(bgr, f), np.float32).reshape(-1)
                                  for f in crop_src])
            for face, track, p in zip(faces, matched, probs):
                ema = track.data.get("ema")
                ema = p if ema is None else self.ema_alpha * p + (1.0 - self.ema_alpha) * ema
                ema = (ema / max(float(ema.sum()), 1e-12)).astype(np.float32)
                track.data["ema"] = ema
                face.scores = ema.copy()
            stage["classify"] = (time.perf_counter() - t) * 1000.0
        if done:  # results for tracks not on this frame: keep them for when the track comes back
            with self._recog_lock:
                for tid, res in done.items():
                    if tid not in live and self.tracker.get(tid) is not None:
                        self._recog_done.setdefault(tid, res)
        return faces, stage

    def _history_rows(self, faces: list[FaceRecord], now: float) -> list[dict]:
        """One row per track per `row_interval_s`; sooner (but not within `min_row_gap_s`) when the
        smoothed dominant emotion or the name changes. A new track's first row waits (up to
        `row_interval_s`) for its first recognition, so it is not written as "unknown" needlessly."""
        rows = []
        for f in faces:
            track = self.tracker.get(f.track_id) if f.track_id is not None else None
            if track is None:
                continue
            data = track.data
            last = data.get("row_at")
            if last is None and "embed_pending" in data and "embedding" not in data \
                    and now - track.first_seen < self.row_interval_s:
                continue
            due = last is None or now - last >= self.row_interval_s - 1e-9
            changed = (last is not None and now - last >= self.min_row_gap_s
                       and (f.dominant, f.identity.name) != data.get("row_state"))
            if due or changed:
                rows.append(make_row(f, now))
                data["row_at"], data["row_state"] = now, (f.dominant, f.identity.name)
        return rows

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
        return annotate(bgr, faces, landmarks=self._landmarks, fps=fps, extra_text=extra)

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
            latency_ms={"last": lat[-1] if lat else None, "p50": _percentile(lat, 50), "p95": _percentile(lat, 95)},
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
        with self._recog_lock:
            self._recog_done.clear()

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
        if self.recognition == "thread" and self._recog_pool is not None:
            self._recog_pool.shutdown(wait=False, cancel_futures=True)
        return ok


if __name__ == "__main__":  # `python -m emotion.stream --embed-worker NAME`: the recognition process
    import sys

    if len(sys.argv) == 3 and sys.argv[1] == "--embed-worker":
        raise SystemExit(_embed_worker_main(sys.argv[2]))
    raise SystemExit("usage: python -m emotion.stream --embed-worker RECOGNIZER_NAME")
