"""The History page (real app.py under AppTest, real SQLite): a new user's rows, all inside one
hour, give a visible timeline (bars, one per minute with rows), the user's bucket choice is kept,
and the CSV keeps UTC."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

pytest.importorskip("streamlit.testing.v1")

from tests.test_app import _navigation_mode, app, ok, register  # noqa: E402,F401
from ui.i18n import t  # noqa: E402

PASSWORD = "correct horse 1"


def _values(v) -> list:
    """A Plotly JSON array: a list, or numpy's {"dtype", "bdata"} encoding (plotly >= 6)."""
    if isinstance(v, dict) and "bdata" in v:
        import base64

        import numpy as np

        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"]).tolist()
    return list(v or [])


def _timeline(at) -> dict:
    charts = [c for c in at.get("plotly_chart") if "hist_time_chart" in (c.proto.id or "")]
    assert len(charts) == 1, [c.proto.id for c in at.get("plotly_chart")]
    fig = json.loads(charts[0].proto.spec)
    for tr in fig["data"]:
        tr["x"], tr["y"] = _values(tr.get("x")), _values(tr.get("y"))
    return fig


def _rows(now: datetime) -> list[dict]:
    # three faces within four minutes of one hour, as after a new user's first photos
    scores = {"happy": [0, 0, 0, .9, 0, 0, .1], "sad": [0, 0, 0, .1, .8, 0, .1]}
    out = []
    for minutes, emo in ((0, "happy"), (0.2, "sad"), (4, "happy")):
        out.append({"box": (10, 10, 50, 50), "name": "unknown", "scores": scores[emo],
                    "time": now + timedelta(minutes=minutes)})
    return out


def test_timeline_with_rows_inside_one_hour(app):
    from emotion.store import open_store

    at = app()
    register(at, "dora", PASSWORD)
    import os

    store = open_store(os.environ["DATABASE_URL"])
    try:
        uid = store.get_user_by_name("dora").id
        # minutes 10 to 14 of the last full hour: inside one hour whatever the time now
        start = datetime.now(timezone.utc).replace(minute=10, second=0, microsecond=0) - timedelta(hours=1)
        assert store.add_history(uid, _rows(start)) == 3
    finally:
        store.close()

    at.switch_page("pages/history.py").run()
    ok(at)
    assert at.selectbox(key="hist_gran").value == "auto"
    fig = _timeline(at)
    traces = [tr for tr in fig["data"] if sum(tr["y"]) > 0]
    assert {tr["type"] for tr in fig["data"]} == {"bar"}
    got = {(tr["name"], x[11:16], y) for tr in traces for x, y in zip(tr["x"], tr["y"]) if y}
    hm = lambda m: (start + timedelta(minutes=m)).strftime("%H:%M")  # noqa: E731 - UTC in AppTest
    assert got == {(t("emo_happy"), hm(0), 1), (t("emo_sad"), hm(0), 1), (t("emo_happy"), hm(4), 1)}
    assert all(tr["width"] == 48_000 for tr in fig["data"])  # 80 % of a minute: visible on a time axis

    # the user's pick is kept across reruns, even where auto would choose otherwise
    at.selectbox(key="hist_gran").set_value("hour").run()
    at.selectbox(key="hist_style").set_value("area").run()
    at.run()
    assert at.selectbox(key="hist_gran").value == "hour"
    fig = _timeline(ok(at))
    assert {tr["type"] for tr in fig["data"]} == {"bar"}  # one hour = one bucket: bars, never an empty area
    assert sum(sum(tr["y"]) for tr in fig["data"]) == 3
    at.selectbox(key="hist_gran").set_value("minute").run()
    fig = _timeline(ok(at))
    assert {tr["type"] for tr in fig["data"]} == {"scatter"}  # two buckets or more: the chosen area
