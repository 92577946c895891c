"""Settings (kept for this session): face detector for photos, recognition threshold, landmark
display and whether photos are saved to the history by default."""
from __future__ import annotations

import streamlit as st

from ui import gate, resources, user_settings
from ui.i18n import t

user = gate.require_user()
settings = user_settings.get_settings()
st.title(t("settings_title"))

choices = user_settings.detector_choices() or [settings.detector]
if settings.detector and settings.detector not in choices:
    choices = [settings.detector, *choices]
detector = st.selectbox(t("detector"), choices, index=choices.index(settings.detector) if settings.detector in choices
                        else 0, help=t("detector_help"), key="set_detector")

defaults = resources.recognizer_defaults(settings.recognizer)
if defaults is None:
    st.warning(t("recognizer_unavailable"))
    threshold = settings.threshold
else:
    metric, default_threshold = defaults
    current = default_threshold if settings.threshold is None else settings.threshold
    hi = max(round(default_threshold * 2, 2), current, 0.01)
    threshold = st.slider(t("threshold"), min_value=0.0, max_value=float(hi), value=float(current),
                          step=0.01, help=t("threshold_help", metric=metric, default=default_threshold),
                          key="set_threshold")
    if st.button(t("threshold_reset"), key="set_threshold_reset"):
        st.session_state.pop("set_threshold", None)
        user_settings.update_settings(threshold=None)
        st.rerun()
    if abs(threshold - default_threshold) < 1e-9:
        threshold = None  # follow the recogniser's default (and any later change of it)

show_landmarks = st.toggle(t("show_landmarks"), value=settings.show_landmarks, key="set_landmarks")
save_history = st.toggle(t("save_default"), value=settings.save_history, key="set_save")

new = user_settings.update_settings(detector=detector, threshold=threshold, show_landmarks=show_landmarks,
                             save_history=save_history)
if new != settings:
    st.toast(t("settings_saved"), icon="✅")
st.caption(t("settings_note"))

st.divider()
from ui import faceauth_settings  # noqa: E402 - the Security section (face sign-in, codes, sign-ins)

faceauth_settings.render(user)
