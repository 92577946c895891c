"""What a video's rows say, per person: summary, segments, overall distribution, timelines.

Rows are `VideoRow`s (one per sample and face). A person is a name when the track was recognised
(`VideoResult.person_names`: the name a track got most often; one person on two tracks, e.g. after
leaving the frame, is one person), else ``unknown #<track>``.

* `person_summary`: per person, first/last time seen, seconds seen, samples, mean scores, the
  dominant emotion of the mean;
* `segments`: per person, stretches of one dominant emotion (person, from, to, dominant, mean
  scores). A stretch ends at a change of the smoothed dominant emotion or a gap longer than
  `max_gap_s`; stretches shorter than `min_segment_s` are merged into the one before them (the
  smoothing already damps flicker; this keeps the table readable);
* `distribution`: mean scores over every row and the share of rows per dominant emotion.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from emotion.records import EMOTIONS


@dataclass(frozen=True)
class Segment:
    person: str
    start_s: float
    end_s: float
    dominant: str
    mean: dict[str, float]
    samples: int


def _interval(times: Sequence[float], rate: float | None) -> float:
    if rate:
        return 1.0 / rate
    if len(times) > 1:
        d = np.diff(np.asarray(sorted(set(times)), np.float64))
        return float(np.median(d)) if d.size else 0.0
    return 0.0


def _mean(rows) -> dict[str, float]:
    scored = [r.scores for r in rows if r.scores]
    if not scored:
        return {e: 0.0 for e in EMOTIONS}
    m = np.mean(np.asarray(scored, np.float64), axis=0)
    return {e: round(float(v), 4) for e, v in zip(EMOTIONS, m)}


def _dominant(mean: dict[str, float]) -> str:
    return max(EMOTIONS, key=lambda e: mean.get(e, 0.0)) if any(mean.values()) else ""


def by_person(rows: Iterable, names: dict[int, str]) -> dict[str, list]:
    """Rows grouped by person label, each group in time order."""
    groups: dict[str, list] = {}
    for r in rows:
        groups.setdefault(names.get(r.track, f"unknown #{r.track}"), []).append(r)
    for g in groups.values():
        g.sort(key=lambda r: (r.time_s, r.track))
    return dict(sorted(groups.items()))


def person_summary(rows: Sequence, names: dict[int, str], rate: float | None = None) -> list[dict]:
    step = _interval([r.time_s for r in rows], rate)
    out = []
    for person, g in by_person(rows, names).items():
        mean = _mean(g)
        times = sorted({r.time_s for r in g})
        out.append({"person": person, "tracks": sorted({r.track for r in g}), "first_s": times[0],
                    "last_s": times[-1], "seen_s": round(len(times) * step, 3), "samples": len(times),
                    "dominant": _dominant(mean), "mean": mean})
    return out


def segments(rows: Sequence, names: dict[int, str], rate: float | None = None, *,
             max_gap_s: float | None = None, min_segment_s: float = 1.0) -> list[Segment]:
    step = _interval([r.time_s for r in rows], rate)
    gap = max_gap_s if max_gap_s is not None else max(1.0, 2.5 * step)
    out: list[Segment] = []
    for person, g in by_person(rows, names).items():
        runs: list[list] = []
        for r in g:
            if not r.dominant:
                continue
            if runs and runs[-1][-1].dominant == r.dominant and r.time_s - runs[-1][-1].time_s <= gap:
                runs[-1].append(r)
            else:
                runs.append([r])
        merged: list[list] = []
        for run in runs:
            dur = run[-1].time_s - run[0].time_s + step
            if merged and dur < min_segment_s and run[0].time_s - merged[-1][-1].time_s <= gap:
                merged[-1].extend(run)
            else:
                merged.append(run)
        for run in merged:
            mean = _mean(run)
            dom = _dominant(mean)
            seg = Segment(person, run[0].time_s, round(run[-1].time_s + step, 4), dom, mean, len(run))
            if out and out[-1].person == person and out[-1].dominant == dom and seg.start_s - out[-1].end_s <= gap:
                prev = out.pop()
                n = prev.samples + seg.samples
                mean = {e: round((prev.mean[e] * prev.samples + seg.mean[e] * seg.samples) / n, 4) for e in EMOTIONS}
                seg = Segment(person, prev.start_s, seg.end_s, dom, mean, n)
            out.append(seg)
    return out


def distribution(rows: Sequence) -> dict[str, dict[str, float]]:
    """{"mean": mean scores over all rows, "share": fraction of rows per dominant emotion}."""
    n = sum(1 for r in rows if r.dominant)
    share = {e: 0.0 for e in EMOTIONS}
    for r in rows:
        if r.dominant:
            share[r.dominant] += 1.0 / n
    return {"mean": _mean(rows), "share": {e: round(v, 4) for e, v in share.items()}}


def timelines(rows: Sequence, names: dict[int, str]) -> dict[str, dict[str, list[float]]]:
    """Per person: {"time": [...], <emotion>: [...]} for a chart (one line per emotion). Two tracks
    of one person at the same time (should not happen) keep both points."""
    out = {}
    for person, g in by_person(rows, names).items():
        g = [r for r in g if r.scores]
        d = {"time": [r.time_s for r in g]}
        for i, e in enumerate(EMOTIONS):
            d[e] = [float(r.scores[i]) for r in g]
        out[person] = d
    return out
