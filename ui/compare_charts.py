"""Plotly figures and tables of a model comparison (`emotion.compare.CompareResult`); no Streamlit.

Heatmaps are laid out like the seed's tables: rows = detectors, columns = recognisers.

* `overview_figure`: share of pairs each combination decides right (``3/3``), a cell per combination;
* `pair_figure`: one pair of photos; the colour is the decision's signed margin from the recogniser's
  own threshold (green = right, red = wrong, 0 = the threshold), the text the distance and ✓ / ✗.

Combinations that cannot run stay in the grid, grey (NaN on a grey plot background), marked "n/a",
with the reason in the hover text. Every name that reaches a chart label, cell text or hover text is
HTML-escaped (`label`), because Plotly renders a subset of HTML in them; photo names are the user's.
Texts come through the `t` function given (the UI's translations), so this module stays testable.
"""
from __future__ import annotations

import html
from typing import Any, Callable

import numpy as np

Translate = Callable[..., str]
GREY = "#d9d9d9"
#: red (wrong) -> white (at the threshold) -> green (right)
DECISION_SCALE = [[0.0, "#b2182b"], [0.35, "#ef8a62"], [0.5, "#f7f7f7"], [0.65, "#7fbf7b"], [1.0, "#1b7837"]]
SHARE_SCALE = [[0.0, "#b2182b"], [0.5, "#fddbc7"], [0.75, "#d9f0d3"], [1.0, "#1b7837"]]
MAX_LABEL = 40


def label(name: Any, limit: int = MAX_LABEL) -> str:
    """A name safe in a Plotly label: shortened, then HTML-escaped (``<`` ``>`` ``&`` and quotes)."""
    text = str(name)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return html.escape(text, quote=True)


def reason_text(status: Any, t: Translate) -> str:
    """A model's reason for not running, translated by its code; the English detail when no code."""
    code = getattr(status, "reason_code", "") or ""
    detail = getattr(status, "reason", "") or ""
    if not code:
        return detail
    return t(f"cmp_reason_{code}", file=getattr(status, "missing_file", None) or "", detail=detail)


def _axes(result) -> tuple[list[str], list[str]]:
    dets = [d.name for d in result.detectors]
    recs = [r.name for r in result.recognizers]
    return dets, recs


def _column_labels(result, t: Translate) -> list[str]:
    out = []
    for r in result.recognizers:
        thr = "-" if r.threshold is None else f"{r.threshold:.2f}"
        out.append(f"{label(r.name)}<br>{label(t('cmp_threshold_short', value=thr))}")
    return out


def _row_labels(result) -> list[str]:
    return [label(d.name) for d in result.detectors]


def _layout(fig, title: str, n_rows: int, n_cols: int, t: Translate) -> None:
    fig.update_layout(
        title={"text": label(title, 200), "font": {"size": 14}},
        plot_bgcolor=GREY, height=max(260, 90 + 34 * n_rows), margin={"l": 10, "r": 10, "t": 60, "b": 10},
        xaxis={"title": label(t("cmp_axis_recognizer")), "side": "top", "type": "category"},
        yaxis={"title": label(t("cmp_axis_detector")), "autorange": "reversed", "type": "category"},
    )


def overview_matrix(result) -> tuple[np.ndarray, list[list[str]]]:
    """(share right per cell, NaN where the combination did not run; "right/decided" texts)."""
    dets, recs = _axes(result)
    z = np.full((len(dets), len(recs)), np.nan)
    text = [["" for _ in recs] for _ in dets]
    for i, d in enumerate(dets):
        for j, r in enumerate(recs):
            c = result.combo(d, r)
            if c is not None and c.usable and c.n_decided:
                z[i, j] = c.n_correct / c.n_decided
                text[i][j] = f"{c.n_correct}/{c.n_decided}"
    return z, text


def _usable_cells(result, dets, recs, text, hover, t: Translate):
    """Every detector x recogniser cell that ran, as (row, column, combination); cells whose models
    cannot run here get "n/a" and the reason written into `text`/`hover` on the way."""
    for i, d in enumerate(dets):
        for j, r in enumerate(recs):
            c = result.combo(d, r)
            if c is None:
                continue
            if not c.usable:
                text[i][j] = label(t("cmp_na"))
                hover[i][j] = label(reason_text(c, t), 160)
                continue
            yield i, j, c


def overview_figure(result, t: Translate):
    import plotly.graph_objects as go

    dets, recs = _axes(result)
    z, text = overview_matrix(result)
    hover = [["" for _ in recs] for _ in dets]
    for i, j, c in _usable_cells(result, dets, recs, text, hover, t):
        text[i][j] = text[i][j] or label(t("cmp_no_face"))
        margin = "" if c.margin is None else f" · margin {c.margin:+.2f}"
        ms = "" if c.ms_per_face is None else f" · {c.ms_per_face:.0f} ms/face"
        hover[i][j] = f"{text[i][j]}{margin}{ms}"
    fig = go.Figure(go.Heatmap(
        z=z, x=_column_labels(result, t), y=_row_labels(result), text=text, customdata=hover,
        texttemplate="%{text}", hovertemplate="%{y} × %{x}<br>%{customdata}<extra></extra>",
        colorscale=SHARE_SCALE, zmin=0.0, zmax=1.0, xgap=2, ygap=2,
        colorbar={"title": {"text": label(t("cmp_colorbar_overview"))}, "tickformat": ".0%"}))
    _layout(fig, t("cmp_overview_title"), len(dets), len(recs), t)
    return fig


