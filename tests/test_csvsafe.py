"""Issue 17, finding 4: CSV exports never carry a formula a spreadsheet would run."""
from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from emotion.csvsafe import escape_cell, frame_to_csv, writer

HOSTILE = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "=cmd|' /C calc'!A0"]


@pytest.mark.parametrize("text", HOSTILE)
def test_formula_cells_get_a_leading_quote(text):
    assert escape_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["alice", "", " =1", "a=b", "'=x", 3, -2.5, None])
def test_harmless_values_are_unchanged(value):
    assert escape_cell(value) == value


def test_frame_to_csv_escapes_text_but_not_numbers():
    df = pd.DataFrame({"person": HOSTILE, "score": [-0.5] * len(HOSTILE),
                       "emotion": pd.Categorical(["happy"] * len(HOSTILE))})
    rows = list(csv.reader(io.StringIO(frame_to_csv(df).decode("utf-8"), newline="")))
    assert rows[0] == ["person", "score", "emotion"]
    assert [r[0] for r in rows[1:]] == ["'" + h for h in HOSTILE]
    assert {r[1] for r in rows[1:]} == {"-0.5"}
    assert {r[2] for r in rows[1:]} == {"happy"}


def test_column_names_and_writer_rows_are_escaped():
    df = pd.DataFrame({"=bad": ["x"]})
    assert frame_to_csv(df).decode().splitlines()[0] == "'=bad"
    buf = io.StringIO()
    writer(buf).writerows([["@me", 1, "-x"]])
    assert buf.getvalue().strip() == "'@me,1,'-x"
