"""Models: every model the app can use, where its weights come from, whether it is usable here and
its measured accuracy when known (emotion.registry.describe_models)."""
from __future__ import annotations

import streamlit as st

from ui import gate, outage, resources, text, user_settings
from ui.i18n import current_language, t

gate.require_user()
st.title(t("models_title"))
st.caption(t("models_intro"))

try:
    from emotion.registry import describe_models

    rows = describe_models()
except Exception as err:  # the page must render even when a model package is broken
    st.error(t("models_error", error=text.md(err)))
    rows = []

if rows:
    import pandas as pd

    frame = pd.DataFrame(rows)
    wanted = ["role", "name", "usable", "accuracy", "origin", "weights", "note"]
    for c in wanted:
        if c not in frame.columns:
            frame[c] = None
    frame = frame[wanted]
    frame["accuracy"] = frame["accuracy"].map(  # fractions; some metadata writes percents
        lambda v: None if v is None or v != v else (float(v) / 100 if float(v) > 1 else float(v)))
    for c in frame.columns:  # paths and odd objects as text; numbers and booleans stay typed
        if frame[c].dtype == object:
            frame[c] = frame[c].map(lambda v: v if v is None or isinstance(v, (bool, int, float)) else str(v))
    st.dataframe(frame, hide_index=True, width="stretch", column_config={
        "role": t("col_role"), "name": t("col_model"), "weights": t("col_weights"), "origin": t("col_origin"),
        "usable": st.column_config.CheckboxColumn(t("col_usable")),
        "accuracy": st.column_config.NumberColumn(t("col_accuracy"), format="percent"),
        "note": t("col_note"),
    })

from emotion.draw import can_draw_cjk  # noqa: E402
from emotion.fonts import INSTALL_HINT  # noqa: E402

if current_language() != "en" and not can_draw_cjk():
    st.info(t("no_cjk_font", command=INSTALL_HINT), icon="🔤")

settings = user_settings.get_settings()
st.subheader(t("models_in_use"))
st.write({t("detector"): settings.detector, t("recognizer"): settings.recognizer,
          t("classifier"): settings.classifier})
with outage.db_guard(show=False):
    st.caption(t("database", url=text.md(resources.get_store().url)))
