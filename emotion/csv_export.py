"""CSV export of a history frame: times in UTC (ISO 8601 with "Z"), text cells escaped against
formula injection (a cell starting with = + - @ tab or CR gets a leading '), UTF-8 with a BOM so
spreadsheet programs read names in any script correctly. The escaping is `emotion.csvsafe`'s, the
one every export uses."""
from __future__ import annotations

from emotion.csvsafe import FORMULA_PREFIXES as FORMULA_STARTS, escape_cell, frame_to_csv

__all__ = ["FORMULA_STARTS", "escape_cell", "history_csv"]


def history_csv(frame) -> bytes:  # noqa: ANN001 - pandas.DataFrame
    """The frame as CSV bytes: datetime columns as UTC "YYYY-MM-DDTHH:MM:SS.mmmZ", text escaped."""
    import pandas as pd

    out = frame.copy()
    for col in out.columns:
        series = out[col]
        if pd.api.types.is_datetime64_any_dtype(series):
            ts = series.dt.tz_localize("UTC") if series.dt.tz is None else series.dt.tz_convert("UTC")
            out[col] = ts.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3] + "Z"
    return frame_to_csv(out, encoding="utf-8-sig")
