"""Test-time views of a face crop: the classifier scores each view and averages the probabilities.

A view is (mirrored, zoom): the crop, optionally mirrored, then scaled about its centre by ``zoom``
(1.08: a little closer, 0.93: a little farther; borders reflected, as the training augmentation
does). The run-time crop comes from a landmark alignment whose small errors of scale these views
average out; on FER2013 PublicTest and on real photos the six views of ``"mirror_zoom"`` beat the
mirrored pair (models/README.md, round 9). Views are cut from the uint8 crop before preprocessing, so
each is standardised on its own, as a crop is. numpy + OpenCV only.
"""
from __future__ import annotations

import cv2
import numpy as np

View = tuple[bool, float]

#: named view sets; each starts with the crop as it is
VIEWS: dict[str, tuple[View, ...]] = {
    "one": ((False, 1.0),),
    "mirror": ((False, 1.0), (True, 1.0)),
    "mirror_zoom": ((False, 1.0), (False, 1.08), (False, 0.93), (True, 1.0), (True, 1.08), (True, 0.93)),
}


def view_set(name: str) -> tuple[View, ...]:
    try:
        return VIEWS[name]
    except KeyError:
        raise ValueError(f"unknown view set {name!r}; choose from {sorted(VIEWS)}") from None


def views_name(views: tuple[View, ...]) -> str:
    """The name of a view set (:data:`VIEWS`), or "N views" for another one."""
    for name, known in VIEWS.items():
        if tuple(views) == known:
            return name
    return f"{len(views)} views"


def recorded_views(record: dict, mirror_by_default: bool = False) -> str:
    """The view set a measured record names (``views``); older records only say whether the mirror was
    used (``tta``; when that is absent too, ``mirror_by_default``)."""
    views = record.get("views")
    if isinstance(views, str):
        return views
    return "mirror" if record.get("tta", mirror_by_default) else "one"


def _zoom(crops: np.ndarray, zoom: float) -> np.ndarray:
    n, h, w = crops.shape
    m = cv2.getRotationMatrix2D(((w - 1) / 2.0, (h - 1) / 2.0), 0.0, zoom)
    return np.stack([cv2.warpAffine(c, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
                     for c in crops]) if n else crops


def view_batch(crops: np.ndarray, views: tuple[View, ...]) -> np.ndarray:
    """uint8 (N, S, S) -> uint8 (len(views) * N, S, S): view after view, each over the whole batch."""
    out = []
    for mirrored, zoom in views:
        v = np.ascontiguousarray(crops[:, :, ::-1]) if mirrored else np.ascontiguousarray(crops)
        out.append(v if zoom == 1.0 else _zoom(v, zoom))
    return np.concatenate(out, axis=0)


def mean_over_views(probs: np.ndarray, n_views: int) -> np.ndarray:
    """(V * N, 7) in :func:`view_batch`'s order -> (N, 7), the mean over the V views."""
    return probs.reshape(n_views, -1, probs.shape[-1]).mean(axis=0)
