"""CSV export of a history frame: times in UTC (ISO 8601 with "Z"), text cells escaped against
formula injection (a cell starting with = + - @ tab or CR gets a leading '), UTF-8 with a BOM so
spreadsheet programs read names in any script correctly."""
from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: Any) -> Any:
    """A text value that a spreadsheet would run as a formula, made inert; others unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def history_csv(frame) -> bytes:  # noqa: ANN001 - pandas.DataFrame
    """The frame as CSV bytes: datetime columns as UTC "YYYY-MM-DDTHH:MM:SS.mmmZ", text escaped."""
    import pandas as pd

    out = frame.copy()
    for col in out.columns:
        series = out[col]
        if pd.api.types.is_datetime64_any_dtype(series):
            ts = series.dt.tz_localize("UTC") if series.dt.tz is None else series.dt.tz_convert("UTC")
            out[col] = ts.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3] + "Z"
        elif series.dtype == object or pd.api.types.is_string_dtype(series):
            out[col] = series.map(escape_cell)
    return out.to_csv(index=False).encode("utf-8-sig")
