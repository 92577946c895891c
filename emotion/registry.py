"""Process-wide model cache: every model is built once per process, whichever thread asks first.

    get_detector(name) / get_recognizer(name) / get_classifier(name) / get_landmarker()
    cached(key, build)                  # the same cache for composites (emotion.pipeline.get_analyzer)
    describe_models() -> list[dict]     # every model by role: weights, origin, usable now, note

Thread-safety: one lock per cache key, so two sessions asking for the same model at once build it
once (the second waits), while different models may load in parallel. A failed build is not cached:
the next call tries again (e.g. once models/fer_cnn.onnx has been trained).
A name of None means the default of `emotion.config.CONFIG`; the classifier's old name "fernet" is accepted.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable

_LOCK = threading.Lock()
_CACHE: dict[tuple, Any] = {}
_KEY_LOCKS: dict[tuple, threading.Lock] = {}


def cached(key: tuple, build: Callable[[], Any]) -> Any:
    """The object cached under `key`, built by `build()` on first use (once, whichever thread asks first)."""
    obj = _CACHE.get(key)
    if obj is not None:
        return obj
    with _LOCK:
        key_lock = _KEY_LOCKS.setdefault(key, threading.Lock())
    with key_lock:
        obj = _CACHE.get(key)
        if obj is None:
            obj = build()
            _CACHE[key] = obj
        return obj


def clear() -> None:
    """Forget every cached model (tests; after new weights were installed)."""
    with _LOCK:
        _CACHE.clear()


def detector_key(name: str | None) -> str:
    from emotion.detect import DEFAULT_DETECTOR

    return (name or DEFAULT_DETECTOR).strip().lower()


def get_detector(name: str | None = None):
    from emotion.detect import create_detector

    key = detector_key(name)
    return cached(("detector", key), lambda: create_detector(key))


def recognizer_key(name: str | None) -> str:
    from emotion.recognize import DEFAULT_RECOGNIZER

    key = name or DEFAULT_RECOGNIZER
    return "Dlib" if key.lower() == "dlib" else key


def get_recognizer(name: str | None = None):
    from emotion.recognize import create_recognizer

    key = recognizer_key(name)
    return cached(("recognizer", key), lambda: create_recognizer(key))


def get_classifier(name: str | None = None):
    from emotion.classify import canonical_name, create_classifier

    key = canonical_name(name)
    return cached(("classifier", key), lambda: create_classifier(key))


def get_landmarker():
    from emotion.landmarks.dlib68 import Landmarker

    return cached(("landmarker", "dlib68"), Landmarker)


# ----------------------------------------------------------------------------- description
def _row(role: str, name: str, weights: Any, origin: str, usable: bool, note: str | None = None,
         **extra: Any) -> dict[str, Any]:
    return {"role": role, "name": name, "weights": None if weights is None else str(weights), "origin": origin,
            "usable": bool(usable), "note": note or "", **extra}


def _file_ok(path: Path | None) -> bool:
    try:
        return path is not None and Path(path).is_file()
    except OSError:
        return False


def describe_models() -> list[dict[str, Any]]:
    """One dict per model and role: role, name, weights (path), origin (where the weights come from),
    usable (now, offline), note (why not usable, accuracy when known, default/fast marks)."""
    rows: list[dict[str, Any]] = []
    # detectors: the detector registry describes itself
    try:
        from emotion.detect import describe_detectors

        for d in describe_detectors():
            marks = [m for m, on in (("default for photos", d.get("default")), ("live camera", d.get("fast"))) if on]
            note = "; ".join(marks + ([d["reason"]] if d.get("reason") else []))
            rows.append(_row("detector", d["name"], d.get("weights"), d.get("source") or "", d.get("usable", False),
                             note, description=d.get("description", "")))
    except Exception as err:  # pragma: no cover - detector package broken
        rows.append(_row("detector", "?", None, "", False, f"detector registry failed: {err}"))

    # landmarks
    from emotion.landmarks import dlib68

    try:
        p68 = dlib68.model_path(68)
    except Exception:
        p68 = None
    rows.append(_row("landmarks", "dlib68", p68, "PyPI: face-recognition-models", _file_ok(p68),
                     "68 points (iBUG 300-W), two-pass box adaptation for non-dlib detectors"))

    # recognisers
    from emotion.recognize import dlib_resnet

    try:
        pr = dlib_resnet.model_path()
    except Exception:
        pr = None
    rows.append(_row("recognizer", "Dlib", pr, "PyPI: face-recognition-models", _file_ok(pr),
                     f"128-d, {dlib_resnet.METRIC} threshold {dlib_resnet.THRESHOLD} ({dlib_resnet.THRESHOLD_NOTE})",
                     default=True))
    from emotion.recognize import deepface_models

    for name in deepface_models.MODEL_NAMES:
        try:
            path = deepface_models.weights_file(name)
        except Exception:
            path = None
        ok = _file_ok(path)
        rows.append(_row("recognizer", name, path, "DeepFace download (never fetched by this app)", ok,
                         "" if ok else "weights file not present"))

    # classifiers
    from emotion.classify import deepface_emotion, fer_cnn

    fpath = fer_cnn.model_path()
    meta = fer_cnn.read_metadata()
    note = _fer_cnn_note(meta) if _file_ok(fpath) else "not trained yet: python -m emotion train"
    rows.append(_row("classifier", "fer_cnn", fpath, "project-trained (FER2013)", _file_ok(fpath), note, default=True,
                     accuracy=_accuracy(meta)))
    rows += _fer_vgg_rows()
    try:
        dpath = deepface_emotion.weights_file()
    except Exception:
        dpath = None
    ok = _file_ok(dpath)
    rows.append(_row("classifier", "deepface", dpath, "DeepFace download (never fetched by this app)", ok,
                     "" if ok else "weights file not present"))
    return rows


#: how `python -m emotion models` names each view set of emotion.classify.views
_VIEWS_TEXT = {"one": "one pass", "mirror": "flip TTA", "mirror_zoom": "6 views: mirrored and zoomed"}


def _fer_vgg_rows() -> list[dict[str, Any]]:
    """The round-2 model's two paths (photo: ``fer_vgg``, live: ``fer_vgg_int8``), each its first file
    averaged with its partner files (at their weights) when they are shipped, in its test-time views, with
    the figures of what each path runs."""
    from emotion.classify import fer_vgg

    meta = fer_vgg.read_metadata()
    rows = []
    for name, int8 in (("fer_vgg", False), ("fer_vgg_int8", True)):
        path = fer_vgg.first_path(int8=int8)
        figs = fer_vgg.publictest_figures(int8=int8)
        partners = fer_vgg.partner_paths(int8=int8)
        if not _file_ok(path):
            note = "not exported yet: python -m emotion train, then python -m emotion train --export"
        elif figs:
            note = (f"FER2013 PublicTest accuracy {figs['accuracy']:.1%}, macro-F1 {figs['macro_f1']:.1%}, "
                    f"{figs['median_ms']} ms per face (batch 1, {_VIEWS_TEXT[fer_vgg.RECIPES[int8].views]})")
            if partners:
                others = " + ".join(path.name + ("" if weight == 1 else f" (weight {weight:g})")
                                    for path, weight in partners)
                note = f"averaged with {others}: {note}"
            if int8:
                qualifies = (meta.get("int8") or {}).get("ship_for_live")
                note += ("; qualifies for live (within 0.5 point of float32, faster)" if qualifies
                         else "; does not qualify for live (accuracy or speed)")
        else:
            note = "no figures in models/fer_vgg.json"
        rows.append(_row("classifier", name, path, "project-trained (FER2013, PyTorch)", _file_ok(path), note,
                         accuracy=figs["accuracy"] if figs else None))
    return rows


def _accuracy(meta: dict) -> float | None:
    for key in ("public_test_accuracy", "test_accuracy", "accuracy"):
        v = meta.get(key)
        if isinstance(v, (int, float)):
            return float(v)
    for key in ("publictest", "privatetest", "metrics", "evaluation", "results"):
        sub = meta.get(key)
        if isinstance(sub, dict):
            acc = _accuracy(sub)
            if acc is not None:
                return acc
    return None


def _fer_cnn_note(meta: dict) -> str:
    acc = _accuracy(meta)
    if acc is None:
        return "accuracy: see models/fer_cnn.json" if meta else "no metadata (models/fer_cnn.json)"
    return (f"FER2013 PublicTest accuracy {acc:.1%}" if acc <= 1 else f"FER2013 PublicTest accuracy {acc:.1f}%")
