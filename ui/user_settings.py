"""The signed-in user's model and display settings, kept in the session."""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any

import streamlit as st



RECOGNIZER = "Dlib"
CLASSIFIER = "fernet"
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
    env = os.environ.get("EMOTION_DETECTOR")
    choices = detector_choices()
    if env:
        return env
    try:
        from emotion.detect import DEFAULT_DETECTOR  # type: ignore[attr-defined]

        if not choices or DEFAULT_DETECTOR in choices:
            return DEFAULT_DETECTOR
    except Exception:
        pass
    return choices[0] if choices else "opencv"


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

