"""A classroom session's report figures, as pure functions of its history rows (no Streamlit, no Plotly).

Input: the session's rows as `Store.session_frame` / `history_frame` gives them (columns ``time``,
``source``, ``person``, ``person_id``, ``track``, ``media_digest``, the seven scores, ``dominant``).

* Who: a recognised person by name; an unknown face per track ("unknown 1", "unknown 2", numbered by
  first appearance), never merged into one "unknown". A track that was recognised at some point gives
  its name to its earlier unknown rows (the name arrives a moment after the face).
* Time: each row stands for the time until the same track's next row, capped at `max_gap_s` (a face
  that left does not count while away); a track's last row counts `row_s`.
* Too small: rows without scores (a face too small to classify) count towards a person's time seen
  (``too_small_s``) but never towards an emotion.
* The class: per time bin (`bin_s`, one minute for long sessions), the mean scores over every scored
  row and the share of time in each dominant emotion; the moments where the class changed are the
  bins with the largest shift of the mean scores from the bin before (total variation distance,
  half the L1 distance of the two score vectors: 0 = the same, 1 = nothing in common).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from emotion.records import EMOTIONS, UNKNOWN

#: bin sizes (seconds) the report picks from; one minute once the session is long enough
BIN_CHOICES = (1, 2, 5, 10, 15, 30, 60)


def auto_bin_s(duration_s: float, *, min_bins: int = 10) -> int:
    """One minute for a session of `min_bins` minutes or more, else the largest of `BIN_CHOICES` that
    still gives `min_bins` bins (1 s at least)."""
    for b in reversed(BIN_CHOICES):
        if duration_s / b >= min_bins:
            return b
    return 1


def _track_key(row: Any) -> tuple:
    """A track is unique per source and file (a video's track 1 is not the camera's track 1)."""
    track = row["track"]
    return (row["source"], row.get("media_digest") or "", -1 if pd.isna(track) else int(track))


def prepare(df: pd.DataFrame, *, started: datetime | None = None, max_gap_s: float = 2.0,
            row_s: float = 1.0, unknown_label: str = UNKNOWN) -> pd.DataFrame:
    """The rows, oldest first, with ``who`` (see the module docstring; unknown faces are
    ``f"{unknown_label} {n}"``, the label translated by the caller), ``t_s`` (seconds from `started`,
    else from the first row), ``weight_s`` (seconds the row stands for) and ``scored``."""
    if df.empty:
        return df.assign(who=pd.Series(dtype=object), t_s=pd.Series(dtype=float),
                         weight_s=pd.Series(dtype=float), scored=pd.Series(dtype=bool))
    # first appearance decides the order (and the unknowns' numbers); faces of one instant by track
    d = df.assign(_t=df["track"].fillna(-1)).sort_values(["time", "_t"], kind="stable")
    d = d.drop(columns=["_t"]).reset_index(drop=True)
    origin = pd.Timestamp(started) if started is not None else d["time"].iloc[0]
    if origin.tzinfo is None:
        origin = origin.tz_localize("UTC")
    d["t_s"] = (d["time"] - origin).dt.total_seconds().astype(float)
    keys = [_track_key(r) for r in d.to_dict("records")]
    d["_key"] = keys
    known = d["person"].fillna(UNKNOWN).astype(str).ne(UNKNOWN)
    # a track's name: the name it was recognised under most often (ties: the first seen)
    track_name: dict[tuple, str] = {}
    for key, grp in d[known].groupby("_key", sort=False):
        counts = grp["person"].value_counts(sort=False)
        track_name[key] = str(counts.idxmax())
    unknown_no: dict[tuple, int] = {}
    who = []
    for key, is_known, name in zip(d["_key"], known, d["person"]):
        if is_known:
            who.append(str(name))
        elif key in track_name:
            who.append(track_name[key])
        else:
            unknown_no.setdefault(key, len(unknown_no) + 1)
            who.append(f"{unknown_label} {unknown_no[key]}")
    d["who"] = who
    nxt = d.groupby("_key", sort=False)["t_s"].shift(-1)
    d["weight_s"] = (nxt - d["t_s"]).clip(lower=0.0, upper=max_gap_s).fillna(row_s).astype(float)
    d["scored"] = d[list(EMOTIONS)].notna().all(axis=1)
    return d.drop(columns=["_key"])


def person_shares(p: pd.DataFrame) -> pd.DataFrame:
    """Per person (index ``who``, in order of first appearance): the share of their scored time in
    each dominant emotion (columns EMOTIONS, rows sum to 1), ``seen_s`` (seconds seen) and
    ``too_small_s`` (seconds seen too small to classify)."""
    cols = [*EMOTIONS, "seen_s", "too_small_s"]
    if p.empty:
        return pd.DataFrame(columns=cols, dtype=float).rename_axis("who")
    order = list(dict.fromkeys(p["who"]))
    out = []
    for who in order:
        g = p[p["who"] == who]
        s = g[g["scored"]]
        total = float(s["weight_s"].sum())
        shares = [float(s.loc[s["dominant"] == e, "weight_s"].sum()) / total if total > 0 else 0.0
                  for e in EMOTIONS]
        out.append([*shares, float(g["weight_s"].sum()), float(g.loc[~g["scored"], "weight_s"].sum())])
    return pd.DataFrame(out, index=pd.Index(order, name="who"), columns=cols)


def person_timelines(p: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per person: their rows' ``t_s``, seven scores (NaN when too small) and ``dominant``."""
    return {who: g[["t_s", *EMOTIONS, "dominant"]].reset_index(drop=True)
            for who, g in p.groupby("who", sort=False)}


