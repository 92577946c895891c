"""The analysis pipeline: image -> one `FaceRecord` per face.

    Analyzer(detector=None, recognizer=None, classifier=None)   # None: emotion.config.CONFIG's defaults
        .analyze(image, *, gallery=None, landmarks=True, recognize=True, max_side=None) -> list[FaceRecord]
        .embed_faces(image) -> list[FaceRecord]           # enrolment: largest face first, .embedding set
        .last_timings -> {"detect": ms, "landmarks": ms, "embed": ms, "classify": ms, "total": ms}
        stage methods for the streaming path: detect, landmarks, embed(_many), classify(_many), fer_crop
    get_analyzer(detector=None, recognizer=None, classifier=None)   # the process-wide shared Analyzer
    analyze(image, **kw)                                   # the shared Analyzer's analyze

Stages: detect (optionally on a copy downscaled to `max_side`; boxes mapped back to the input's
pixels) -> 68 landmarks at full resolution (`emotion.landmarks.dlib68.Landmarker`, which adapts any
detector's box to what dlib's predictor expects) -> recognition chip (`align.recognition_chip`) ->
embedding, matched against the gallery -> FER-framed 48x48 crop (`align.fer_crop`, the framing the
classifier was trained with) -> 7 emotion scores. Recognition and classification are batched over the
faces of an image.

With ``landmarks=False`` the 68-point stage is skipped: the classifier's crop is framed on the
detector's eye keypoints (or the box), and recognition (when asked) uses dlib's 5-point shape.

Models are taken from `emotion.registry` when the Analyzer is built, never per call. Thread-safe:
detectors and dlib's shape predictors are safe to share (detectors lock their interpreters; the
shape predictor is read-only), the recognisers lock their forward pass, ONNX Runtime sessions are
safe to run concurrently; `last_timings` is per thread.
"""
from __future__ import annotations

import functools
import logging
import threading
import time
from typing import Any, Iterable, Sequence

import numpy as np

from emotion import registry
from emotion.classify import canonical_name
from emotion.detect.base import detect_downscaled
from emotion.imageio import ImageError, array_to_bgr, load_image
from emotion.records import Box, Detection, FaceRecord

log = logging.getLogger(__name__)

#: images smaller than this (either side) hold no analysable face
MIN_IMAGE_SIDE = 16
#: faces narrower than this (pixels) are too small for landmarks and are skipped
MIN_FACE_SIDE = 8

__all__ = ["Analyzer", "get_analyzer", "analyze", "ImageError"]


def _detect_enhanced(detect, mode: str, bgr: np.ndarray) -> list[Detection]:
    """`detect` on the copy of `bgr` enhanced per `mode` (same pixel grid, so the boxes hold)."""
    from emotion import enhance

    return detect(enhance.apply(bgr, mode))


def _to_bgr(image: Any) -> np.ndarray:
    if isinstance(image, np.ndarray):
        bgr = array_to_bgr(image)
    else:
        bgr = load_image(image)
    return bgr


class Analyzer:
    """Detector + landmarks + recogniser + classifier, built once (see the module docstring).

    A missing classifier weights file (models/fer_cnn.onnx before training) does not stop the
    Analyzer from working: faces then have ``scores=None`` and `classifier_error` says why."""

    def __init__(self, detector: str | None = None, recognizer: str | None = None,
                 classifier: str | None = None) -> None:
        self.detector_name = registry.detector_key(detector)
        self.recognizer_name = registry.recognizer_key(recognizer)
        self.classifier_name = canonical_name(classifier)
        self.detector = registry.get_detector(self.detector_name)
        self.landmarker = registry.get_landmarker()
        self.recognizer = registry.get_recognizer(self.recognizer_name)
        self.classifier_error: str | None = None
        try:
            self.classifier = registry.get_classifier(self.classifier_name)
        except (FileNotFoundError, OSError) as err:
            self.classifier = None
            self.classifier_error = str(err)
            log.warning("emotion classifier %r unavailable: %s", self.classifier_name, err)
        self._local = threading.local()
        self._last: dict[str, float] = {}
        self._five_lock = threading.Lock()

    def __repr__(self) -> str:
        return (f"Analyzer(detector={self.detector_name!r}, recognizer={self.recognizer_name!r}, "
                f"classifier={self.classifier_name!r})")

    # ------------------------------------------------------------------ timings
    @property
    def last_timings(self) -> dict[str, float]:
        """ms per stage of this thread's last `analyze` (detect, landmarks, embed, classify, total)."""
        t = getattr(self._local, "timings", None)
        return dict(t if t is not None else self._last)

    def _set_timings(self, t: dict[str, float]) -> None:
        self._local.timings = t
        self._last = t

    # ------------------------------------------------------------------ stages
    def detect(self, bgr: np.ndarray, max_side: int | None = None, enhance: str | None = None
               ) -> list[Detection]:
        """Faces in `bgr` (boxes in its pixel coordinates), best first. `max_side` downscales a copy
        for detection only. `enhance` ("auto" | "on" | "off", `emotion.enhance`; None = the
        detector's own mode) is the low-light mode of the copy the detector sees (a user setting);
        landmarks and classifier keep reading the original."""
        h, w = bgr.shape[:2]
        if min(h, w) < MIN_IMAGE_SIDE:
            return []
        detect = self.detector.detect
        if enhance is not None:
            from emotion import enhance as _enhance

            mode = str(enhance).lower()
            if mode not in _enhance.MODES:
                raise ValueError(f"enhance must be one of {', '.join(_enhance.MODES)}, not {enhance!r}")
            if getattr(self.detector, "takes_enhance", False):  # it enhances its own copy
                detect = functools.partial(self.detector.detect, enhance=mode)
            else:
                detect = functools.partial(_detect_enhanced, self.detector.detect, mode)
        out = detect_downscaled(detect, bgr, max_side)
        return [d for d in out if d.box.w >= MIN_FACE_SIDE and d.box.h >= MIN_FACE_SIDE]

    def landmarks(self, bgr: np.ndarray, box: Box) -> np.ndarray:
        """float32 (68, 2) landmarks of the face in `box` (image coordinates)."""
        return self.landmarker.predict(bgr, box)

    def landmarks_many(self, bgr: np.ndarray, boxes: Iterable[Box]) -> list[np.ndarray]:
        return [self.landmarker.predict(bgr, b) for b in boxes]

    def five_points(self, bgr: np.ndarray, box: Box) -> np.ndarray:
        """dlib's 5-point shape (eye corners + nose) on the squared box, for recognition without 68 points."""
        from emotion.landmarks import dlib68

        return dlib68.shape_points(bgr, dlib68.square_box(box), 5)

    def recognition_chips(self, bgr: np.ndarray, shapes: Sequence[np.ndarray]) -> np.ndarray:
        from emotion.landmarks.align import CHIP_SIZE, recognition_chip

        size = int(getattr(self.recognizer, "input_size", CHIP_SIZE) or CHIP_SIZE)
        if size != CHIP_SIZE:  # DeepFace models take the standard chip and resize it themselves
            size = CHIP_SIZE
        if not shapes:
            return np.zeros((0, size, size, 3), np.uint8)
        return np.stack([recognition_chip(bgr, s, size=size) for s in shapes])

    def embed(self, bgr: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        """Embedding (D,) of the face with these 68 (or 5) landmarks."""
        return self.embed_many(bgr, [landmarks])[0]

    def embed_many(self, bgr: np.ndarray, shapes: Sequence[np.ndarray]) -> np.ndarray:
        chips = self.recognition_chips(bgr, list(shapes))
        if len(chips) == 0:
            return np.zeros((0, int(getattr(self.recognizer, "dim", 128))), np.float32)
        return np.asarray(self.recognizer.embed(chips), dtype=np.float32)

    def fer_crop(self, bgr: np.ndarray, face: np.ndarray | Box | Detection) -> np.ndarray:
        """The classifier's uint8 48x48 crop for 68 landmarks, a Detection (eye keypoints) or a Box."""
        from emotion.landmarks.align import fer_crop, to_gray

        gray_src = bgr
        if isinstance(face, Detection):
            return to_gray(fer_crop(gray_src, left_eye=face.left_eye, right_eye=face.right_eye, box=face.box))
        if isinstance(face, Box):
            return to_gray(fer_crop(gray_src, box=face))
        return to_gray(fer_crop(gray_src, landmarks=np.asarray(face)))

    def classify(self, bgr: np.ndarray, face: np.ndarray | Box | Detection) -> np.ndarray:
        """(7,) emotion probabilities of one face (68 landmarks, a Detection or a Box)."""
        return self.classify_many(bgr, [face])[0]

    def classify_many(self, bgr: np.ndarray, faces: Sequence[np.ndarray | Box | Detection]) -> np.ndarray:
        if self.classifier is None:
            raise RuntimeError(f"no emotion classifier: {self.classifier_error}")
        if not faces:
            return np.zeros((0, 7), np.float32)
        crops = np.stack([self.fer_crop(bgr, f) for f in faces])
        return np.asarray(self.classifier.predict(crops), dtype=np.float32)

    # ------------------------------------------------------------------ skip recognition (issue 10)
    @staticmethod
    def _wants_embedding(recognize: bool, gallery: Any) -> bool:
        """Embed only when it can matter: asked for and either no gallery (enrolment, `embed_faces`)
        or a gallery with somebody in it. An empty gallery can only answer "unknown", and the
        embedding costs ~75 ms a face."""
        if not recognize:
            return False
        if gallery is None:
            return True
        try:
            return len(gallery) > 0
        except TypeError:  # a gallery-like object without a length: embed to be safe
            return True

    # ------------------------------------------------------------------ whole pipeline
    def analyze(self, image: Any, *, gallery=None, landmarks: bool = True, recognize: bool = True,
                max_side: int | None = None, classify: bool = True,
                enhance: str | None = None) -> list[FaceRecord]:
        """Every face in `image` (anything `load_image` takes, or a BGR array), best detection first.

        Boxes and landmarks are in the input image's pixel coordinates. `gallery`: a Gallery (or
        (person_id, name, vector) rows) to name faces; with ``recognize=True`` each record's
        `.embedding` is set (also without a gallery, for enrolment; not with an empty gallery, see
        `_wants_embedding`). `enhance`: low-light mode of the detection copy (see `detect`).
        Raises ImageError on bad input."""
        timings = {"detect": 0.0, "landmarks": 0.0, "embed": 0.0, "classify": 0.0}
        t_start = time.perf_counter()
        bgr = _to_bgr(image)
        t0 = time.perf_counter()
        dets = self.detect(bgr, max_side=max_side, enhance=enhance)
        timings["detect"] = (time.perf_counter() - t0) * 1e3
        records = [FaceRecord(box=d.box, confidence=float(d.confidence)) for d in dets]

        shapes: list[np.ndarray | None] = [None] * len(dets)
        t0 = time.perf_counter()
        if landmarks:
            for i, d in enumerate(dets):
                try:
                    shapes[i] = self.landmarks(bgr, d.box)
                    records[i].landmarks = shapes[i]
                except (ValueError, RuntimeError) as err:  # a face at the very border etc.
                    log.debug("landmarks failed for %s: %s", d.box, err)
        timings["landmarks"] = (time.perf_counter() - t0) * 1e3

        if dets and self._wants_embedding(recognize, gallery):
            t0 = time.perf_counter()
            rec_shapes: list[np.ndarray | None] = []
            for d, s in zip(dets, shapes):
                if s is None:
                    try:
                        s = self.five_points(bgr, d.box)
                    except (ValueError, RuntimeError):
                        s = None
                rec_shapes.append(s)
            idx = [i for i, s in enumerate(rec_shapes) if s is not None]
            embs = self.embed_many(bgr, [rec_shapes[i] for i in idx])
            for j, i in enumerate(idx):
                records[i].embedding = embs[j]
            if gallery is not None:
                from emotion.recognize.gallery import as_gallery

                g = as_gallery(gallery, self.recognizer.metric, self.recognizer.threshold)
                if g is not None and len(g):
                    ids = g.match_many([records[i].embedding for i in idx])
                    for j, i in enumerate(idx):
                        records[i].identity = ids[j]
            timings["embed"] = (time.perf_counter() - t0) * 1e3

        if classify and dets and self.classifier is not None:
            t0 = time.perf_counter()
            faces = [s if s is not None else d for d, s in zip(dets, shapes)]
            scores = self.classify_many(bgr, faces)
            for rec, s in zip(records, scores):
                rec.scores = s
            timings["classify"] = (time.perf_counter() - t0) * 1e3

        timings["total"] = (time.perf_counter() - t_start) * 1e3
        self._set_timings(timings)
        return records

    def embed_faces(self, image: Any, *, max_side: int | None = None) -> list[FaceRecord]:
        """Faces with their `.embedding` (for enrolment), largest face first; faces whose embedding
        could not be computed are left out."""
        faces = self.analyze(image, gallery=None, landmarks=True, recognize=True, max_side=max_side)
        faces = [f for f in faces if f.embedding is not None]
        return sorted(faces, key=lambda f: f.box.area, reverse=True)


def get_analyzer(detector: str | None = None, recognizer: str | None = None,
                 classifier: str | None = None) -> Analyzer:
    """The process-wide shared Analyzer for these models (None: the configured default), built once
    in `emotion.registry`'s cache; its models come from the same cache."""
    key = ("analyzer", registry.detector_key(detector), registry.recognizer_key(recognizer),
           canonical_name(classifier))
    return registry.cached(key, lambda: Analyzer(detector=detector, recognizer=recognizer, classifier=classifier))


def analyze(image: Any, *, detector: str | None = None, recognizer: str | None = None,
            classifier: str | None = None, **kw: Any) -> list[FaceRecord]:
    """`Analyzer.analyze` on the process-wide shared Analyzer for these models."""
    return get_analyzer(detector, recognizer, classifier).analyze(image, **kw)
