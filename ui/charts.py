"""Tables and Plotly charts of analysed faces (Photo, Live, History), coloured by `emotion.palette`.

Every function returns a DataFrame or a figure; the pages show them. Labels are translated here, and
names (user data) only ever reach Plotly as data values, never as markup.
"""
from __future__ import annotations

from typing import Any

from emotion.palette import EMOTION_HEX
from emotion.records import EMOTIONS
from ui.i18n import t

#: history timeline buckets: granularity -> pandas frequency
FREQS = {"minute": "min", "hour": "h", "day": "D"}
_COMPACT = dict(height=260, margin=dict(l=0, r=0, t=10, b=0))


def emotion_labels() -> dict[str, str]:
    """Emotion -> its label in the session's language."""
    return {e: t("emo_" + e) for e in EMOTIONS}


def color_map() -> dict[str, str]:
    """Translated emotion label -> colour, for ``color_discrete_map``."""
    labels = emotion_labels()
    return {labels[e]: EMOTION_HEX[e] for e in EMOTIONS}


def faces_table(faces: list):
    """One row per face: number, name, dominant emotion and its score, and the seven scores."""
    import pandas as pd

    rows = []
    for i, f in enumerate(faces, 1):
        row = {"face": i, "name": f.identity.name, "emotion": f.dominant or "",
               "score": f.dominant_score if f.dominant_score is not None else float("nan")}
        for e, v in zip(EMOTIONS, f.scores if f.scores is not None else [float("nan")] * len(EMOTIONS)):
            row[e] = float(v)
        rows.append(row)
    return pd.DataFrame(rows, columns=["face", "name", "emotion", "score", *EMOTIONS])


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


def timeline_chart(df, granularity: str = "hour", style: str = "area"):
    """Faces per emotion per time bucket (`FREQS`), as stacked areas or lines."""
    import plotly.express as px

    ts = (df.assign(bucket=df["time"].dt.floor(FREQS[granularity]))
          .groupby(["bucket", "emotion"], observed=False).size().rename("count").reset_index())
    ts["emotion"] = ts["emotion"].astype(str).map(emotion_labels())
    plot = px.area if style == "area" else px.line
    return plot(ts, x="bucket", y="count", color="emotion", color_discrete_map=color_map(),
                labels={"bucket": t("time_utc"), "count": t("count"), "emotion": t("col_emotion")})


def people_chart(df, who: str = "person"):
    """Faces per person (the name as seen; "unknown" translated) and emotion, stacked."""
    import plotly.express as px

    unknown_label = t("unknown")
    per = (df.assign(person=df[who].fillna("unknown").replace("unknown", unknown_label))
           .groupby(["person", "emotion"], observed=False).size().rename("count").reset_index())
    per["emotion"] = per["emotion"].astype(str).map(emotion_labels())
    return px.bar(per, x="person", y="count", color="emotion", color_discrete_map=color_map(), barmode="stack",
                  labels={"person": t("col_name"), "count": t("count"), "emotion": t("col_emotion")})


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
    rows = [{"person": name, "emotion": labels[e], "score": mix.get(e, 0.0)}
            for name, mix in per.items() for e in EMOTIONS]
    fig = px.bar(pd.DataFrame(rows), x="person", y="score", color="emotion", barmode="stack",
                 color_discrete_map=color_map(), labels={"person": "", "score": "", "emotion": ""})
    fig.update_layout(**_COMPACT)
    return fig
