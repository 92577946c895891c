"""Plotly figures of the Video page (no Streamlit here): per-person timelines, distribution.

User data (people's names) is HTML-escaped before it reaches Plotly, whose titles, trace names and
hover texts render a subset of HTML. Long videos are bucketed to at most `max_points` points per
person (mean scores per bucket) so the browser gets a bounded chart.
"""
from __future__ import annotations

import html
from typing import Callable

import numpy as np

from emotion.records import EMOTIONS

#: emotion -> colour (hex), as the History page
try:  # the refactor's single palette (issue 12)
    from emotion.palette import EMOTION_HEX as COLORS  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - until emotion/palette.py lands
    COLORS = {"angry": "#d62728", "disgust": "#8c564b", "fear": "#9467bd", "happy": "#f2b701",
              "sad": "#1f77b4", "surprise": "#ff7f0e", "neutral": "#7f7f7f"}


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def bucket(times: list[float], values: dict[str, list[float]], max_points: int) -> tuple[list[float], dict[str, list[float]]]:
    """At most `max_points` points: equal-width time buckets, mean of each (empty buckets dropped)."""
    n = len(times)
    if n <= max_points or n == 0:
        return list(times), {e: list(v) for e, v in values.items()}
    t = np.asarray(times, np.float64)
    edges = np.linspace(t.min(), t.max() + 1e-9, max_points + 1)
    idx = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, max_points - 1)
    counts = np.bincount(idx, minlength=max_points)
    keep = counts > 0
    out_t = (np.bincount(idx, weights=t, minlength=max_points)[keep] / counts[keep]).tolist()
    out_v = {e: (np.bincount(idx, weights=np.asarray(v, np.float64), minlength=max_points)[keep]
                 / counts[keep]).tolist() for e, v in values.items()}
    return out_t, out_v


def timeline_figure(lines: dict[str, dict[str, list[float]]], *, label: Callable[[str], str] = str,
                    max_people: int = 8, max_points: int = 1500, time_title: str = "s", score_title: str = ""):
    """One panel per person (the `max_people` with most samples), one line per emotion.
    `lines`: `emotion.video.summary.timelines`; `label(emotion)`: its translated name."""
    from plotly.subplots import make_subplots
    import plotly.graph_objects as go

    people = sorted(lines, key=lambda p: -len(lines[p]["time"]))[:max_people]
    people.sort()
    fig = make_subplots(rows=max(1, len(people)), cols=1, shared_xaxes=True, vertical_spacing=0.08 if len(people) < 5 else 0.04,
                        subplot_titles=[esc(p) for p in people] or [""])
    for row, person in enumerate(people, 1):
        d = lines[person]
        t, v = bucket(d["time"], {e: d[e] for e in EMOTIONS}, max_points)
        for e in EMOTIONS:
            fig.add_trace(go.Scatter(
                x=t, y=v[e], mode="lines+markers", marker={"size": 4}, name=esc(label(e)), legendgroup=e,
                showlegend=row == 1,
                line={"color": COLORS[e], "width": 1.6},
                customdata=[esc(person)] * len(t),
                hovertemplate="%{customdata} · " + esc(label(e)) + ": %{y:.2f} @ %{x:.2f} s<extra></extra>",
            ), row=row, col=1)
        fig.update_yaxes(range=[0, 1], title_text=esc(score_title), row=row, col=1)
    fig.update_xaxes(title_text=esc(time_title), row=max(1, len(people)), col=1)
    fig.update_layout(height=max(260, 200 * len(people) + 80), margin={"l": 40, "r": 10, "t": 40, "b": 40},
                      hovermode="closest", clickmode="event+select")
    return fig, people


def distribution_figure(share: dict[str, float], *, label: Callable[[str], str] = str, y_title: str = ""):
    import plotly.graph_objects as go

    fig = go.Figure(go.Bar(x=[esc(label(e)) for e in EMOTIONS], y=[share.get(e, 0.0) for e in EMOTIONS],
                           marker_color=[COLORS[e] for e in EMOTIONS]))
    fig.update_layout(height=300, margin={"l": 40, "r": 10, "t": 20, "b": 40}, yaxis_title=esc(y_title),
                      yaxis_tickformat=".0%")
    return fig
