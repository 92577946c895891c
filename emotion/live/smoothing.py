"""Emotion scores over time: the per-track moving average, the plain twin of a TTA classifier
whose alternating plain/mirrored crops that average combines, and window percentiles (latency)."""
from __future__ import annotations

import threading
from typing import Any, Iterable

import numpy as np


def classify_crops(analyzer: Any, plain: Any, bgr: np.ndarray, faces: list, *, mirror: bool) -> np.ndarray:
    """(N, 7) scores of `faces` (landmarks or Detections) in one batch. With `plain` (the TTA
    classifier's plain twin) TTA is spread over time: the plain crops, or their mirror images when
    `mirror` (odd frames); the per-track EMA averages the two as the classifier's own TTA would, at
    half the cost."""
    if plain is not None:
        crops = np.stack([analyzer.fer_crop(bgr, f) for f in faces])
        if mirror:
            crops = np.ascontiguousarray(crops[:, :, ::-1])
        return np.asarray(plain.predict(crops), np.float32)
    if hasattr(analyzer, "classify_many"):
        return np.asarray(analyzer.classify_many(bgr, faces), np.float32)
    return np.stack([np.asarray(analyzer.classify(bgr, f), np.float32).reshape(-1) for f in faces])


_TWINS: dict[tuple, Any] = {}
_TWINS_LOCK = threading.Lock()


def plain_twin(classifier: Any) -> Any:
    """The classifier without test-time augmentation, built once per process and weights file; None
    when `classifier` has no TTA to spread. For `fer_cnn` the same weights with tta=False; for
    `fer_vgg` the live path's recipe (`emotion.classify.fer_vgg.RECIPES`: the int8 pair, one pass) when
    the export measured the int8 file within 0.5 point and faster (`fer_vgg.json`
    ``int8.ship_for_live``), else the photo path's files in one pass."""
    if classifier is None or not getattr(classifier, "tta", False):
        return None
    try:
        from emotion.classify.fer_cnn import FerCnnClassifier
        from emotion.classify.fer_vgg import FerVggClassifier, model_path as vgg_path
    except ImportError:  # pragma: no cover
        return None
    if not isinstance(classifier, (FerCnnClassifier, FerVggClassifier)):
        return None
    path = getattr(classifier, "path", None)
    try:
        key = (str(path), path.stat().st_mtime_ns)
    except (AttributeError, OSError):
        return None
    with _TWINS_LOCK:
        twin = _TWINS.get(key)
        if twin is None:
            if isinstance(classifier, FerCnnClassifier):
                twin = FerCnnClassifier(path.parent, tta=False)
            else:
                int8 = (bool((classifier.metadata.get("int8") or {}).get("ship_for_live"))
                        and vgg_path(path.parent, int8=True).is_file())
                twin = FerVggClassifier(path.parent, int8=int8, tta=False)
            _TWINS[key] = twin
        return twin


def smooth(previous: np.ndarray | None, scores: np.ndarray, alpha: float) -> np.ndarray:
    """One step of the per-track exponential moving average of emotion scores, renormalised to sum
    to 1 (the first frame's scores as they are)."""
    ema = scores if previous is None else alpha * scores + (1.0 - alpha) * previous
    return (ema / max(float(ema.sum()), 1e-12)).astype(np.float32)


def percentile(values: Iterable[float], q: float) -> float | None:
    """The `q`-th percentile of a window of values (latencies), None for an empty window."""
    arr = np.fromiter(values, dtype=np.float64)
    return float(np.percentile(arr, q)) if arr.size else None
