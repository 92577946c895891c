"""Which detectors, recognisers and emotion classifiers can run here, and why not - without building them.

Only file and package checks (no model is loaded, nothing is downloaded). For DeepFace's models the
status names the weights file that would have to be placed in ``$DEEPFACE_HOME/.deepface/weights``
(`emotion.deepface_home.weights_dir`) to enable them. Building a model can still fail afterwards
(e.g. a corrupt file); `emotion.compare.engine` then marks it with ``build_failed``.
"""
from __future__ import annotations

from pathlib import Path

from emotion.compare.results import (REASON_PACKAGE_MISSING, REASON_UNKNOWN_MODEL, REASON_WEIGHTS_MISSING,
                                     ModelStatus)


def detector_names() -> list[str]:
    from emotion.detect import detector_names as names

    return names()


def recognizer_names() -> list[str]:
    from emotion.recognize import all_recognizers

    return all_recognizers()


def classifier_names() -> list[str]:
    from emotion.classify import CLASSIFIERS

    return list(CLASSIFIERS)


def detector_statuses(names: list[str] | tuple[str, ...]) -> dict[str, ModelStatus]:
    """`detector_status` of each name, describing the registry once."""
    from emotion.detect import describe_detectors

    rows = describe_detectors()
    return {n: detector_status(n, rows) for n in names}


def detector_status(name: str, rows: list[dict] | None = None) -> ModelStatus:
    from emotion.detect import describe_detectors

    rows = describe_detectors() if rows is None else rows
    row = next((d for d in rows if d["name"] == name.strip().lower()), None)
    if row is None:
        return ModelStatus("detector", name, False, REASON_UNKNOWN_MODEL,
                           f"unknown face detector {name!r}; known: {', '.join(detector_names())}")
    if row["usable"]:
        return ModelStatus("detector", row["name"], True)
    reason = row.get("reason") or "not usable here"
    missing = _missing_detector_file(row["name"])
    if missing is None:
        return ModelStatus("detector", row["name"], False, REASON_PACKAGE_MISSING, reason)
    return ModelStatus("detector", row["name"], False, REASON_WEIGHTS_MISSING, reason, missing.name,
                       str(missing.parent))


def _missing_detector_file(name: str) -> Path | None:
    """The first weights file a DeepFace-family detector lacks (None when a package is what is missing)."""
    from emotion.detect import deepface_detectors

    info = deepface_detectors.BACKENDS.get(name)
    if info is None or any(not deepface_detectors._has_module(m) for m in info.modules):
        return None
    try:
        files = info.files()
    except Exception:
        return None
    return next((Path(f) for f in files if not Path(f).is_file()), None)


def recognizer_status(name: str) -> ModelStatus:
    from emotion.recognize import DEFAULT_RECOGNIZER

    if name.lower() == DEFAULT_RECOGNIZER.lower():
        from emotion.recognize import dlib_resnet

        try:
            path = dlib_resnet.model_path()
        except FileNotFoundError as err:
            return ModelStatus("recognizer", DEFAULT_RECOGNIZER, False, REASON_PACKAGE_MISSING, str(err))
        if not path.is_file():
            return ModelStatus("recognizer", DEFAULT_RECOGNIZER, False, REASON_WEIGHTS_MISSING,
                               f"{path.name} not found (pip install face-recognition-models)", path.name,
                               str(path.parent))
        return ModelStatus("recognizer", DEFAULT_RECOGNIZER, True, metric=dlib_resnet.METRIC,
                           threshold=float(dlib_resnet.THRESHOLD))
    from emotion.recognize import deepface_models

    if name not in deepface_models.MODEL_NAMES:
        return ModelStatus("recognizer", name, False, REASON_UNKNOWN_MODEL,
                           f"unknown recogniser {name!r}; known: {', '.join(recognizer_names())}")
    try:
        path = deepface_models.weights_file(name)
    except Exception as err:  # deepface not importable
        return ModelStatus("recognizer", name, False, REASON_PACKAGE_MISSING, f"{type(err).__name__}: {err}")
    if not path.is_file():
        return ModelStatus("recognizer", name, False, REASON_WEIGHTS_MISSING,
                           f"DeepFace {name} weights file {path.name} is not present in {path.parent} "
                           "(this app never downloads weights)", path.name, str(path.parent),
                           metric=deepface_models.DeepFaceRecognizer.metric)
    return ModelStatus("recognizer", name, True, metric=deepface_models.DeepFaceRecognizer.metric)


def classifier_status(name: str) -> ModelStatus:
    from emotion.classify import canonical_name, deepface_emotion

    key = canonical_name(name)
    if key not in classifier_names():
        return ModelStatus("classifier", name, False, REASON_UNKNOWN_MODEL,
                           f"unknown emotion classifier {name!r}; known: {', '.join(classifier_names())}")
    if key == "deepface":
        path = deepface_emotion.weights_file()
        if not path.is_file():
            return ModelStatus("classifier", key, False, REASON_WEIGHTS_MISSING,
                               f"DeepFace emotion weights file {path.name} is not present in {path.parent} "
                               "(this app never downloads weights)", path.name, str(path.parent))
        return ModelStatus("classifier", key, True)
    # the project's own classifier: its module knows its file
    from emotion.classify import fer_cnn

    path = Path(fer_cnn.model_path())
    if not path.is_file():
        return ModelStatus("classifier", key, False, REASON_WEIGHTS_MISSING,
                           f"{path.name} not found: train it with python -m emotion train", path.name,
                           str(path.parent))
    return ModelStatus("classifier", key, True)
