"""Models: the models in use with their measured figure and the command that measures it (or "not
measured"), then every model the app can use, where its weights come from and whether it is usable
here (emotion.registry.describe_models). Plain translated tables: no raw JSON, no "None".
The Compare tab runs the models on the user's own photos (`ui.compare_view`)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from emotion.model_figures import models_in_use
from ui import compare_view, gate, outage, resources, text, user_settings
from ui.i18n import current_language, t
from ui.model_paths import figure_text


def role_label(role: str) -> str:
    return t("role_" + role) if t("role_" + role) != "role_" + role else role


user = gate.require_user()
st.title(t("models_title"))
tab_models, tab_compare = st.tabs([t("cmp_tab_models"), t("cmp_tab_compare")])

with tab_models:
    st.caption(t("models_intro"))

    # ---- in use ------------------------------------------------------------------------------------
    settings = user_settings.get_settings()
    st.subheader(t("models_in_use"))
    in_use = models_in_use(settings.detector, settings.recognizer, settings.classifier)
    st.dataframe(pd.DataFrame({
        "role": [role_label(m.role) for m in in_use],
        "name": [m.name for m in in_use],
        "figure": [figure_text(m.figure) for m in in_use],
        "command": [m.command or "–" for m in in_use],
    }), hide_index=True, width="stretch", key="models_in_use_table", column_config={
        "role": t("col_role"), "name": t("col_model"), "figure": t("col_measured"),
        "command": st.column_config.TextColumn(t("col_command"), help=t("col_command_help")),
    })

    # ---- every model -------------------------------------------------------------------------------
    st.subheader(t("models_all"))
    try:
        from emotion.registry import describe_models

        rows = describe_models()
    except Exception as err:  # the page must render even when a model package is broken
        st.error(t("models_error", error=text.md(err)))
        rows = []

    if rows:
        def _accuracy(v) -> str:
            try:
                v = float(v)
            except (TypeError, ValueError):
                return t("not_measured")
            if v != v:
                return t("not_measured")
            return f"{(v / 100 if v > 1 else v):.1%}"  # fractions; some metadata writes percents

        def _text(v) -> str:
            return "" if v is None or v != v else str(v)

        frame = pd.DataFrame({
            "role": [role_label(str(r.get("role", ""))) for r in rows],
            "name": [_text(r.get("name")) for r in rows],
            "usable": [bool(r.get("usable")) for r in rows],
            "accuracy": [_accuracy(r.get("accuracy")) for r in rows],
            "origin": [_text(r.get("origin")) for r in rows],
            "note": [_text(r.get("note")) for r in rows],
            "weights": [_text(r.get("weights")) for r in rows],
        })
        st.dataframe(frame, hide_index=True, width="stretch", key="models_all_table", column_config={
            "role": t("col_role"), "name": t("col_model"), "weights": t("col_weights"), "origin": t("col_origin"),
            "usable": st.column_config.CheckboxColumn(t("col_usable")),
            "accuracy": t("col_accuracy"), "note": t("col_note"),
        })

    from emotion.draw import can_draw_cjk
    from emotion.fonts import INSTALL_HINT

    if current_language() != "en" and not can_draw_cjk():
        st.info(t("no_cjk_font", command=INSTALL_HINT), icon=":material/translate:")

    with outage.db_guard(show=False):
        st.caption(t("database", url=text.md(resources.get_store().url)))

with tab_compare:
    compare_view.render(user)
