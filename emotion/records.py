"""The record that flows through every stage: one `FaceRecord` per face.

Stages fill it in order (detect -> landmarks/align -> recognise -> classify -> draw -> store);
nothing downstream needs to know which model produced a field.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

# FER2013's label order; every score vector in the project uses it.
EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Box:
    """Axis-aligned face box in pixel coordinates of the analysed image (x, y = top-left)."""

    x: int
    y: int
    w: int
    h: int

    @property
    def x2(self) -> int:
        return self.x + self.w

    @property
    def y2(self) -> int:
        return self.y + self.h

    @property
    def area(self) -> int:
        return max(self.w, 0) * max(self.h, 0)

    def center(self) -> tuple[float, float]:
        return (self.x + self.w / 2.0, self.y + self.h / 2.0)

    def iou(self, other: "Box") -> float:
        ix = max(0, min(self.x2, other.x2) - max(self.x, other.x))
        iy = max(0, min(self.y2, other.y2) - max(self.y, other.y))
        inter = ix * iy
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0

    def clip(self, width: int, height: int) -> "Box":
        x1, y1 = max(0, self.x), max(0, self.y)
        x2, y2 = min(width, self.x2), min(height, self.y2)
        return Box(x1, y1, max(0, x2 - x1), max(0, y2 - y1))

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.x, self.y, self.w, self.h)


@dataclass(frozen=True)
class Detection:
    """What a detector returns: a box, its confidence and, when the detector has them, eye centres
    (image coordinates, the subject's left eye first is *not* assumed: `left_eye` is the eye with the
    smaller x in the image)."""

    box: Box
    confidence: float
    left_eye: tuple[float, float] | None = None
    right_eye: tuple[float, float] | None = None


@dataclass
class Identity:
    name: str = UNKNOWN
    distance: float | None = None
    person_id: int | None = None

    @property
    def known(self) -> bool:
        return self.name != UNKNOWN


@dataclass
class FaceRecord:
    box: Box
    confidence: float
    landmarks: np.ndarray | None = None  # (68, 2) float32, image coordinates, dlib's point order
    identity: Identity = field(default_factory=Identity)
    scores: np.ndarray | None = None  # (7,) float32 in EMOTIONS order, sums to 1
    track_id: int | None = None
    embedding: np.ndarray | None = None  # recogniser's vector; kept for enrolment, not serialised
    #: the face is too small to classify: no scores, by design (not guessed)
    too_small: bool = False

    @property
    def dominant(self) -> str | None:
        if self.scores is None:
            return None
        return EMOTIONS[int(np.argmax(self.scores))]

    @property
    def dominant_score(self) -> float | None:
        if self.scores is None:
            return None
        return float(np.max(self.scores))

    def emotion_dict(self) -> dict[str, float]:
        if self.scores is None:
            return {}
        return {name: float(s) for name, s in zip(EMOTIONS, self.scores)}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view (no embedding)."""
        return {
            "box": asdict(self.box),
            "confidence": round(float(self.confidence), 4),
            "landmarks": None if self.landmarks is None else np.round(self.landmarks, 1).tolist(),
            "identity": {
                "name": self.identity.name,
                "distance": None if self.identity.distance is None else round(float(self.identity.distance), 4),
                "person_id": self.identity.person_id,
            },
            "emotion": self.dominant,
            "emotion_score": None if self.dominant_score is None else round(self.dominant_score, 4),
            "scores": {k: round(v, 4) for k, v in self.emotion_dict().items()},
            "track_id": self.track_id,
            "too_small": self.too_small,
        }
