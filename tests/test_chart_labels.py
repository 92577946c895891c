"""Issue 17, finding 4: person names reach Plotly escaped, so ``<a href=...>`` is shown as text
(not a link) and ``<b>`` as text (not bold), in every chart that shows names."""
from __future__ import annotations

import json

import pandas as pd

from ui import charts

HOSTILE = ['<a href="https://evil.example/">click</a>', "<b>bold</b>", "Tom & Jerry", "Ann"]


def _names_in(fig) -> list[str]:
    values = []
    for trace in fig.data:
        values += [str(v) for v in (trace.x if trace.x is not None else [])]
    return values


def _no_markup(fig) -> None:
    text = json.dumps(fig.to_plotly_json()["data"], default=str)
    assert "<a href" not in text and "<b>" not in text, text[:500]


def test_plain_escapes_markup():
    assert charts.plain("<b>x</b> & 'y'") == "&lt;b&gt;x&lt;/b&gt; &amp; 'y'"


def test_history_people_chart_escapes_names():
    frame = pd.DataFrame({"time": pd.to_datetime(["2026-11-30T10:00:00Z"] * 4), "person": HOSTILE,
                          "dominant": ["happy", "sad", "happy", "angry"]})
    df = charts.with_emotion_category(frame)
    fig = charts.people_chart(df, "person")
    names = set(_names_in(fig))
    assert {"&lt;a href=\"https://evil.example/\"&gt;click&lt;/a&gt;", "&lt;b&gt;bold&lt;/b&gt;",
            "Tom &amp; Jerry", "Ann"} <= names
    _no_markup(fig)


def test_live_person_chart_escapes_names():
    fig = charts.person_mix_chart({name: {"happy": 0.7, "sad": 0.3} for name in HOSTILE})
    assert "&lt;b&gt;bold&lt;/b&gt;" in set(_names_in(fig))
    _no_markup(fig)
