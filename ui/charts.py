"""Tables and Plotly charts of analysed faces (Photo, Live, History), coloured by `emotion.palette`.

Every function returns a DataFrame or a figure; the pages show them. Labels are translated here, and
names (user data) only ever reach Plotly as data values, never as markup.
"""
from __future__ import annotations

from typing import Any

from emotion.palette import EMOTION_HEX
from emotion.records import EMOTIONS
from ui.i18n import t

_COMPACT = dict(height=260, margin=dict(l=0, r=0, t=30, b=0))
#: legends go below a chart, so they never cover Plotly's toolbar (top right)
LEGEND_BELOW = dict(orientation="h", yanchor="top", y=-0.2, x=0, xanchor="left", title_text="")


def plain(name: Any) -> str:
    """A user-supplied name as Plotly shows it literally (Plotly reads <b>, <a href=...> and & in
    labels as markup)."""
    import html

    return html.escape(str(name), quote=False)


def emotion_labels() -> dict[str, str]:
    """Emotion -> its label in the session's language."""
    return {e: t("emo_" + e) for e in EMOTIONS}


def color_map() -> dict[str, str]:
    """Translated emotion label -> colour, for ``color_discrete_map``."""
    labels = emotion_labels()
    return {labels[e]: EMOTION_HEX[e] for e in EMOTIONS}


def faces_table(faces: list):
    """One row per face, numbered as on the drawn image (1, 2, 3 ... left to right,
    `emotion.draw.face_order`): number, name, dominant emotion (translated) and its score, the seven
    scores as one compact bar (an SVG data URL for an image column), and the seven scores."""
    import pandas as pd

    from emotion.draw import face_order
    from emotion.score_bar import score_bar

    labels = emotion_labels()
    rows = []
    for number, i in enumerate(face_order(faces), 1):
        f = faces[i]
        scores = list(f.scores) if f.scores is not None else [float("nan")] * len(EMOTIONS)
        row = {"face": number, "name": t("unknown") if not f.identity.known else f.identity.name,
               "emotion": labels.get(f.dominant or "", "–"),
               "score": f.dominant_score if f.dominant_score is not None else float("nan"),
               "scores": score_bar(f.scores)}
        for e, v in zip(EMOTIONS, scores):
            row[e] = float(v)
        rows.append(row)
    return pd.DataFrame(rows, columns=["face", "name", "emotion", "score", "scores", *EMOTIONS])


def scores_legend() -> str:
    """SVG markup of the score bar's colours, labelled in the session's language."""
    from emotion.score_bar import legend_svg

    return legend_svg(emotion_labels())


def photo_width(image_width: int, target: int = 480) -> int:
    """Display width of a photo: its own size (a wide one is capped by its column), a small one
    enlarged up to `target` px but never more than twice its size (blurry otherwise)."""
    image_width = max(1, int(image_width))
    return image_width if image_width >= target else min(2 * image_width, target)


# ---- History ---------------------------------------------------------------------------------------

def with_emotion_category(frame):
    """The rows of a `Store.history_frame` that have a dominant emotion, with an ordered
    ``emotion`` category column."""
    import pandas as pd

    df = frame.dropna(subset=["dominant"]).copy()
    df["emotion"] = pd.Categorical(df["dominant"], categories=list(EMOTIONS))
    return df


def distribution_chart(df, kind: str = "bar"):
    """How often each emotion was dominant: a bar chart or (``kind="pie"``) a pie."""
    import pandas as pd
    import plotly.express as px

    labels = emotion_labels()
    counts = df["emotion"].value_counts(sort=False).reindex(list(EMOTIONS), fill_value=0)
    dist = pd.DataFrame({"emotion": [labels[e] for e in EMOTIONS], "key": list(EMOTIONS), "count": counts.values})
    if kind == "pie":
        return px.pie(dist[dist["count"] > 0], names="emotion", values="count", color="emotion",
                      color_discrete_map=color_map())
    fig = px.bar(dist, x="emotion", y="count", color="emotion", color_discrete_map=color_map(),
                 labels={"emotion": t("col_emotion"), "count": t("count")})
    fig.update_layout(showlegend=False)
    return fig


