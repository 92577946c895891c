"""Video jobs behind a small interface: ``submit / progress / cancel / result``.

`VideoJobs` is the in-process runner: each job runs `work(job)` (by default `analyse_video`) in a
daemon thread; at most `max_running` analyse at once (the others wait, state "queued"). A different
runner (Celery or RQ workers on other machines) can stand behind the same four calls.

* One job per key (the page uses ``(user id, file digest)``): submitting a key whose job is queued,
  running, or finished with the same parameters returns that job, so a rerun of the page or a second
  tab never starts it twice. New parameters for a finished key replace it; for a running one, the
  running job is returned (cancel it first).
* `cancel(job_id)` sets the job's event; the analysis checks it before every sample and stops within
  one sample (well under a second at 640x480), keeping what it analysed (state "cancelled").
* Abandoned jobs: with `abandon_after_s`, a job nobody asked `progress` or `result` of for that long
  is cancelled (the page polls every second; a closed tab stops polling), so leaving the page never
  leaves a decoder running. The decoder is closed by the analysis on every way out.
* Finished jobs are kept (at most `keep` of them, oldest dropped first, their temporary files
  removed) for `result`.
"""
from __future__ import annotations

import logging
import os
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from emotion.video.analyse import Progress
from emotion.video.errors import VideoError

log = logging.getLogger(__name__)

STATES = ("queued", "running", "done", "cancelled", "failed")
FINAL = ("done", "cancelled", "failed")


@dataclass
class Job:
    id: str
    key: tuple
    path: str
    params: dict[str, Any]
    state: str = "queued"
    progress: Progress = field(default_factory=Progress)
    result: Any = None
    error: VideoError | None = None  #: bad input (typed, translated by the UI)
    failure: str | None = None  #: an unexpected failure (logged with its traceback)
    submitted_at: float = field(default_factory=time.monotonic)
    finished_at: float | None = None
    polled_at: float = field(default_factory=time.monotonic)
    cancel_event: threading.Event = field(default_factory=threading.Event)
    workdir: str | None = None  #: removed with the job (the annotated MP4 lives there)
    #: objects the work needs that are not part of the job's identity (the Analyzer, the gallery)
    context: dict[str, Any] = field(default_factory=dict)
    own_file: bool = False
    thread: threading.Thread | None = None

    @property
    def final(self) -> bool:
        return self.state in FINAL

    def view(self) -> dict[str, Any]:
        p = self.progress
        return {"id": self.id, "state": self.state, "samples": p.samples, "expected": p.expected,
                "video_time_s": p.video_time_s, "duration_s": p.duration_s, "fraction": p.fraction,
                "elapsed_s": p.elapsed_s, "eta_s": p.eta_s,
                "error_code": None if self.error is None else self.error.code,
                "error_params": None if self.error is None else dict(self.error.params),
                "failure": self.failure}


def _default_work(job: Job, analyzer_factory: Callable[[], Any], gallery_provider: Callable[[], Any] | None) -> Any:
    from emotion.video.analyse import analyse_video

    params = dict(job.params)
    out = params.pop("annotate", True)
    out_path = os.path.join(job.workdir, "annotated.mp4") if (out and job.workdir) else None
    gallery = job.context.get("gallery")
    if gallery is None and gallery_provider is not None:
        gallery = gallery_provider()
    analyzer = job.context.get("analyzer")
    if analyzer is None:
        analyzer = analyzer_factory()

    def on_progress(p: Progress) -> None:
        job.progress = Progress(p.samples, p.expected, p.video_time_s, p.duration_s, p.elapsed_s)

    return analyse_video(job.path, analyzer, gallery=gallery, out_path=out_path,
                         cancel=job.cancel_event, on_progress=on_progress, **params)


