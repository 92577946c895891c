"""CSV exports that spreadsheets never run as formulas (CSV/formula injection, OWASP).

A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written with a
leading ``'``: Excel, LibreOffice and Google Sheets then show it as text instead of evaluating it
(``=HYPERLINK(...)``, ``=cmd|' /C calc'!A0``, ``@SUM(...)``). Numbers, dates and missing values are
written as they are (a negative number is a number, not a formula). Column names are escaped too.

Every export of the app goes through this module:

    frame_to_csv(df) -> bytes                 # pandas DataFrame -> UTF-8 CSV, no index
    safe_frame(df) -> DataFrame               # escaped copy, for callers that write it themselves
    writer(fh) -> SafeWriter                  # like csv.writer, escaping every cell
    escape_cell(value) -> value               # one cell
"""
from __future__ import annotations

import csv
from typing import Any, Iterable

#: characters that make a spreadsheet treat a cell as a formula (or split it into one)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: Any) -> Any:
    """`value` with a leading ``'`` when it is text starting with a formula character; anything
    else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_frame(df):  # noqa: ANN001, ANN201 - pandas is imported lazily
    """A copy of `df` whose text cells and column names are escaped (numbers and dates untouched)."""
    import pandas as pd

    out = df.copy()
    for col in out.columns:
        s = out[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype(object)
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            out[col] = s.map(escape_cell, na_action="ignore")
    out.columns = [escape_cell(str(c)) if isinstance(c, str) else c for c in out.columns]
    return out


def frame_to_csv(df, *, index: bool = False, encoding: str = "utf-8") -> bytes:  # noqa: ANN001
    """`df` as CSV bytes with every text cell escaped (the one function exports call). Lines end in
    CRLF (RFC 4180), so a cell holding a bare CR or LF is quoted rather than splitting the row."""
    return safe_frame(df).to_csv(index=index, lineterminator="\r\n").encode(encoding)


class SafeWriter:
    """`csv.writer` whose rows are escaped cell by cell."""

    def __init__(self, fh, **fmt: Any):  # noqa: ANN001
        self._w = csv.writer(fh, **fmt)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._w.writerow([escape_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(fh, **fmt: Any) -> SafeWriter:  # noqa: ANN001
    return SafeWriter(fh, **fmt)