def _bins(p: pd.DataFrame, bin_s: float) -> pd.Series:
    return (np.floor(p["t_s"].to_numpy() / bin_s) * bin_s).astype(float)


def class_means(p: pd.DataFrame, bin_s: float) -> pd.DataFrame:
    """Per bin (index: the bin's start in seconds): the class's mean scores over its scored rows,
    each row weighted by the time it stands for. Bins without a scored row are left out."""
    s = p[p["scored"]] if not p.empty else p
    if s.empty:
        return pd.DataFrame(columns=list(EMOTIONS), dtype=float).rename_axis("t_s")
    s = s.assign(_bin=_bins(s, bin_s))
    rows = {}
    for b, g in s.groupby("_bin", sort=True):
        wg = g["weight_s"].to_numpy(np.float64)
        scores = g[list(EMOTIONS)].to_numpy(np.float64)
        rows[float(b)] = (scores * wg[:, None]).sum(axis=0) / max(wg.sum(), 1e-12)
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(EMOTIONS)).rename_axis("t_s")


def class_distribution(p: pd.DataFrame, bin_s: float) -> pd.DataFrame:
    """Per bin: the share of the class's scored time in each dominant emotion (rows sum to 1)."""
    s = p[p["scored"]] if not p.empty else p
    if s.empty:
        return pd.DataFrame(columns=list(EMOTIONS), dtype=float).rename_axis("t_s")
    s = s.assign(_bin=_bins(s, bin_s))
    table = s.pivot_table(index="_bin", columns="dominant", values="weight_s", aggfunc="sum", fill_value=0.0)
    table = table.reindex(columns=list(EMOTIONS), fill_value=0.0)
    table = table.div(table.sum(axis=1).replace(0.0, np.nan), axis=0).fillna(0.0)
    table.index = table.index.astype(float)
    return table.rename_axis("t_s")


@dataclass(frozen=True)
class ClassChange:
    """A bin where the class's mean scores moved most from the bin before."""

    start_s: float          #: the bin's start (seconds from the session's start)
    end_s: float
    shift: float            #: total variation distance between the two bins' mean scores (0..1)
    before: str             #: the class's dominant emotion in the bin before
    after: str              #: ... and in this bin


def class_changes(means: pd.DataFrame, bin_s: float, top: int = 3) -> list[ClassChange]:
    """The `top` bins with the largest shift from the bin before (largest first; equal shifts: the
    earlier first). Only consecutive bins are compared (a gap starts afresh)."""
    if len(means) < 2:
        return []
    m = means.to_numpy(np.float64)
    starts = means.index.to_numpy(np.float64)
    found = []
    for i in range(1, len(m)):
        if abs(starts[i] - starts[i - 1] - bin_s) > 1e-6:
            continue
        shift = 0.5 * float(np.abs(m[i] - m[i - 1]).sum())
        if shift <= 1e-9:  # no change at all is no moment
            continue
        found.append(ClassChange(float(starts[i]), float(starts[i] + bin_s), shift,
                                 EMOTIONS[int(np.argmax(m[i - 1]))], EMOTIONS[int(np.argmax(m[i]))]))
    found.sort(key=lambda c: (-c.shift, c.start_s))
    return found[: max(0, int(top))]


@dataclass(frozen=True)
class SessionReport:
    """Everything the Sessions page and the HTML export show, computed once."""

    rows: pd.DataFrame                   #: `prepare`d rows
    bin_s: float
    shares: pd.DataFrame                 #: `person_shares`
    timelines: dict[str, pd.DataFrame]   #: `person_timelines`
    means: pd.DataFrame                  #: `class_means`
    distribution: pd.DataFrame           #: `class_distribution`
    changes: list[ClassChange] = field(default_factory=list)

    @property
    def people(self) -> list[str]:
        return list(self.shares.index)


def build_report(df: pd.DataFrame, *, started: datetime | None = None, duration_s: float | None = None,
                 bin_s: float | None = None, top_changes: int = 3, max_gap_s: float = 2.0,
                 unknown_label: str = UNKNOWN) -> SessionReport:
    """The whole report of a session's rows (see the functions above)."""
    p = prepare(df, started=started, max_gap_s=max_gap_s, unknown_label=unknown_label)
    if bin_s is None:
        span = duration_s if duration_s is not None else (float(p["t_s"].max()) if not p.empty else 0.0)
        bin_s = auto_bin_s(span)
    means = class_means(p, bin_s)
    return SessionReport(rows=p, bin_s=float(bin_s), shares=person_shares(p), timelines=person_timelines(p),
                         means=means, distribution=class_distribution(p, bin_s),
                         changes=class_changes(means, bin_s, top_changes))
