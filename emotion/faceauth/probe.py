"""One camera frame -> one `Observation` (faces counted, 68 landmarks and embedding of the face).

The face-factor code only ever sees `Observation`s, so the challenge logic is tested on landmark
sequences without any model, and the models are built once by `emotion.registry` (never in a
callback). `FaceProbe(detector)` wraps detector + dlib 68-point landmarker + dlib ResNet.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emotion.records import Box

#: the recogniser whose embeddings the face factor stores and compares (metric euclidean_l2)
RECOGNIZER = "Dlib"
METRIC = "euclidean_l2"


@dataclass(frozen=True)
class Observation:
    """What one frame shows. `landmarks`/`embedding`/`box` describe the largest face (None when no
    face); `n_faces` counts every face found; `t` is the frame time in seconds (monotonic)."""

    t: float
    n_faces: int
    landmarks: np.ndarray | None = None
    embedding: np.ndarray | None = None
    box: Box | None = None


class FaceProbe:
    """detector + landmarks + embedding for the face factor. Thread-safe as its parts are."""

    def __init__(self, detector: str | None = "blazeface") -> None:
        from emotion import registry

        self.detector = registry.get_detector(detector)
        self.landmarker = registry.get_landmarker()
        self.recognizer = registry.get_recognizer(RECOGNIZER)

    def faces(self, bgr: np.ndarray) -> list[Box]:
        """Boxes of all faces, largest first."""
        h, w = bgr.shape[:2]
        if min(h, w) < 16:
            return []
        boxes = [d.box.clip(w, h) for d in self.detector.detect(bgr)]
        boxes = [b for b in boxes if b.w >= 8 and b.h >= 8]
        return sorted(boxes, key=lambda b: b.area, reverse=True)

    def landmarks(self, bgr: np.ndarray, box: Box) -> np.ndarray:
        return self.landmarker.predict(bgr, box)

    def embed(self, bgr: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        from emotion.landmarks.align import recognition_chip

        chip = recognition_chip(bgr, landmarks)
        return np.asarray(self.recognizer.embed(chip[None]), np.float32)[0]

    def observe(self, bgr: np.ndarray, t: float, *, embed: bool = True) -> Observation:
        boxes = self.faces(bgr)
        if not boxes:
            return Observation(t=float(t), n_faces=0)
        lm = self.landmarks(bgr, boxes[0])
        emb = self.embed(bgr, lm) if embed else None
        return Observation(t=float(t), n_faces=len(boxes), landmarks=lm, embedding=emb, box=boxes[0])


def match_distance(embedding: np.ndarray, enrolled: np.ndarray) -> float:
    """Smallest euclidean_l2 distance from `embedding` to any enrolled vector (inf when none)."""
    from emotion.recognize.gallery import distances

    enrolled = np.asarray(enrolled, np.float32)
    if enrolled.size == 0:
        return float("inf")
    return float(distances(np.asarray(embedding, np.float32)[None], enrolled.reshape(len(enrolled), -1), METRIC).min())


def observe_photo(probe: FaceProbe, bgr: np.ndarray, t: float = 0.0) -> Observation:
    """`probe.observe` for a photo that may be a tight face crop (many dataset photos are): when no
    face is found, the photo is retried inside a replicated border of half its size (detectors need
    some background around a face). Landmarks and box are given in the photo's own coordinates."""
    import cv2

    obs = probe.observe(bgr, t)
    if obs.n_faces:
        return obs
    m = max(bgr.shape[:2]) // 2
    padded = cv2.copyMakeBorder(bgr, m, m, m, m, cv2.BORDER_REPLICATE)
    obs = probe.observe(padded, t)
    if not obs.n_faces:
        return obs
    b = obs.box
    return Observation(t=obs.t, n_faces=obs.n_faces, landmarks=obs.landmarks - np.float32(m),
                       embedding=obs.embedding, box=Box(b.x - m, b.y - m, b.w, b.h))
