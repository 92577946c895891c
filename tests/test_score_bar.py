"""The compact score bar of the Photo results table (emotion.score_bar)."""
from __future__ import annotations

import base64

from emotion.records import EMOTIONS
from emotion.score_bar import legend_svg, score_bar, score_bar_svg, segments


def test_segments_tile_the_bar_in_proportion():
    segs = segments([0.1, 0.0, 0.0, 0.6, 0.05, 0.0, 0.25], width=100)
    assert [e for e, _, _ in segs] == ["angry", "happy", "sad", "neutral"]
    assert [(x, w) for _, x, w in segs] == [(0, 10), (10, 60), (70, 5), (75, 25)]


def test_scores_not_summing_to_one_and_bad_values():
    segs = segments([2, 0, 0, 2, 0, float("nan"), -1], width=50)
    assert [(e, x, w) for e, x, w in segs] == [("angry", 0, 25), ("happy", 25, 25)]
    assert segments(None) == [] and segments([0.5] * 3) == [] and segments([0] * len(EMOTIONS)) == []


def test_svg_and_data_url():
    svg = score_bar_svg([0, 0, 0, 1, 0, 0, 0], width=60, height=10, colors={e: "#123456" for e in EMOTIONS})
    assert svg.count("<rect") == 2 and 'width="60" height="10" fill="#123456"' in svg
    url = score_bar([0, 0, 0, 1, 0, 0, 0])
    assert url.startswith("data:image/svg+xml;base64,")
    assert base64.b64decode(url.split(",", 1)[1]).decode().startswith("<svg")


def test_legend_escapes_labels():
    svg = legend_svg({"happy": "<script>x</script>", "sad": "悲伤"})
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "悲伤" in svg
    assert svg.count("<rect") == len(EMOTIONS)
