"""Emotion classification: FER-framed uint8 (N, 48, 48) crops -> (N, 7) probabilities (EMOTIONS order).

`create_classifier(name="fernet")` (uncached; `emotion.registry.get_classifier` caches):
* "fernet" - the project's own FER2013 model on ONNX Runtime (models/fernet.onnx, `emotion.classify.fernet`);
* "fer_vgg" / "fer_vgg_int8" - the round-2 PyTorch-trained model (models/fer_vgg.onnx, float32 with flip TTA;
  models/fer_vgg.int8.onnx, static int8, one pass), `emotion.classify.fer_vgg`;
* "deepface" - DeepFace's emotion model, only when its weights file is already present
  (`emotion.classify.deepface_emotion`; never downloaded).
"""
from __future__ import annotations

from emotion.classify.base import EmotionClassifier

DEFAULT_CLASSIFIER = "fernet"
CLASSIFIERS = ("fernet", "fer_vgg", "fer_vgg_int8", "deepface")

__all__ = ["EmotionClassifier", "DEFAULT_CLASSIFIER", "CLASSIFIERS", "create_classifier", "available_classifiers"]


def available_classifiers() -> list[str]:
    from emotion.classify import deepface_emotion, fer_vgg, fernet

    out = []
    if fernet.model_path().is_file():
        out.append("fernet")
    if fer_vgg.model_path().is_file():
        out.append("fer_vgg")
    if fer_vgg.model_path(int8=True).is_file():
        out.append("fer_vgg_int8")
    if deepface_emotion.is_available():
        out.append("deepface")
    return out


def create_classifier(name: str = DEFAULT_CLASSIFIER) -> EmotionClassifier:
    key = (name or DEFAULT_CLASSIFIER).lower()
    if key == "fernet":
        from emotion.classify.fernet import FerNetClassifier

        return FerNetClassifier()
    if key in ("fer_vgg", "fer_vgg_int8"):
        from emotion.classify.fer_vgg import FerVggClassifier

        return FerVggClassifier(int8=key == "fer_vgg_int8")
    if key == "deepface":
        from emotion.classify.deepface_emotion import DeepFaceEmotionClassifier

        return DeepFaceEmotionClassifier()
    raise ValueError(f"unknown emotion classifier {name!r}; choose one of {', '.join(CLASSIFIERS)}")
