"""The Video page's side of the job runner: saving an upload, one process-wide `VideoJobs`, limits.

* `save_upload(uploaded)`: the upload copied to a temporary file in 1 MB pieces while its SHA-256 is
  computed (the digest is the video's key: one job and one history entry per user and file); cached
  in the session per upload, so a rerun does not copy it again.
* `jobs()`: one `emotion.video.jobs.VideoJobs` per server process (``st.cache_resource``): one video
  analysed at a time (two cores), abandoned jobs (no page polled them for `ABANDON_AFTER_S`)
  cancelled, so leaving the page never leaves a decoder running.
* `max_upload_mb()`: ``EMOTION_VIDEO_MAX_MB`` or ``[video] max_upload_mb`` in st.secrets, else 500;
  Streamlit's own ceiling (``server.maxUploadSize`` in .streamlit/config.toml) is set to match.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from typing import Any

import streamlit as st

from ui.app_config import secret

DEFAULT_MAX_UPLOAD_MB = 500
DEFAULT_MAX_DURATION_S = 2 * 3600.0
VIDEO_TYPES = ["mp4", "mov", "webm", "avi", "mkv", "m4v"]
#: a job no page asked about for this long is cancelled (the page polls every second)
ABANDON_AFTER_S = 30.0
UPLOAD_KEY = "video_upload_saved"


def max_upload_mb() -> int:
    raw = os.environ.get("EMOTION_VIDEO_MAX_MB") or secret("video", "max_upload_mb")
    try:
        return max(1, int(float(raw))) if raw not in (None, "") else DEFAULT_MAX_UPLOAD_MB
    except (TypeError, ValueError):
        return DEFAULT_MAX_UPLOAD_MB


def max_duration_s() -> float:
    raw = os.environ.get("EMOTION_VIDEO_MAX_DURATION_S") or secret("video", "max_duration_s")
    try:
        return max(1.0, float(raw)) if raw not in (None, "") else DEFAULT_MAX_DURATION_S
    except (TypeError, ValueError):
        return DEFAULT_MAX_DURATION_S


@st.cache_resource(show_spinner=False)
def jobs():
    from emotion.video.jobs import VideoJobs

    return VideoJobs(max_running=1, abandon_after_s=ABANDON_AFTER_S, keep=8)


def save_upload(uploaded: Any) -> tuple[str, str]:
    """(path of a temporary copy, SHA-256 hex digest) of a Streamlit UploadedFile, once per upload."""
    saved: dict = st.session_state.setdefault(UPLOAD_KEY, {})
    key = getattr(uploaded, "file_id", None) or (uploaded.name, uploaded.size)
    hit = saved.get(key)
    if hit is not None and os.path.exists(hit[0]):
        return hit
    suffix = os.path.splitext(uploaded.name or "")[1].lower()[:8]
    if suffix.lstrip(".") not in VIDEO_TYPES:
        suffix = ".bin"  # the content decides, not the name
    h = hashlib.sha256()
    fd, path = tempfile.mkstemp(prefix="emotion-upload-", suffix=suffix)
    uploaded.seek(0)
    with os.fdopen(fd, "wb") as out:
        while True:
            chunk = uploaded.read(1 << 20)
            if not chunk:
                break
            h.update(chunk)
            out.write(chunk)
    # one saved copy per session: an earlier upload's copy belongs to its job (or is dropped here)
    for old_key, (old_path, _) in list(saved.items()):
        if old_key != key:
            saved.pop(old_key)
            if not jobs().owns(old_path):
                _remove(old_path)
    saved[key] = (path, h.hexdigest())
    return saved[key]


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass
