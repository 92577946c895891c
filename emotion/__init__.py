"""Emotion-recognition engine: photo or frame in, one `FaceRecord` per face out.

Knows nothing of Streamlit. The facade (`Analyzer`, `analyze`) and the stage modules are imported
lazily so that `import emotion` stays cheap.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emotion.records import EMOTIONS, UNKNOWN, Box, Detection, FaceRecord, Identity

__all__ = ["EMOTIONS", "UNKNOWN", "Box", "Detection", "FaceRecord", "Identity", "Analyzer", "analyze",
           "load_image", "ImageError", "annotate"]

_LAZY = {
    "Analyzer": ("emotion.pipeline", "Analyzer"),
    "analyze": ("emotion.pipeline", "analyze"),
    "load_image": ("emotion.imageio", "load_image"),
    "ImageError": ("emotion.imageio", "ImageError"),
    "annotate": ("emotion.draw", "annotate"),
}

if TYPE_CHECKING:  # pragma: no cover
    from emotion.draw import annotate
    from emotion.imageio import ImageError, load_image
    from emotion.pipeline import Analyzer, analyze


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(name)
