"""A session's exports: its rows as CSV, and a one-file HTML report with its charts that opens offline.

CSV: one line per history row (``who`` as the report names people: "unknown 2" for an unknown face of
track 2's group), formula-injection-escaped cells (`emotion.csv_export.escape_cell`). A row whose face was too small
to classify has empty scores and ``too_small`` = 1.

HTML: Plotly's own HTML export (``plotly.io.to_html``) with plotly.js inlined once (the first chart),
so the file needs no network; the session's name, people's names and every label are HTML-escaped.
Labels come in translated (the engine knows no language): `HtmlLabels`.
"""
from __future__ import annotations

import csv
import html
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from emotion.csvsafe import escape_cell
from emotion.records import EMOTIONS
from emotion.sessions import figures
from emotion.sessions.report import SessionReport

CSV_COLUMNS = ("session", "time", "offset_s", "person", "track", "source", *EMOTIONS, "dominant", "too_small")


def csv_text(report: SessionReport, session_name: str) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(CSV_COLUMNS)
    name = escape_cell(str(session_name))
    for r in report.rows.to_dict("records"):
        track = r.get("track")
        scored = bool(r["scored"])
        w.writerow([
            name, r["time"].isoformat(timespec="milliseconds"), f"{r['t_s']:.3f}", escape_cell(str(r["who"])),
            "" if track is None or track != track else int(track), escape_cell(str(r["source"])),
            *[f"{float(r[e]):.4f}" if scored else "" for e in EMOTIONS],
            escape_cell(str(r["dominant"])) if scored and r["dominant"] else "", 0 if scored else 1,
        ])
    return buf.getvalue()


def csv_bytes(report: SessionReport, session_name: str) -> bytes:
    """UTF-8 with a BOM, so that spreadsheets read the names' accents and CJK right."""
    return ("\ufeff" + csv_text(report, session_name)).encode("utf-8")


@dataclass(frozen=True)
class HtmlLabels:
    """The translated words of the HTML report."""

    title: str = "Session report"
    started: str = "Started"
    duration: str = "Duration"
    people: str = "People seen"
    shares: str = "Share of time in each emotion"
    timelines: str = "Emotions over time, per person"
    class_title: str = "The class: mean scores"
    changes: str = "Moments where the class changed most"
    change: str = "change"
    distribution: str = "The class: distribution over time"
    seconds: str = "seconds from the start"
    score: str = "score"
    share: str = "share"
    too_small: str = "too small to classify"
    person: str = "person"
    seen: str = "seen"
    shift: str = "shift"
    empty: str = "Nothing was recorded in this session."


def clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def html_report(report: SessionReport, *, name: str, started: datetime, duration_s: float,
                labels: HtmlLabels = HtmlLabels(), emotion_label: Callable[[str], str] = str,
                lang: str = "en") -> str:
    """The whole report as one self-contained HTML page (plotly.js inlined)."""
    import plotly.io as pio

    e = html.escape
    L = labels
    charts: list[tuple[str, object]] = []
    if not report.rows.empty:
        charts.append((L.shares, figures.shares_figure(report, label=emotion_label, x_title=L.share)))
        charts.append((L.class_title, figures.class_figure(report, label=emotion_label, time_title=L.seconds,
                                                           score_title=L.score, change_label=L.change)))
        charts.append((L.distribution, figures.distribution_figure(report, label=emotion_label,
                                                                   time_title=L.seconds, y_title=L.share)))
        for who in report.people:
            charts.append((f"{L.timelines}: {who}", figures.person_timeline_figure(
                report, who, label=emotion_label, time_title=L.seconds, score_title=L.score)))
    parts = [
        "<!DOCTYPE html>", f'<html lang="{e(lang)}"><head><meta charset="utf-8">',
        f"<title>{e(L.title)}: {e(name)}</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child"
        "{text-align:left}</style></head><body>",
        f"<h1>{e(name)}</h1>",
        f"<p>{e(L.started)}: {e(started.strftime('%Y-%m-%d %H:%M UTC'))} · {e(L.duration)}: "
        f"{e(clock(duration_s))} · {e(L.people)}: {len(report.people)}</p>",
    ]
    if report.rows.empty:
        parts.append(f"<p>{e(L.empty)}</p>")
    else:
        head = "".join(f"<th>{e(emotion_label(x))}</th>" for x in EMOTIONS)
        parts.append(f"<h2>{e(L.shares)}</h2><table><tr><th>{e(L.person)}</th>{head}<th>{e(L.seen)}</th>"
                     f"<th>{e(L.too_small)}</th></tr>")
        for who, r in report.shares.iterrows():
            cells = "".join(f"<td>{r[x]:.0%}</td>" for x in EMOTIONS)
            parts.append(f"<tr><td>{e(str(who))}</td>{cells}<td>{e(clock(r['seen_s']))}</td>"
                         f"<td>{e(clock(r['too_small_s']))}</td></tr>")
        parts.append("</table>")
        if report.changes:
            parts.append(f"<h2>{e(L.changes)}</h2><ol>")
            for c in report.changes:
                parts.append(f"<li>{e(clock(c.start_s - report.bin_s))}–{e(clock(c.end_s))}: "
                             f"{e(emotion_label(c.before))} → {e(emotion_label(c.after))} "
                             f"({e(L.shift)} {c.shift:.2f})</li>")
            parts.append("</ol>")
    first = True
    for title, fig in charts:
        parts.append(f"<h2>{e(title)}</h2>")
        parts.append(pio.to_html(fig, full_html=False, include_plotlyjs=True if first else False,
                                 config={"displaylogo": False}))
        first = False
    parts.append("</body></html>")
    return "\n".join(parts)
