"""History CSV export (emotion.csv_export): UTC times, formula injection escaped."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pandas as pd

from emotion.csv_export import escape_cell, history_csv


def test_cells_that_start_a_formula_are_escaped():
    assert [escape_cell(v) for v in ["=1+1", "+a", "-2", "@x", "\tq", "\rr", "Ann", "", 3, None]] == \
        ["'=1+1", "'+a", "'-2", "'@x", "'\tq", "'\rr", "Ann", "", 3, None]


def test_history_csv_has_utc_times_and_inert_names():
    shanghai = timezone(timedelta(hours=8))
    frame = pd.DataFrame({
        "time": pd.to_datetime([datetime(2026, 11, 30, 6, 10, 5, 123000, tzinfo=shanghai)]).tz_convert("UTC"),
        "person": ['=HYPERLINK("http://x")'], "happy": [0.5], "dominant": ["happy"],
    })
    text = history_csv(frame).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows == [{"time": "2026-11-29T22:10:05.123Z", "person": "'=HYPERLINK(\"http://x\")", "happy": "0.5",
                     "dominant": "happy"}]
