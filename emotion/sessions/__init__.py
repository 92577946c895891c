"""Classroom sessions' reports (the sessions themselves are stored by `emotion.store.sessions`).

`report` (pure functions: who is who, shares of time, the class's means, distribution and biggest
changes), `figures` (their Plotly charts), `export` (CSV and the one-file HTML report). No Streamlit.
"""
from __future__ import annotations

from emotion.sessions.report import ClassChange, SessionReport, build_report

__all__ = ["ClassChange", "SessionReport", "build_report"]
