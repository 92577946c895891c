"""Emotion classification: FER-framed uint8 (N, 48, 48) crops -> (N, 7) probabilities (EMOTIONS order).

`create_classifier(name="fer_cnn")` (uncached; `emotion.registry.get_classifier` caches):
* "fer_cnn" - the project's own FER2013 CNN on ONNX Runtime (models/fer_cnn.onnx, `emotion.classify.fer_cnn`);
  its old name "fernet" is still accepted (stored settings, scripts);
* "fer_vgg" / "fer_vgg_int8" - the round-2 PyTorch-trained model (models/fer_vgg.onnx, float32 with flip TTA;
  models/fer_vgg.int8.onnx, static int8, one pass; each averaged with its fer_kd partner file when that is
  shipped), `emotion.classify.fer_vgg`, when those files exist;
* "deepface" - DeepFace's emotion model, only when its weights file is already present
  (`emotion.classify.deepface_emotion`; never downloaded).
"""
from __future__ import annotations

from emotion.classify.base import EmotionClassifier
from emotion.config import CONFIG

DEFAULT_CLASSIFIER = CONFIG.classifier
CLASSIFIERS = ("fer_cnn", "fer_vgg", "fer_vgg_int8", "deepface")
#: old names still accepted when read from stored settings or given on the command line
ALIASES = {"fernet": "fer_cnn"}

__all__ = ["EmotionClassifier", "DEFAULT_CLASSIFIER", "CLASSIFIERS", "ALIASES", "canonical_name",
           "create_classifier", "available_classifiers"]


def canonical_name(name: str | None) -> str:
    """The classifier's current name: lower case, an old alias replaced, None -> the default."""
    key = (name or DEFAULT_CLASSIFIER).strip().lower()
    return ALIASES.get(key, key)


def available_classifiers() -> list[str]:
    from emotion.classify import deepface_emotion, fer_cnn, fer_vgg

    out = []
    if fer_cnn.model_path().is_file():
        out.append("fer_cnn")
    if fer_vgg.first_path().is_file():
        out.append("fer_vgg")
    if fer_vgg.first_path(int8=True).is_file():
        out.append("fer_vgg_int8")
    if deepface_emotion.is_available():
        out.append("deepface")
    return out


def create_classifier(name: str | None = None) -> EmotionClassifier:
    key = canonical_name(name)
    if key == "fer_cnn":
        from emotion.classify.fer_cnn import FerCnnClassifier

        return FerCnnClassifier()
    if key in ("fer_vgg", "fer_vgg_int8"):
        from emotion.classify.fer_vgg import FerVggClassifier

        return FerVggClassifier(int8=key == "fer_vgg_int8")
    if key == "deepface":
        from emotion.classify.deepface_emotion import DeepFaceEmotionClassifier

        return DeepFaceEmotionClassifier()
    raise ValueError(f"unknown emotion classifier {name!r}; choose one of {', '.join(CLASSIFIERS)}")
