"""Exports of a video's analysis: CSV of the per-sample rows, and a JSON-ready report.

CSV cells are escaped against formula injection: a text cell starting with ``= + - @``, a tab or a
carriage return gets a leading ``'`` (`emotion.csv_export.escape_cell`, shared with the history export).
Numbers are written as numbers (a negative number is not text and is left alone).
"""
from __future__ import annotations

import csv
import io
import os
from typing import Any, Iterable, TextIO

from emotion.csvsafe import escape_cell  # the one escaping every export uses
from emotion.records import EMOTIONS

__all__ = ["CSV_COLUMNS", "escape_cell", "csv_rows", "write_csv", "csv_bytes", "report"]

CSV_COLUMNS = ("time_s", "frame", "track", "person", "x", "y", "w", "h", *EMOTIONS, "dominant")


def csv_rows(result) -> Iterable[list[Any]]:
    names = result.person_names()
    for r in result.rows:
        scores = list(r.scores) if r.scores else [""] * len(EMOTIONS)
        yield [f"{r.time_s:.3f}", r.frame, r.track, escape_cell(names.get(r.track, r.name)), *r.box,
               *[f"{s:.4f}" if s != "" else "" for s in scores], escape_cell(r.dominant or "")]


def write_csv(result, out: str | os.PathLike | TextIO) -> int:
    """Write the rows (header first) to a path or an open text file; returns the number of rows."""
    def _write(fh: TextIO) -> int:
        w = csv.writer(fh)
        w.writerow(CSV_COLUMNS)
        n = 0
        for row in csv_rows(result):
            w.writerow(row)
            n += 1
        return n

    if hasattr(out, "write"):
        return _write(out)  # type: ignore[arg-type]
    with open(out, "w", newline="", encoding="utf-8") as fh:
        return _write(fh)


def csv_bytes(result) -> bytes:
    buf = io.StringIO()
    write_csv(result, buf)
    return buf.getvalue().encode("utf-8")


def report(result) -> dict[str, Any]:
    """Everything but the rows, JSON-ready: video, run, per-person summary, segments, distribution."""
    from dataclasses import asdict

    from emotion.video.summary import distribution, person_summary, segments

    names = result.person_names()
    info = asdict(result.info)
    return {
        "video": info,
        "rate": result.rate, "mode": result.mode, "samples": result.samples,
        "frames_decoded": result.frames_decoded, "cancelled": result.cancelled, "truncated": result.truncated,
        "errors": result.errors, "elapsed_s": round(result.elapsed_s, 3),
        "speed_x_real_time": None if result.speed is None else round(result.speed, 2),
        "people": person_summary(result.rows, names, result.rate),
        "segments": [asdict(s) for s in segments(result.rows, names, result.rate)],
        "distribution": distribution(result.rows),
    }
