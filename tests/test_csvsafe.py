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


def test_history_export_escapes_person_names(store):
    """The History page's CSV (`frame_to_csv(store.history_frame(...))`) with hostile person names,
    on SQLite and MariaDB."""
    from emotion.records import EMOTIONS

    user = store.create_user("exporter", "$argon2id$v=19$m=65536,t=3,p=4$not-a-real-hash")
    names = ["=HYPERLINK(\"http://evil\",\"x\")", "@SUM(1)", "+cmd", "-2+3", "Ann"]
    rows = []
    for i, name in enumerate(names):
        person = store.add_person(user.id, name)
        scores = [0.01] * 7
        scores[EMOTIONS.index("happy")] = 0.94
        rows.append({"box": (10 + i, 20, 30, 40), "scores": scores, "name": name, "person_id": person.id,
                     "track_id": i, "confidence": 0.9})
    assert store.add_history(user.id, rows) == len(names)
    out = list(csv.DictReader(io.StringIO(frame_to_csv(store.history_frame(user.id)).decode("utf-8"),
                                          newline="")))
    assert sorted(r["person"] for r in out) == sorted(["'" + n for n in names[:4]] + ["Ann"])
    assert all(not r["person"].startswith(("=", "+", "-", "@")) for r in out)
