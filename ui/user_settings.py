"""The signed-in user's settings: kept in the session, saved per user in the database, restored at
sign-in.

Every setting has its default in one place (`defaults()`, from `emotion.config` and the model
registries, `emotion.config.AppConfig`); the database keeps only what the user changed, as a small JSON object
(`Store.save_settings`), so a setting added later needs no migration: add a field to `Settings`
and its default to `defaults()`. Saved values that no longer make sense here (a detector that is
not installed, a threshold of the wrong type) fall back to the default instead of failing.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any, Mapping

import streamlit as st

from emotion.classify import canonical_name
from emotion.config import CONFIG

RECOGNIZER = CONFIG.recognizer
CLASSIFIER = CONFIG.classifier
SETTINGS_KEY = "user_settings"
#: a language restored at sign-in, applied at the top of the next run (before the sidebar's
#: language widget exists: a widget's value cannot change after it was drawn in a run)
PENDING_LANG_KEY = "_settings_pending_lang"
THRESHOLD_MAX = 10.0


@dataclass(frozen=True)
class Settings:
    detector: str = ""
    #: recognition distance threshold; None = the recogniser's own default
    threshold: float | None = None
    show_landmarks: bool = True
    save_history: bool = True
    recognizer: str = RECOGNIZER
    classifier: str = CLASSIFIER
    #: "" = whatever the session uses (the sidebar switch)
    language: str = ""
    #: low-light enhancement of the photo the detector sees: "auto" | "on" | "off"
    #: (`emotion.enhance`; default EMOTION_ENHANCE, off when unset: measured to hurt BlazeFace)
    enhance: str = "off"

    def __post_init__(self) -> None:
        # settings stored before the classifier's rename say "fernet"
        object.__setattr__(self, "classifier", canonical_name(self.classifier))

    def analyzer_key(self) -> tuple[str, str, str]:
        return (self.detector, self.recognizer, self.classifier)


def detector_choices() -> list[str]:
    try:
        from emotion.detect import available_detectors

        names = list(available_detectors())
    except Exception:  # pragma: no cover - engine not there yet
        names = []
    return names


def recognizer_choices() -> list[str]:
    try:
        from emotion.recognize import available_recognizers

        return list(available_recognizers())
    except Exception:  # pragma: no cover - a broken optional package
        return [RECOGNIZER]


def classifier_choices() -> list[str]:
    try:
        from emotion.classify import available_classifiers

        return list(available_classifiers())
    except Exception:  # pragma: no cover - a broken optional package
        return [CLASSIFIER]


def default_detector() -> str:
    """The configured photo detector (`emotion.config.AppConfig.detector`, EMOTION_DETECTOR), else the
    first one usable here."""
    choices = detector_choices()
    if not choices or CONFIG.detector in choices:
        return CONFIG.detector
    return choices[0]


def enhance_choices() -> tuple[str, ...]:
    from emotion.enhance import MODES

    return MODES


def default_enhance() -> str:
    from emotion.enhance import default_mode

    return default_mode()


def defaults() -> Settings:
    """Every setting's default: the one place they come from."""
    return Settings(detector=default_detector(), enhance=default_enhance())


def from_saved(saved: Mapping[str, Any], base: Settings | None = None) -> Settings:
    """`base` (the defaults) with the saved values that are valid here; the rest stay default."""
    s = base or defaults()
    if not isinstance(saved, Mapping):
        return s
    changes: dict[str, Any] = {}
    det = saved.get("detector")
    if isinstance(det, str) and det and (det in detector_choices() or det == s.detector):
        changes["detector"] = det
    rec = saved.get("recognizer")
    if isinstance(rec, str) and rec in recognizer_choices():
        changes["recognizer"] = rec
    cls = saved.get("classifier")
    if isinstance(cls, str) and canonical_name(cls) in classifier_choices():
        changes["classifier"] = canonical_name(cls)
    if "threshold" in saved:
        th = saved["threshold"]
        if th is None:
            changes["threshold"] = None
        elif isinstance(th, (int, float)) and not isinstance(th, bool) and math.isfinite(th) \
                and 0.0 <= th <= THRESHOLD_MAX:
            changes["threshold"] = float(th)
    for flag in ("show_landmarks", "save_history"):
        if isinstance(saved.get(flag), bool):
            changes[flag] = saved[flag]
    enh = saved.get("enhance")
    if isinstance(enh, str) and enh in enhance_choices():
        changes["enhance"] = enh
    lang = saved.get("language")
    from ui.i18n import STRINGS

    if isinstance(lang, str) and lang in STRINGS:
        changes["language"] = lang
    return replace(s, **changes)


def get_settings() -> Settings:
    s = st.session_state.get(SETTINGS_KEY)
    if not isinstance(s, Settings):
        s = defaults()
        st.session_state[SETTINGS_KEY] = s
    return s


def update_settings(**changes: Any) -> Settings:
    """Change settings for this session only (see `save_settings` to keep them)."""
    s = replace(get_settings(), **changes)
    st.session_state[SETTINGS_KEY] = s
    return s


def save_settings(store, user_id: int, **changes: Any) -> Settings:
    """Change settings in the session and save the changed ones for the user. The session keeps
    the change even when the database write fails (the caller's `db_guard` says so)."""
    old = get_settings()
    new = update_settings(**changes)
    diff = {k: v for k, v in asdict(new).items() if asdict(old).get(k) != v or k in changes}
    if diff:
        store.save_settings(user_id, diff)
    return new


def restore(store, user_id: int) -> Settings:
    """At sign-in: the user's saved settings into the session (defaults for what was never saved),
    and their language for the next run."""
    s = from_saved(store.get_settings(user_id))
    st.session_state[SETTINGS_KEY] = s
    if s.language:
        st.session_state[PENDING_LANG_KEY] = s.language
    return s


def apply_pending_language() -> None:
    """Top of a run, before the language switch is drawn: the language restored at sign-in."""
    from ui.i18n import LANG_KEY, STRINGS

    lang = st.session_state.pop(PENDING_LANG_KEY, None)
    if lang in STRINGS:
        st.session_state[LANG_KEY] = lang
