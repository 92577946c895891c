"""Plotly figures of a session report (shared by the Sessions page and the one-file HTML export).

No Streamlit here. Names come from users: they are HTML-escaped before they reach Plotly, whose
titles, trace names and hover texts render a subset of HTML. Labels (emotion names, axis titles) are
passed in already translated. Timelines are thinned to at most `max_points` points per person.
"""
from __future__ import annotations

import html
from typing import Callable

import numpy as np
import pandas as pd

from emotion.palette import EMOTION_HEX
from emotion.records import EMOTIONS
from emotion.sessions.report import SessionReport


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _thin(t: pd.DataFrame, max_points: int) -> pd.DataFrame:
    if len(t) <= max_points:
        return t
    idx = np.linspace(0, len(t) - 1, max_points).round().astype(int)
    return t.iloc[np.unique(idx)]


def person_timeline_figure(report: SessionReport, who: str, *, label: Callable[[str], str] = str,
                           time_title: str = "s", score_title: str = "", max_points: int = 1500):
    """One person's seven smoothed scores over the session (seconds from its start)."""
    import plotly.graph_objects as go

    t = _thin(report.timelines.get(who, pd.DataFrame(columns=["t_s", *EMOTIONS])), max_points)
    fig = go.Figure()
    for e in EMOTIONS:
        fig.add_trace(go.Scatter(
            x=t["t_s"].tolist(), y=t[e].tolist(), mode="lines", name=esc(label(e)),
            line={"color": EMOTION_HEX[e], "width": 1.6},
            hovertemplate=esc(who) + " · " + esc(label(e)) + ": %{y:.2f} @ %{x:.0f} s<extra></extra>"))
    fig.update_layout(title=esc(who), height=300, margin={"l": 40, "r": 10, "t": 40, "b": 40},
                      xaxis_title=esc(time_title), yaxis={"range": [0, 1], "title": esc(score_title)})
    return fig


def shares_figure(report: SessionReport, *, label: Callable[[str], str] = str, x_title: str = ""):
    """Per person, a stacked bar of the share of their time in each emotion."""
    import plotly.graph_objects as go

    people = [esc(w) for w in report.shares.index]
    fig = go.Figure()
    for e in EMOTIONS:
        fig.add_trace(go.Bar(y=people, x=report.shares[e].tolist() if len(people) else [], name=esc(label(e)),
                             orientation="h", marker_color=EMOTION_HEX[e],
                             hovertemplate="%{y} · " + esc(label(e)) + ": %{x:.0%}<extra></extra>"))
    fig.update_layout(barmode="stack", height=max(220, 34 * len(people) + 110), xaxis_tickformat=".0%",
                      xaxis_title=esc(x_title), xaxis_range=[0, 1], yaxis_autorange="reversed",
                      margin={"l": 40, "r": 10, "t": 20, "b": 40})
    return fig


def class_figure(report: SessionReport, *, label: Callable[[str], str] = str, time_title: str = "s",
                 score_title: str = "", change_label: str = ""):
    """The class's mean scores per bin, the biggest changes marked with a shaded band."""
    import plotly.graph_objects as go

    m = report.means
    fig = go.Figure()
    for e in EMOTIONS:
        fig.add_trace(go.Scatter(x=m.index.tolist(), y=m[e].tolist(), mode="lines+markers", name=esc(label(e)),
                                 line={"color": EMOTION_HEX[e], "width": 1.8}, marker={"size": 5},
                                 hovertemplate=esc(label(e)) + ": %{y:.2f} @ %{x:.0f} s<extra></extra>"))
    for i, c in enumerate(report.changes, 1):
        fig.add_vrect(x0=c.start_s - report.bin_s, x1=c.start_s, fillcolor="#888888", opacity=0.15, line_width=0,
                      annotation_text=esc(f"{change_label} {i}".strip()), annotation_position="top left")
    fig.update_layout(height=320, margin={"l": 40, "r": 10, "t": 30, "b": 40}, xaxis_title=esc(time_title),
                      yaxis={"range": [0, 1], "title": esc(score_title)})
    return fig


def distribution_figure(report: SessionReport, *, label: Callable[[str], str] = str, time_title: str = "s",
                        y_title: str = ""):
    """The whole class's distribution over time: per bin, the share of time in each emotion (stacked)."""
    import plotly.graph_objects as go

    d = report.distribution
    fig = go.Figure()
    for e in EMOTIONS:
        fig.add_trace(go.Scatter(x=d.index.tolist(), y=d[e].tolist(), mode="lines", stackgroup="one",
                                 name=esc(label(e)), line={"color": EMOTION_HEX[e], "width": 0.5},
                                 hovertemplate=esc(label(e)) + ": %{y:.0%} @ %{x:.0f} s<extra></extra>"))
    fig.update_layout(height=320, margin={"l": 40, "r": 10, "t": 20, "b": 40}, xaxis_title=esc(time_title),
                      yaxis={"range": [0, 1], "tickformat": ".0%", "title": esc(y_title)})
    return fig
