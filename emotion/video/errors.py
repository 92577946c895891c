"""Typed errors of the video engine: one `VideoError(code, **params)` per kind of bad input.

The UI translates `code` (EN/zh, see the Video page's i18n); the CLI prints `message`. Codes:

=================  ==================================================================
not_a_video        the file is not a video container FFmpeg can read (an image, text, ...)
damaged            an MP4/MOV/WebM/... whose header says video but that cannot be opened
                   (truncated before its index, corrupted)
no_video_stream    a container without a video stream (audio-only, subtitles, ...)
zero_frames        a video header without one decodable frame (an empty or cut recording)
too_long           longer than the configured limit (``max_duration_s``)
too_large          a file larger than the configured limit (``max_bytes``)
unreadable         the file cannot be read at all (missing, permission)
bad_option         a rate / mode outside the supported values
=================  ==================================================================
"""
from __future__ import annotations

from typing import Any

try:  # the refactor (issue 12) brings one base class for every engine error
    from emotion.errors import EngineError as _Base  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - until emotion/errors.py lands
    class _Base(Exception):  # type: ignore[no-redef]
        def __init__(self, code: str, **params: Any) -> None:
            self.code = code
            self.params = params
            super().__init__(code)

CODES = ("not_a_video", "damaged", "no_video_stream", "zero_frames", "too_long", "too_large",
         "unreadable", "bad_option")

_MESSAGES = {
    "not_a_video": "{name} is not a video file FFmpeg can read",
    "damaged": "{name} looks like a video but is damaged or truncated (its index cannot be read)",
    "no_video_stream": "{name} has no video stream (audio only?)",
    "zero_frames": "{name} holds no decodable frame (an empty or cut recording)",
    "too_long": "{name} lasts {duration_s:.0f} s; the limit is {limit_s:.0f} s",
    "too_large": "{name} is {size_mb:.0f} MB; the limit is {limit_mb:.0f} MB",
    "unreadable": "{name} cannot be read: {reason}",
    "bad_option": "{option} must be one of {allowed}, not {value!r}",
}


class VideoError(_Base):
    """Bad input for the video engine. ``code`` is one of `CODES`; ``params`` fill the message."""

    def __init__(self, code: str, **params: Any) -> None:
        if code not in CODES:
            raise ValueError(f"unknown video error code {code!r}")
        super().__init__(code, **params)
        self.code = code
        self.params = dict(params)

    @property
    def message(self) -> str:
        try:
            return _MESSAGES[self.code].format(**self.params)
        except (KeyError, ValueError, IndexError):
            return f"{self.code}: {self.params}"

    def __str__(self) -> str:
        return self.message
