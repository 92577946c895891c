"""Emotion classification: FER-framed uint8 (N, 48, 48) crops -> (N, 7) probabilities (EMOTIONS order).

`create_classifier(name="fernet")` (uncached; `emotion.registry.get_classifier` caches):
* "fernet" - the project's own FER2013 model on ONNX Runtime (models/fernet.onnx, `emotion.classify.fernet`);
* "deepface" - DeepFace's emotion model, only when its weights file is already present
  (`emotion.classify.deepface_emotion`; never downloaded).
"""
from __future__ import annotations

from emotion.classify.base import EmotionClassifier

DEFAULT_CLASSIFIER = "fernet"
CLASSIFIERS = ("fernet", "deepface")

__all__ = ["EmotionClassifier", "DEFAULT_CLASSIFIER", "CLASSIFIERS", "create_classifier", "available_classifiers"]


def available_classifiers() -> list[str]:
    from emotion.classify import deepface_emotion, fernet

    out = []
    if fernet.model_path().is_file():
        out.append("fernet")
    if deepface_emotion.is_available():
        out.append("deepface")
    return out


def create_classifier(name: str = DEFAULT_CLASSIFIER) -> EmotionClassifier:
    key = (name or DEFAULT_CLASSIFIER).lower()
    if key == "fernet":
        from emotion.classify.fernet import FerNetClassifier

        return FerNetClassifier()
    if key == "deepface":
        from emotion.classify.deepface_emotion import DeepFaceEmotionClassifier

        return DeepFaceEmotionClassifier()
    raise ValueError(f"unknown emotion classifier {name!r}; choose one of {', '.join(CLASSIFIERS)}")
