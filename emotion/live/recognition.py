"""Who is on a live track: the gallery refreshed in the background, and embeddings computed inline,
in a thread or in a worker process (`python -m emotion.live.worker NAME`), cached per track."""
from __future__ import annotations

import atexit
import collections
import concurrent.futures
import concurrent.futures.process
import logging
import struct
import threading
import time
from typing import Any, Callable

import numpy as np

from emotion.child_process import ChildProcess

log = logging.getLogger(__name__)

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


# ---- the recognition worker process (shared by every stream of this process) -----------------------
#
# A plain subprocess (`python -m emotion.live.worker NAME`) speaking a tiny binary protocol
# over its stdin/stdout, not multiprocessing: Streamlit runs page scripts as the `__main__` module,
# and multiprocessing's "spawn" would re-run app.py in the child.

_HEADER_IN = struct.Struct("<III")  # n, height, width of the uint8 RGB chips that follow
_HEADER_OUT = struct.Struct("<II")  # n, dim of the float32 embeddings that follow (dim 0: failed)


class EmbedProcess(ChildProcess):
    """Embeds 150x150 RGB chips in a child process holding its own copy of recogniser `name`
    (loaded there through `emotion.registry`). `submit(chips) -> Future` of float32 (N, D); requests
    are answered in order. Thread-safe. When the child dies, pending and later futures fail with
    BrokenProcessPool."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__("emotion.live.worker", name)
        self._pending: collections.deque[concurrent.futures.Future] = collections.deque()
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
        self._close_input()
        if wait:
            self.proc.wait(timeout=10)


_PROC_POOLS: dict[str, EmbedProcess] = {}
_PROC_LOCK = threading.Lock()


def _recognizer_process(name: str) -> EmbedProcess | None:
    """The worker process embedding chips with recogniser `name`, started on first use (its model
    loads there while the stream starts); None when no process can be started here."""
    with _PROC_LOCK:
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
    with _PROC_LOCK:
        for name, p in list(_PROC_POOLS.items()):
            if p is pool:
                del _PROC_POOLS[name]
    try:
        pool.shutdown()
    except Exception:  # noqa: BLE001
        pass


RECOGNITION_MODES = ("inline", "thread", "process")


class Recognition:
    """Embeddings of live tracks, computed where `mode` says (see `StreamingAnalyzer`), collected per
    track id as ``(embedding or None, asked_at)`` until the analyser takes them."""

    def __init__(self, analyzer: Any, mode: str = "inline") -> None:
        if mode not in RECOGNITION_MODES:
            raise ValueError("recognition must be 'inline', 'thread' or 'process'")
        self.analyzer = analyzer
        self.mode = mode
        self._pool: Any = None
        self._broken = False
        if mode == "thread":
            self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="emotion-live-embed")
        elif mode == "process":
            self._pool = _recognizer_process(getattr(analyzer, "recognizer_name", "Dlib"))
            if self._pool is None:
                self.mode = "inline"
        self._lock = threading.Lock()
        self._done: dict[int, tuple[np.ndarray | None, float]] = {}

    def _finish(self, track_id: int, emb: np.ndarray | None, when: float) -> None:
        with self._lock:
            self._done[track_id] = (emb, when)

    def _embed_job(self, jobs: list[tuple[int, np.ndarray]], bgr: np.ndarray, when: float) -> None:
        try:
            embs = np.asarray(self.analyzer.embed_many(bgr, [lm for _, lm in jobs]), np.float32)
            embs = embs.reshape(len(jobs), -1)
        except Exception:  # noqa: BLE001 - recognition failing leaves the faces "unknown"
            log.exception("embedding live faces failed")
            embs = [None] * len(jobs)
        for (track_id, _), emb in zip(jobs, embs):
            self._finish(track_id, emb, when)

    def _fall_back_inline(self, why: str) -> None:
        log.error(why)
        _drop_recognizer_process(self._pool)
        self._pool, self.mode = None, "inline"

    def start(self, track_id: int, bgr: np.ndarray, lm: np.ndarray, now: float) -> bool:
        """`start_many` for one face."""
        return self.start_many(bgr, [(track_id, lm)], now)

    def start_many(self, bgr: np.ndarray, jobs: list[tuple[int, np.ndarray]], now: float) -> bool:
        """Start (or, inline, do) the embeddings of several faces of one frame, ``(track_id,
        landmarks)`` each, as ONE batch (one worker round trip, one batched forward pass). True when
        the frame paid for it (inline, or cutting the chips for the process); False when a thread
        does the work."""
        if not jobs:
            return False
        if self.mode == "process" and self._pool is not None and self._broken:
            self._fall_back_inline("the recognition process died; embedding inline from now on")
        if self.mode == "process" and self._pool is not None:
            try:
                chips = self.analyzer.recognition_chips(bgr, [lm for _, lm in jobs])
                future = self._pool.submit(chips)
            except Exception:  # noqa: BLE001 - a dead worker: carry on inline
                self._fall_back_inline("the recognition process is unusable; embedding inline from now on")
            else:
                def done(f: concurrent.futures.Future) -> None:
                    try:
                        embs = list(np.asarray(f.result(), np.float32).reshape(len(jobs), -1))
                    except Exception as exc:  # noqa: BLE001
                        log.error("embedding live faces in the worker process failed: %r", exc)
                        embs = [None] * len(jobs)
                        if isinstance(exc, concurrent.futures.process.BrokenProcessPool):
                            self._broken = True
                    for (track_id, _), emb in zip(jobs, embs):
                        self._finish(track_id, emb, now)

                future.add_done_callback(done)
                return True
        if self.mode == "thread" and self._pool is not None:
            self._pool.submit(self._embed_job, list(jobs), bgr, now)
            return False
        self._embed_job(list(jobs), bgr, now)
        return True

    def busy(self) -> bool:
        """True while the worker process still has a batch in hand: the next batch waits (writing
        it now would block the frame on the pipe until the worker reads it)."""
        pending = getattr(self._pool, "_pending", None) if self.mode == "process" else None
        return bool(pending)

    def take_all(self) -> dict[int, tuple[np.ndarray | None, float]]:
        """Every finished result, removed."""
        with self._lock:
            done, self._done = self._done, {}
        return done

    def take(self, track_id: int) -> tuple[np.ndarray | None, float] | None:
        with self._lock:
            return self._done.pop(track_id, None)

    def keep(self, results: dict[int, tuple[np.ndarray | None, float]]) -> None:
        """Put results back (for tracks that are not on this frame but may come back)."""
        with self._lock:
            for tid, res in results.items():
                self._done.setdefault(tid, res)

    def clear(self) -> None:
        with self._lock:
            self._done.clear()

    def close(self) -> None:
        if self.mode == "thread" and self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