class VideoJobs:
    def __init__(self, analyzer_factory: Callable[[], Any] = lambda: None, *,
                 gallery_provider: Callable[[], Any] | None = None,
                 work: Callable[[Job], Any] | None = None, max_running: int = 1,
                 abandon_after_s: float | None = None, keep: int = 8, tmp_root: str | None = None) -> None:
        if work is None:
            work = lambda job: _default_work(job, analyzer_factory, gallery_provider)  # noqa: E731
        self._work = work
        self._slots = threading.Semaphore(max(1, int(max_running)))
        self.abandon_after_s = abandon_after_s
        self.keep = max(1, int(keep))
        self.tmp_root = tmp_root
        self._jobs: dict[str, Job] = {}
        self._by_key: dict[tuple, str] = {}
        self._lock = threading.Lock()
        self._watchdog: threading.Thread | None = None

    # ---- the interface ---------------------------------------------------------------------------

    def submit(self, key: tuple, path: str | os.PathLike, params: dict[str, Any] | None = None, *,
               own_file: bool = False, context: dict[str, Any] | None = None) -> str:
        """Start (or find) the job for `key`; returns its id. `params`: keyword arguments of
        `analyse_video` (rate, mode, max_duration_s, ...; ``annotate``: write the annotated MP4),
        part of the job's identity. `context`: ``analyzer`` / ``gallery`` to use (not part of it).
        `own_file`: the runner deletes `path` when the job is dropped (a saved upload)."""
        params = dict(params or {})
        with self._lock:
            jid = self._by_key.get(key)
            old = self._jobs.get(jid) if jid else None
            if old is not None and (not old.final or (old.params == params and old.state != "failed")):
                old.polled_at = time.monotonic()
                if own_file and str(path) != old.path:
                    _remove(str(path))
                return old.id
            if old is not None:
                self._drop(old)
            import tempfile

            job = Job(id=uuid.uuid4().hex, key=key, path=str(path), params=params,
                      workdir=tempfile.mkdtemp(prefix="emotion-video-", dir=self.tmp_root),
                      context=dict(context or {}), own_file=own_file)
            self._jobs[job.id] = job
            self._by_key[key] = job.id
            job.thread = threading.Thread(target=self._run, args=(job,), name=f"emotion-video-{job.id[:8]}",
                                          daemon=True)
            job.thread.start()
            self._trim()
        self._ensure_watchdog()
        return job.id

    def progress(self, job_id: str) -> dict[str, Any] | None:
        job = self._jobs.get(job_id)
        if job is None:
            return None
        job.polled_at = time.monotonic()
        return job.view()

    def cancel(self, job_id: str) -> bool:
        """Ask the job to stop; True when it was queued or running."""
        job = self._jobs.get(job_id)
        if job is None or job.final:
            return False
        job.cancel_event.set()
        return True

    def result(self, job_id: str) -> Any:
        """The `VideoResult` of a finished (or cancelled) job, else None."""
        job = self._jobs.get(job_id)
        if job is None:
            return None
        job.polled_at = time.monotonic()
        return job.result if job.final else None

    def job(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def find(self, key: tuple) -> str | None:
        with self._lock:
            return self._by_key.get(key)

    def wait(self, job_id: str, timeout: float | None = None) -> bool:
        """Block until the job is final (for the CLI and tests). True when it is."""
        job = self._jobs.get(job_id)
        if job is None or job.thread is None:
            return False
        job.thread.join(timeout)
        return job.final

    def owns(self, path: str | os.PathLike) -> bool:
        """Whether a kept job reads `path` (and will remove it when dropped)."""
        p = str(path)
        return any(j.path == p and j.own_file for j in list(self._jobs.values()))

    def running(self) -> list[str]:
        return [j.id for j in list(self._jobs.values()) if not j.final]

    def shutdown(self, timeout: float = 5.0) -> None:
        for job in list(self._jobs.values()):
            job.cancel_event.set()
        for job in list(self._jobs.values()):
            if job.thread is not None:
                job.thread.join(timeout)
        with self._lock:
            for job in list(self._jobs.values()):
                self._drop(job)

    # ---- internals -------------------------------------------------------------------------------

    def _run(self, job: Job) -> None:
        with self._slots:
            if job.cancel_event.is_set():
                job.state, job.finished_at = "cancelled", time.monotonic()
                return
            job.state = "running"
            try:
                result = self._work(job)
                job.result = result
                job.state = "cancelled" if getattr(result, "cancelled", False) else "done"
            except VideoError as err:
                job.error, job.state = err, "failed"
            except Exception as exc:  # noqa: BLE001 - reported to the page, never raised there
                log.exception("video job %s failed", job.id)
                job.failure, job.state = f"{type(exc).__name__}: {exc}", "failed"
            finally:
                job.finished_at = time.monotonic()

    def _drop(self, job: Job) -> None:
        """Forget a job (lock held): cancel it and remove its files."""
        job.cancel_event.set()
        self._jobs.pop(job.id, None)
        if self._by_key.get(job.key) == job.id:
            del self._by_key[job.key]
        if job.workdir:
            threading.Thread(target=_cleanup_after, args=(job,), daemon=True).start()

    def _trim(self) -> None:
        done = sorted((j for j in self._jobs.values() if j.final), key=lambda j: j.finished_at or 0)
        for job in done[:max(0, len(done) - self.keep)]:
            self._drop(job)

    def _ensure_watchdog(self) -> None:
        if self.abandon_after_s is None:
            return
        with self._lock:
            if self._watchdog is not None and self._watchdog.is_alive():
                return
            self._watchdog = threading.Thread(target=self._watch, name="emotion-video-watchdog", daemon=True)
            self._watchdog.start()

    def _watch(self) -> None:
        while True:
            time.sleep(min(1.0, self.abandon_after_s / 4))
            live = [j for j in list(self._jobs.values()) if not j.final]
            if not live:
                return
            now = time.monotonic()
            for job in live:
                if now - job.polled_at > self.abandon_after_s and not job.cancel_event.is_set():
                    log.info("video job %s abandoned (not polled for %.0f s): cancelled", job.id, now - job.polled_at)
                    job.cancel_event.set()


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


def _cleanup_after(job: Job) -> None:
    if job.thread is not None:
        job.thread.join()
    if job.workdir:
        shutil.rmtree(job.workdir, ignore_errors=True)
    if job.own_file:
        _remove(job.path)
