"""The Plotly charts of ui.charts: the palette's colours, legends below the chart (never over the
toolbar), user names shown literally, the compact photo width."""
from __future__ import annotations

import pytest

pytest.importorskip("plotly")

from emotion.palette import EMOTION_HEX  # noqa: E402
from emotion.records import EMOTIONS  # noqa: E402
from ui import charts  # noqa: E402
from ui.i18n import t  # noqa: E402


def test_emotion_mix_uses_the_palette_one_colour_per_emotion():
    fig = charts.mix_chart({e: 0.1 * i for i, e in enumerate(EMOTIONS)})
    colours = {tr.name: tr.marker.color for tr in fig.data}
    assert colours == {t("emo_" + e): EMOTION_HEX[e] for e in EMOTIONS}
    assert len(set(colours.values())) == len(EMOTIONS)


def test_person_mix_legend_below_and_names_literal():
    fig = charts.person_mix_chart({"<b>Eve</b> & co": {"happy": 0.7, "sad": 0.3}, "Bob": {"neutral": 1.0}})
    assert fig.layout.legend.orientation == "h" and fig.layout.legend.y < 0
    xs = {x for tr in fig.data for x in tr.x}
    assert xs == {"&lt;b&gt;Eve&lt;/b&gt; &amp; co", "Bob"}


def test_people_chart_escapes_names():
    import pandas as pd

    df = pd.DataFrame({"person": ['<a href="http://x">x</a>', "unknown"],
                       "emotion": pd.Categorical(["happy", "sad"], categories=list(EMOTIONS))})
    fig = charts.people_chart(df)
    xs = {x for tr in fig.data for x in tr.x}
    assert '<a href="http://x">x</a>' not in xs and '&lt;a href="http://x"&gt;x&lt;/a&gt;' in xs
    assert fig.layout.legend.y < 0


@pytest.mark.parametrize("width, shown", [(100, 200), (300, 480), (479, 480), (480, 480), (1200, 1200)])
def test_photo_width_never_more_than_twice(width, shown):
    assert charts.photo_width(width) == shown
