"""Comparisons in a child process (``python -m emotion.compare.worker``), for the app.

Why a process: TensorFlow's detectors (mtcnn, retinaface) hung in their first inference when run in
a background thread of the Streamlit server (seen in the browser test; the same code finishes in a
plain process and under AppTest), and a comparison loads every model there is, which the server
itself does not need to hold. The child keeps its models and the comparison cache (`DEFAULT_CACHE`)
between jobs, so a rerun or a changed setting still recomputes only what changed.

Protocol: length-prefixed pickle frames, only between this process and the child it started (never
from users). Parent -> child: ``("job", id, photos, same, options)``, ``("cancel", id)``. Child ->
parent: ``(id, "progress", (done, total, stage, label))``, ``(id, "result", CompareResult)``,
``(id, "error", (code, message, params))``. The child writes frames to a private copy of its stdout
and sends fd 1 to stderr, so that libraries printing to stdout cannot break the stream. A plain
subprocess (not multiprocessing's spawn), as for the live recognition worker: Streamlit runs page
scripts as ``__main__``, which spawn would re-run in the child.
"""
from __future__ import annotations

import atexit
import itertools
import logging
import os
import pickle
import queue
import struct
import sys
import threading
from typing import Any, BinaryIO, Callable

from emotion.child_process import ChildProcess

log = logging.getLogger(__name__)

_FRAME = struct.Struct("<Q")
#: environment that changes what the child sees (model folders, limits): a change restarts it
_ENV_PREFIXES = ("EMOTION_", "DEEPFACE_", "FER2013_")


def write_frame(fh: BinaryIO, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    fh.write(_FRAME.pack(len(data)) + data)
    fh.flush()


def read_frame(fh: BinaryIO) -> Any | None:
    """The next frame, or None at the end of the stream."""
    head = fh.read(_FRAME.size)
    if len(head) < _FRAME.size:
        return None
    (n,) = _FRAME.unpack(head)
    body = fh.read(n)
    if len(body) < n:
        return None
    return pickle.loads(body)  # noqa: S301 - frames come only from our own parent/child process


# ----------------------------------------------------------------------------- the child
def serve(inp: BinaryIO, out: BinaryIO) -> None:
    from emotion.compare.engine import CompareError, compare

    jobs: queue.Queue = queue.Queue()
    cancelled: set[int] = set()
    write_lock = threading.Lock()

    def send(obj: Any) -> None:
        with write_lock:
            write_frame(out, obj)

    def reader() -> None:
        while True:
            frame = read_frame(inp)
            if frame is None:
                jobs.put(None)
                return
            if frame[0] == "cancel":
                cancelled.add(frame[1])
            elif frame[0] == "job":
                jobs.put(frame)

    threading.Thread(target=reader, name="compare-worker-reader", daemon=True).start()
    while True:
        frame = jobs.get()
        if frame is None:
            return
        _, jid, photos, same, options = frame

        def progress(done: int, total: int, stage: str, label: str, jid: int = jid) -> None:
            send((jid, "progress", (done, total, stage, label)))

        try:
            result = compare(photos, same, options, progress=progress, cancel=lambda jid=jid: jid in cancelled)
            send((jid, "result", result))
        except CompareError as err:
            send((jid, "error", (err.code, str(err), err.params)))
        except Exception as err:  # noqa: BLE001 - reported to the page, which shows a message
            log.exception("comparison failed")
            send((jid, "error", ("internal", f"{type(err).__name__}: {err}", {"detail": f"{type(err).__name__}: {err}"})))
        finally:
            del photos
            cancelled.discard(jid)


def main() -> None:
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed to stdout from now on goes to stderr
    sys.stdout = sys.stderr
    logging.basicConfig(level=logging.WARNING)
    serve(sys.stdin.buffer, out)


# ----------------------------------------------------------------------------- the parent
OnMessage = Callable[[str, Any], None]


class WorkerProcess(ChildProcess):
    """The child process and a reader thread that hands its frames to each job's callback."""

    def __init__(self) -> None:
        self.env_key = env_key()
        super().__init__("emotion.compare.worker")
        self._handlers: dict[int, OnMessage] = {}
        threading.Thread(target=self._read, name="compare-worker-parent-reader", daemon=True).start()

    def submit(self, jid: int, photos: Any, same: Any, options: Any, on_message: OnMessage) -> None:
        with self._lock:
            if self.broken:
                raise RuntimeError("the comparison process is gone")
            self._handlers[jid] = on_message
            try:
                write_frame(self.proc.stdin, ("job", jid, photos, same, options))
            except (OSError, ValueError) as err:
                self.broken = True
                self._handlers.pop(jid, None)
                raise RuntimeError(f"the comparison process is gone: {err}") from err

    def cancel(self, jid: int) -> None:
        with self._lock:
            if not self.broken:
                try:
                    write_frame(self.proc.stdin, ("cancel", jid))
                except (OSError, ValueError):
                    self.broken = True

    def forget(self, jid: int) -> None:
        with self._lock:
            self._handlers.pop(jid, None)

    def _read(self) -> None:
        try:
            while True:
                frame = read_frame(self.proc.stdout)
                if frame is None:
                    break
                jid, kind, payload = frame
                with self._lock:
                    handler = self._handlers.get(jid)
                if handler is not None:
                    handler(kind, payload)
        except Exception:  # noqa: BLE001 - a broken stream ends the process's use
            log.exception("comparison process stream broken")
        finally:
            with self._lock:
                self.broken = True
                handlers, self._handlers = list(self._handlers.values()), {}
            for handler in handlers:
                handler("error", ("internal", "the comparison process stopped", {"detail": "the process stopped"}))

    def close(self) -> None:
        self._close_input()


def env_key() -> tuple:
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(_ENV_PREFIXES)))


_WORKER: WorkerProcess | None = None
_WORKER_LOCK = threading.Lock()
_IDS = itertools.count(1)


def get_worker() -> WorkerProcess:
    """The server's comparison process, (re)started when missing, broken, or its environment changed."""
    global _WORKER
    with _WORKER_LOCK:
        if _WORKER is not None and (_WORKER.broken or _WORKER.proc.poll() is not None or _WORKER.env_key != env_key()):
            _WORKER.close()
            _WORKER = None
        if _WORKER is None:
            _WORKER = WorkerProcess()
        return _WORKER


def next_id() -> int:
    return next(_IDS)


@atexit.register
def _close_worker() -> None:  # pragma: no cover - interpreter exit
    if _WORKER is not None:
        _WORKER.close()


if __name__ == "__main__":
    main()
