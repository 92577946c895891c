"""Time handling for the history timeline: the viewer's time zone, the bucket size and the counts.

Pure functions (pandas, no Streamlit):
- `viewer_timezone(name, offset_minutes)`: the browser's zone (an IANA name, else a fixed offset in
  JavaScript's `getTimezoneOffset` convention, else UTC);
- `auto_bucket(times)`: minute / hour / day / week / month from the span of the data, so that a new
  user's rows (all within one hour) still spread over several buckets;
- `choose_bucket(times, user_choice)`: the user's choice when they made one, else `auto_bucket`;
- `timeline_style(n_buckets, requested)`: bars whenever there are fewer than two buckets (a stacked
  area or a line of one point draws nothing), else what was requested;
- `bucket_counts(times, emotions, bucket, tz)`: rows per (bucket start in local time, emotion).
"""
from __future__ import annotations

from datetime import timedelta, timezone, tzinfo
from typing import Sequence

import pandas as pd

#: bucket name -> pandas period/floor alias, in increasing size
BUCKETS: dict[str, str] = {"minute": "min", "hour": "h", "day": "D", "week": "W", "month": "M"}
STYLES = ("bars", "area", "lines")
#: the largest time span (inclusive) for which each bucket is the default
_SPAN_LIMITS: tuple[tuple[timedelta, str], ...] = (
    (timedelta(hours=3), "minute"),
    (timedelta(days=3), "hour"),
    (timedelta(days=90), "day"),
    (timedelta(days=730), "week"),
)


def viewer_timezone(name: str | None = None, offset_minutes: int | float | None = None) -> tzinfo:
    """The browser's time zone: the IANA `name` when it is known here, else the fixed offset
    (`offset_minutes` as JavaScript's getTimezoneOffset gives it: UTC minus local, so UTC+8 is -480),
    else UTC."""
    if name:
        try:
            from zoneinfo import ZoneInfo

            return ZoneInfo(str(name))
        except (ValueError, KeyError, OSError, ImportError):
            pass  # unknown or malformed name: fall back to the offset
    if offset_minutes is not None:
        try:
            minutes = float(offset_minutes)
        except (TypeError, ValueError):
            minutes = None
        if minutes is not None and abs(minutes) < 24 * 60:
            return timezone(-timedelta(minutes=minutes))
    return timezone.utc


def to_local(times: pd.Series, tz: tzinfo) -> pd.Series:
    """UTC timestamps (aware, or naive meaning UTC) as aware timestamps in `tz`."""
    ts = pd.to_datetime(times)
    if ts.dt.tz is None:
        ts = ts.dt.tz_localize("UTC")
    return ts.dt.tz_convert(tz)


def auto_bucket(times: Sequence | pd.Series) -> str:
    """The bucket for data spanning from min(times) to max(times); "minute" when there is none."""
    ts = pd.to_datetime(pd.Series(times)).dropna()
    if ts.empty:
        return "minute"
    span = ts.max() - ts.min()
    for limit, name in _SPAN_LIMITS:
        if span <= limit:
            return name
    return "month"


def choose_bucket(times: Sequence | pd.Series, user_choice: str | None = None) -> str:
    """The user's bucket when they picked a valid one, else the one that fits the data."""
    if user_choice in BUCKETS:
        return str(user_choice)
    return auto_bucket(times)


def timeline_style(n_buckets: int, requested: str | None = None) -> str:
    """Bars for fewer than two buckets (an area or a line needs two points to show anything), else
    the requested style (bars when it is not one of STYLES)."""
    if n_buckets < 2 or requested not in STYLES:
        return "bars"
    return str(requested)


def bucket_start(local_times: pd.Series, bucket: str) -> pd.Series:
    """Start of each timestamp's bucket, in the timestamps' own zone (weeks start on Monday)."""
    if bucket not in BUCKETS:
        raise ValueError(f"unknown bucket {bucket!r}; expected one of {', '.join(BUCKETS)}")
    if bucket in ("minute", "hour"):
        return local_times.dt.floor(BUCKETS[bucket], ambiguous="NaT", nonexistent="shift_forward")
    day = local_times.dt.normalize()
    if bucket == "day":
        return day
    if bucket == "week":
        return day - pd.to_timedelta(day.dt.weekday, unit="D")
    return day - pd.to_timedelta(day.dt.day - 1, unit="D")


def bucket_counts(times: pd.Series, emotions: pd.Series, bucket: str, tz: tzinfo,
                  categories: Sequence[str]) -> pd.DataFrame:
    """Columns bucket (start, local time, tz-aware), emotion (one of `categories`), count: every
    emotion of `categories` for every bucket that has rows (zeros included, so stacked charts line
    up), sorted by bucket then category order."""
    local = to_local(pd.Series(times).reset_index(drop=True), tz)
    frame = pd.DataFrame({"bucket": bucket_start(local, bucket),
                          "emotion": pd.Categorical(pd.Series(emotions).reset_index(drop=True),
                                                    categories=list(categories))})
    frame = frame.dropna()
    counts = frame.groupby(["bucket", "emotion"], observed=False).size().rename("count").reset_index()
    counts["emotion"] = counts["emotion"].astype(str)  # groupby kept bucket, then category order
    return counts.reset_index(drop=True)
