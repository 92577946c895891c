"""The signed-in user's model and display settings, kept in the session."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import streamlit as st

from emotion.classify import canonical_name
from emotion.config import CONFIG

RECOGNIZER = CONFIG.recognizer
CLASSIFIER = CONFIG.classifier
SETTINGS_KEY = "user_settings"


@dataclass(frozen=True)
class Settings:
    detector: str = ""
    #: recognition distance threshold; None = the recogniser's own default
    threshold: float | None = None
    show_landmarks: bool = True
    save_history: bool = True
    recognizer: str = RECOGNIZER
    classifier: str = CLASSIFIER

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


def default_detector() -> str:
    """The configured photo detector (`emotion.config.AppConfig.detector`, EMOTION_DETECTOR), else the
    first one usable here."""
    choices = detector_choices()
    if not choices or CONFIG.detector in choices:
        return CONFIG.detector
    return choices[0]


def get_settings() -> Settings:
    s = st.session_state.get(SETTINGS_KEY)
    if not isinstance(s, Settings):
        s = Settings(detector=default_detector())
        st.session_state[SETTINGS_KEY] = s
    return s


def update_settings(**changes: Any) -> Settings:
    s = replace(get_settings(), **changes)
    st.session_state[SETTINGS_KEY] = s
    return s