#: bar width as a share of its bucket; bucket lengths in milliseconds (a month counted as 30 days)
_BAR_SHARE = 0.8
_BUCKET_MS = {"minute": 60_000, "hour": 3_600_000, "day": 86_400_000, "week": 7 * 86_400_000,
              "month": 30 * 86_400_000}


def timeline_chart(df, bucket: str, style: str, tz, tz_label: str):
    """Faces per emotion per time bucket (`emotion.history_buckets`), in the viewer's time zone
    `tz`: stacked bars, stacked areas or lines. A single bucket is always drawn as bars (an area or
    a line of one point draws nothing), each bar as wide as most of its bucket so it is visible on
    a time axis."""
    import plotly.express as px

    from emotion.history_buckets import bucket_counts, timeline_style

    counts = bucket_counts(df["time"], df["emotion"].astype(str), bucket, tz, EMOTIONS)
    counts["bucket"] = counts["bucket"].dt.tz_localize(None)  # local wall-clock time on the axis
    style = timeline_style(counts["bucket"].nunique(), style)
    counts["emotion"] = counts["emotion"].map(emotion_labels())
    axis = {"bucket": t("time_local", tz=tz_label), "count": t("count"), "emotion": t("col_emotion")}
    if style == "bars":
        fig = px.bar(counts, x="bucket", y="count", color="emotion", color_discrete_map=color_map(),
                     barmode="stack", labels=axis)
        fig.update_traces(width=_BUCKET_MS[bucket] * _BAR_SHARE)
        starts = counts["bucket"].drop_duplicates()
        if len(starts) <= 2:  # a few buckets: room around them, so a bar does not fill the whole plot
            import pandas as pd

            step = pd.Timedelta(milliseconds=_BUCKET_MS[bucket])
            fig.update_xaxes(range=[starts.min() - 2 * step, starts.max() + 3 * step])
    else:
        plot = px.area if style == "area" else px.line
        fig = plot(counts, x="bucket", y="count", color="emotion", color_discrete_map=color_map(), labels=axis,
                   markers=style == "lines")
    fig.update_layout(legend=LEGEND_BELOW, margin=dict(l=0, r=0, t=30, b=0))
    fig.update_yaxes(rangemode="tozero")
    return fig


def people_chart(df, who: str = "person"):
    """Faces per person (the name as seen; "unknown" translated) and emotion, stacked."""
    import plotly.express as px

    unknown_label = t("unknown")
    per = (df.assign(person=df[who].fillna("unknown").replace("unknown", unknown_label))
           .groupby(["person", "emotion"], observed=False).size().rename("count").reset_index())
    per["emotion"] = per["emotion"].astype(str).map(emotion_labels())
    per["person"] = per["person"].map(plain)
    fig = px.bar(per, x="person", y="count", color="emotion", color_discrete_map=color_map(), barmode="stack",
                 labels={"person": t("col_name"), "count": t("count"), "emotion": t("col_emotion")})
    fig.update_layout(legend=LEGEND_BELOW, margin=dict(l=0, r=0, t=30, b=0))
    return fig


# ---- Live ------------------------------------------------------------------------------------------

def mix_chart(mix: dict[str, float]) -> Any:
    """The mean emotion scores of the last seconds, one bar per emotion in its colour."""
    import pandas as pd
    import plotly.express as px

    labels = emotion_labels()
    df = pd.DataFrame({"emotion": [labels[e] for e in EMOTIONS], "score": [mix.get(e, 0.0) for e in EMOTIONS]})
    fig = px.bar(df, x="emotion", y="score", range_y=[0, 1], color="emotion", color_discrete_map=color_map(),
                 labels={"emotion": "", "score": ""})
    fig.update_layout(showlegend=False, **_COMPACT)
    return fig


def person_mix_chart(per: dict[str, dict[str, float]]) -> Any:
    """Per person, the mean emotion scores of the last seconds, stacked."""
    import pandas as pd
    import plotly.express as px

    labels = emotion_labels()
    rows = [{"person": plain(name), "emotion": labels[e], "score": mix.get(e, 0.0)}
            for name, mix in per.items() for e in EMOTIONS]
    fig = px.bar(pd.DataFrame(rows), x="person", y="score", color="emotion", barmode="stack",
                 color_discrete_map=color_map(), labels={"person": "", "score": "", "emotion": ""})
    fig.update_layout(**{**_COMPACT, "height": 320}, legend=LEGEND_BELOW)
    return fig