def pair_matrix(result, a: str, b: str) -> tuple[np.ndarray, list[list[float | None]], list[list[bool | None]]]:
    """For the pair (a, b): signed margins (+ = right, - = wrong, in thresholds, clipped to [-1, 1];
    NaN where nothing was decided), the distances and the correct flags, per detector x recogniser."""
    dets, recs = _axes(result)
    z = np.full((len(dets), len(recs)), np.nan)
    dist: list[list[float | None]] = [[None for _ in recs] for _ in dets]
    ok: list[list[bool | None]] = [[None for _ in recs] for _ in dets]
    for i, d in enumerate(dets):
        for j, r in enumerate(recs):
            c = result.combo(d, r)
            if c is None or not c.usable or not c.threshold:
                continue
            p = next((p for p in c.pairs if {p.a, p.b} == {a, b}), None)
            if p is None or p.distance is None:
                continue
            dist[i][j] = p.distance
            ok[i][j] = p.correct(c.threshold)
            signed = (c.threshold - p.distance) if p.same else (p.distance - c.threshold)
            z[i, j] = float(np.clip(signed / c.threshold, -1.0, 1.0))
    return z, dist, ok


def pair_figure(result, a: str, b: str, t: Translate):
    import plotly.graph_objects as go

    dets, recs = _axes(result)
    z, dist, ok = pair_matrix(result, a, b)
    same = next(p.person for p in result.photos if p.name == a) == next(p.person for p in result.photos
                                                                        if p.name == b)
    text = [["" for _ in recs] for _ in dets]
    hover = [["" for _ in recs] for _ in dets]
    for i, j, c in _usable_cells(result, dets, recs, text, hover, t):
        if dist[i][j] is None:
            text[i][j] = label(t("cmp_no_face"))
        else:
            mark = t("cmp_right") if ok[i][j] else t("cmp_wrong")
            text[i][j] = f"{dist[i][j]:.3f} {label(mark)}"
            hover[i][j] = f"{dist[i][j]:.4f} / {c.threshold:.4f} ({label(c.metric or '')})"
    title = t("cmp_pair_title", a=a, b=b, kind=t("cmp_same") if same else t("cmp_different"))
    fig = go.Figure(go.Heatmap(
        z=z, x=_column_labels(result, t), y=_row_labels(result), text=text, customdata=hover,
        texttemplate="%{text}", hovertemplate="%{y} × %{x}<br>%{customdata}<extra></extra>",
        colorscale=DECISION_SCALE, zmin=-1.0, zmax=1.0, zmid=0.0, xgap=2, ygap=2,
        colorbar={"title": {"text": label(t("cmp_colorbar_pair"))}, "tickvals": [-1, 0, 1],
                  "ticktext": ["-1", "0", "+1"]}))
    _layout(fig, title, len(dets), len(recs), t)
    return fig


def pairs_of(result) -> list[tuple[str, str]]:
    names = [p.name for p in result.photos]
    return [(names[i], names[j]) for i in range(len(names)) for j in range(i + 1, len(names))]


def unavailable_rows(result, t: Translate) -> list[dict[str, Any]]:
    """Every model that cannot run: role, name, translated reason, the file to place and where."""
    statuses = [d.status for d in result.detectors] + list(result.recognizers)
    if result.classifiers is not None:
        statuses += list(result.classifiers.models)
    return [{"role": t(f"cmp_role_{s.role}"), "model": s.name, "reason": reason_text(s, t),
             "file": s.missing_file or "", "folder": s.place_in or ""} for s in statuses if not s.usable]


def detector_rows(result) -> list[dict[str, Any]]:
    return [{"detector": d.name, "photo": p.photo, "faces": p.faces, "ms": round(p.ms, 1)}
            for d in result.detectors for p in d.photos]


def classifier_rows(result) -> tuple[list[dict[str, Any]], list[str]]:
    """One row per face: photo, face number, per classifier "emotion score", all agree; and the
    classifier names (the columns)."""
    comp = result.classifiers
    if comp is None:
        return [], []
    names = [m.name for m in comp.models if m.usable]
    rows = []
    for f in comp.faces:
        row: dict[str, Any] = {"photo": f.photo, "face": f.index + 1}
        tops = f.top()
        for n in names:
            row[n] = f"{tops[n]} {float(f.scores[n].max()):.2f}" if n in f.scores else ""
        row["agree"] = f.agree
        rows.append(row)
    return rows, names
