"""History rows of a stream: the row dict (`make_row`), the store sink, and `HistoryWriter`, which
writes them in background batches and keeps them through a database outage."""
from __future__ import annotations

import atexit
import collections
import logging
import threading
import time
import uuid
import weakref
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from emotion.records import FaceRecord

log = logging.getLogger(__name__)

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


def due_rows(faces: list[FaceRecord], tracker: Any, now: float, *, row_interval_s: float, min_row_gap_s: float,
             source: str, session_id: int | None) -> list[dict]:
    """The rows due on this frame: one per track per `row_interval_s`; sooner (but not within
    `min_row_gap_s`) when the smoothed dominant emotion or the name changes. A new track's first row
    waits (up to `row_interval_s`) for its first recognition, so it is not written as "unknown"
    needlessly. A face too small to classify gets a row without scores."""
    from emotion.live.state import state_of

    rows = []
    for f in faces:
        track = tracker.get(f.track_id) if f.track_id is not None else None
        if track is None:
            continue
        st = state_of(track)
        last = st.row_at
        if last is None and st.embed_pending is not None and st.embedding is None \
                and now - track.first_seen < row_interval_s:
            continue
        due = last is None or now - last >= row_interval_s - 1e-9
        changed = (last is not None and now - last >= min_row_gap_s
                   and (f.dominant, f.identity.name) != st.row_state)
        if due or changed:
            rows.append(make_row(f, now, source=source, session_id=session_id))
            st.row_at, st.row_state = now, (f.dominant, f.identity.name)
    return rows


def make_row(face: FaceRecord, when: float | datetime, *, source: str = "camera",
             session_id: int | None = None) -> dict:
    """A history row (the dict form `Store.add_history` takes) with a fresh uuid `row_key`; it belongs
    to the classroom session `session_id` when one is given (the session running when the row was
    made: rows still buffered when the session ends or pauses keep it)."""
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
        "session_id": session_id,
    }
