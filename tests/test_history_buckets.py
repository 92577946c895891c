"""Timeline buckets (emotion.history_buckets): chosen from the data's span, the user's choice kept,
something visible for a single bucket, local time zone."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from emotion.history_buckets import (auto_bucket, bucket_counts, choose_bucket, timeline_style,
                                     viewer_timezone)
from emotion.records import EMOTIONS

T0 = datetime(2026, 11, 29, 22, 10, 5, tzinfo=timezone.utc)


def _times(*minutes: float) -> pd.Series:
    return pd.Series([T0 + timedelta(minutes=m) for m in minutes])


@pytest.mark.parametrize("span, expected", [
    (timedelta(0), "minute"),
    (timedelta(minutes=40), "minute"),
    (timedelta(hours=5), "hour"),
    (timedelta(days=2), "hour"),
    (timedelta(days=20), "day"),
    (timedelta(days=200), "week"),
    (timedelta(days=1000), "month"),
])
def test_bucket_follows_the_span(span, expected):
    assert auto_bucket(pd.Series([T0, T0 + span / 3, T0 + span])) == expected


def test_empty_data_and_the_users_choice():
    assert auto_bucket(pd.Series([], dtype="datetime64[ns, UTC]")) == "minute"
    rows = _times(0, 1, 2)
    assert choose_bucket(rows, None) == "minute"
    assert choose_bucket(rows, "auto") == "minute"
    assert choose_bucket(rows, "day") == "day"  # kept, even though it is not what auto would pick
    assert choose_bucket(rows, "fortnight") == "minute"  # not a bucket: back to auto


def test_rows_inside_one_hour_spread_over_minutes():
    """The new user's case: all rows in one hour. The default bucket gives several points and each
    count lands in its own minute."""
    times = _times(0, 0.5, 3, 3.2, 3.4, 17)
    emotions = pd.Series(["happy", "happy", "sad", "happy", "sad", "neutral"])
    bucket = choose_bucket(times, None)
    assert bucket == "minute"
    counts = bucket_counts(times, emotions, bucket, timezone.utc, EMOTIONS)
    assert counts["bucket"].nunique() == 3
    assert len(counts) == 3 * len(EMOTIONS)  # zeros included so stacked charts line up
    nonzero = counts[counts["count"] > 0]
    got = {(b.strftime("%H:%M"), e, c) for b, e, c in nonzero.itertuples(index=False)}
    assert got == {("22:10", "happy", 2), ("22:13", "sad", 2), ("22:13", "happy", 1), ("22:27", "neutral", 1)}
    assert timeline_style(counts["bucket"].nunique(), "area") == "area"


def test_single_bucket_is_drawn_as_bars():
    times = _times(0, 1, 2)
    counts = bucket_counts(times, pd.Series(["happy"] * 3), "hour", timezone.utc, EMOTIONS)
    assert counts["bucket"].nunique() == 1
    assert timeline_style(1, "area") == "bars"
    assert timeline_style(1, "lines") == "bars"
    assert timeline_style(0, "area") == "bars"
    assert timeline_style(2, "lines") == "lines"
    assert timeline_style(5, "bogus") == "bars"


def test_days_follow_the_viewers_time_zone():
    # 22:10 UTC on 29 Nov is already 30 Nov, 06:10 in Shanghai
    shanghai = viewer_timezone("Asia/Shanghai", None)
    counts = bucket_counts(_times(0), pd.Series(["fear"]), "day", shanghai, EMOTIONS)
    start = counts.loc[counts["count"] > 0, "bucket"].iloc[0]
    assert (start.year, start.month, start.day, start.hour) == (2026, 11, 30, 0)
    assert start.utcoffset() == timedelta(hours=8)
    hours = bucket_counts(_times(0), pd.Series(["fear"]), "hour", shanghai, EMOTIONS)
    assert hours.loc[hours["count"] > 0, "bucket"].iloc[0].hour == 6


def test_weeks_start_on_monday_and_months_on_the_first():
    times = pd.Series([datetime(2026, 11, 26, 12, tzinfo=timezone.utc)])  # a Thursday
    week = bucket_counts(times, pd.Series(["sad"]), "week", timezone.utc, EMOTIONS)["bucket"].iloc[0]
    month = bucket_counts(times, pd.Series(["sad"]), "month", timezone.utc, EMOTIONS)["bucket"].iloc[0]
    assert (week.day, week.weekday(), week.hour) == (23, 0, 0)
    assert (month.month, month.day) == (11, 1)


def test_viewer_timezone_fallbacks():
    assert viewer_timezone("Europe/Berlin", 999).utcoffset(datetime(2026, 7, 1)) == timedelta(hours=2)
    # JavaScript's getTimezoneOffset: UTC+8 is -480
    assert viewer_timezone(None, -480).utcoffset(None) == timedelta(hours=8)
    assert viewer_timezone("Not/AZone", 300).utcoffset(None) == timedelta(hours=-5)
    assert viewer_timezone("../../etc/passwd", None) == timezone.utc
    assert viewer_timezone(None, "junk") == timezone.utc
    assert viewer_timezone(None, 10 ** 9) == timezone.utc
