"""Settings, saved per user and restored at every sign-in: face detector for photos, recogniser and
its threshold, emotion classifier, low-light enhancement of photos, landmark display, whether photos
are saved to the history by default (and the language, from the sidebar switch). Defaults: `ui.user_settings.defaults`."""
from __future__ import annotations

import streamlit as st

from ui import gate, outage, resources, user_settings
from ui.i18n import t
from ui.model_paths import classifier_paths_text

user = gate.require_user()
settings = user_settings.get_settings()
st.title(t("settings_title"))


def _select(label: str, choices: list[str], current: str, key: str, help: str | None = None) -> str:
    choices = list(choices) or [current]
    if current and current not in choices:
        choices = [current, *choices]
    return st.selectbox(label, choices, index=choices.index(current) if current in choices else 0, help=help,
                        key=key)


detector = _select(t("detector"), user_settings.detector_choices(), settings.detector, "set_detector",
                   t("detector_help"))
recognizer = _select(t("recognizer"), user_settings.recognizer_choices(), settings.recognizer, "set_recognizer",
                     t("recognizer_help"))
classifier = _select(t("classifier"), user_settings.classifier_choices(), settings.classifier, "set_classifier",
                     t("classifier_help"))
paths_text = classifier_paths_text(classifier)
if paths_text:
    st.caption(paths_text)

threshold = settings.threshold if recognizer == settings.recognizer else None  # a new recogniser: its default
defaults = resources.recognizer_defaults(recognizer)
if defaults is None:
    st.warning(t("recognizer_unavailable"), icon=":material/warning:")
else:
    metric, default_threshold = defaults
    current = default_threshold if threshold is None else threshold
    hi = max(round(default_threshold * 2, 2), current, 0.01)
    threshold = st.slider(t("threshold"), min_value=0.0, max_value=float(hi), value=float(current),
                          step=0.01, help=t("threshold_help", metric=metric, default=default_threshold),
                          key=f"set_threshold_{recognizer}")
    if st.button(t("threshold_reset"), key="set_threshold_reset", icon=":material/restart_alt:"):
        st.session_state.pop(f"set_threshold_{recognizer}", None)
        with outage.db_guard(t("settings_not_saved")):
            user_settings.save_settings(resources.get_store(), user["id"], threshold=None)
        st.rerun()
    if abs(threshold - default_threshold) < 1e-9:
        threshold = None  # follow the recogniser's default (and any later change of it)

# the options are the translated labels (not a format_func: AppTest cannot read those back)
enhance_labels = {t(f"enh_{m}"): m for m in user_settings.enhance_choices()}
current_label = next((k for k, m in enhance_labels.items() if m == settings.enhance), None)
labels = list(enhance_labels)
chosen = st.radio(t("enh_label"), labels, index=labels.index(current_label) if current_label else 0,
                  help=t("enh_help"), horizontal=True, key="set_enhance")
enhance = enhance_labels.get(chosen, settings.enhance)

show_landmarks = st.toggle(t("show_landmarks"), value=settings.show_landmarks, key="set_landmarks")
save_history = st.toggle(t("save_default"), value=settings.save_history, key="set_save")

changes = dict(detector=detector, recognizer=recognizer, classifier=classifier, threshold=threshold,
               show_landmarks=show_landmarks, save_history=save_history, enhance=enhance)
if any(getattr(settings, k) != v for k, v in changes.items()):
    with outage.db_guard(t("settings_not_saved")) as guard:
        user_settings.save_settings(resources.get_store(), user["id"], **changes)
    if not guard.failed:
        st.toast(t("settings_saved"), icon=":material/check_circle:")
    else:
        user_settings.update_settings(**changes)  # kept for this session at least
st.caption(t("settings_note_saved"))

st.divider()
from ui import faceauth_settings  # noqa: E402 - the Security section (face sign-in, codes, sign-ins)

faceauth_settings.render(user)
