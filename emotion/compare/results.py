"""The comparison's typed results: what `emotion.compare.engine` returns and the exports serialise.

Every model appears in the result whether it could run or not: `ModelStatus.usable` is False with a
`reason_code` (stable, for translations), an English `reason`, and for DeepFace's models the
`missing_file` that would have to be placed in `place_in` (``$DEEPFACE_HOME/.deepface/weights``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: reason codes (the UI translates them; `reason` holds the English text with the details)
REASON_WEIGHTS_MISSING = "weights_missing"
REASON_PACKAGE_MISSING = "package_missing"
REASON_BUILD_FAILED = "build_failed"
REASON_UNKNOWN_MODEL = "unknown_model"
REASON_DETECTOR_UNUSABLE = "detector_unusable"
REASON_NOT_RUN = "not_run"  # cancelled before this model's turn


@dataclass
class ModelStatus:
    """Whether one model (detector, recogniser or classifier) can run here, and why not."""

    role: str
    name: str
    usable: bool
    reason_code: str = ""
    reason: str = ""
    missing_file: str | None = None
    place_in: str | None = None
    #: recognisers: their own distance metric and threshold (None when unknown because unusable)
    metric: str | None = None
    threshold: float | None = None
    #: seconds to build the model in this process (0 when it was already loaded)
    load_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("role", "name", "usable", "reason_code", "reason", "missing_file",
                                               "place_in", "metric", "threshold", "load_s")}


@dataclass
class PhotoInfo:
    name: str
    digest: str
    width: int
    height: int
    #: the person group index (photos with the same index show the same person)
    person: int

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "digest": self.digest, "width": self.width, "height": self.height,
                "person": self.person}


@dataclass
class PhotoDetection:
    """One detector on one photo."""

    photo: str
    faces: int
    ms: float
    #: set when the detector failed on this photo (the comparison goes on)
    error: str = ""
    cached: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"photo": self.photo, "faces": self.faces, "ms": round(self.ms, 2), "error": self.error,
                "cached": self.cached}


@dataclass
class DetectorResult:
    status: ModelStatus
    photos: list[PhotoDetection] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.status.name

    @property
    def mean_ms(self) -> float | None:
        times = [p.ms for p in self.photos if not p.error]
        return float(np.mean(times)) if times else None

    def to_dict(self) -> dict[str, Any]:
        return {**self.status.to_dict(), "mean_ms": None if self.mean_ms is None else round(self.mean_ms, 2),
                "photos": [p.to_dict() for p in self.photos]}


@dataclass
class PairResult:
    """One pair of photos under one detector x recogniser combination."""

    a: str
    b: str
    same: bool
    #: None when either photo has no face for this detector (or no embedding)
    distance: float | None = None

    def decision(self, threshold: float | None) -> bool | None:
        """True = 'same person' by the recogniser's threshold; None without a distance."""
        if self.distance is None or threshold is None:
            return None
        return bool(self.distance <= threshold)

    def correct(self, threshold: float | None) -> bool | None:
        d = self.decision(threshold)
        return None if d is None else d == self.same


@dataclass
class ComboResult:
    detector: str
    recognizer: str
    usable: bool
    reason_code: str = ""
    reason: str = ""
    missing_file: str | None = None
    place_in: str | None = None
    metric: str | None = None
    threshold: float | None = None
    pairs: list[PairResult] = field(default_factory=list)
    #: embedding of the largest face per photo (photo name -> vector; None where no face)
    embeddings: dict[str, np.ndarray | None] = field(default_factory=dict)
    #: recognition time per face (ms), over the faces embedded in this run (None when all were cached)
    ms_per_face: float | None = None

    @property
    def n_correct(self) -> int:
        return sum(1 for p in self.pairs if p.correct(self.threshold) is True)

    @property
    def n_decided(self) -> int:
        return sum(1 for p in self.pairs if p.correct(self.threshold) is not None)

    @property
    def accuracy(self) -> float | None:
        return self.n_correct / self.n_decided if self.n_decided else None

    @property
    def margin(self) -> float | None:
        """How clearly the threshold separates this set: (smallest different-person distance - largest
        same-person distance) / threshold; negative when the two ranges overlap. None without both kinds."""
        same = [p.distance for p in self.pairs if p.distance is not None and p.same]
        diff = [p.distance for p in self.pairs if p.distance is not None and not p.same]
        if not same or not diff or not self.threshold:
            return None
        return (min(diff) - max(same)) / self.threshold

    def to_dict(self) -> dict[str, Any]:
        return {
            "detector": self.detector, "recognizer": self.recognizer, "usable": self.usable,
            "reason_code": self.reason_code, "reason": self.reason, "missing_file": self.missing_file,
            "place_in": self.place_in, "metric": self.metric, "threshold": self.threshold,
            "accuracy": self.accuracy, "correct": self.n_correct, "decided": self.n_decided,
            "margin": None if self.margin is None else round(self.margin, 4),
            "ms_per_face": None if self.ms_per_face is None else round(self.ms_per_face, 2),
            "embedding_dim": next((int(v.shape[-1]) for v in self.embeddings.values() if v is not None), None),
            "pairs": [{"a": p.a, "b": p.b, "same": p.same,
                       "distance": None if p.distance is None else round(p.distance, 4),
                       "decision_same": p.decision(self.threshold), "correct": p.correct(self.threshold)}
                      for p in self.pairs],
        }


@dataclass
class FaceScores:
    """One face under every usable emotion classifier."""

    photo: str
    index: int
    box: tuple[int, int, int, int]
    #: classifier name -> 7 probabilities (EMOTIONS order)
    scores: dict[str, np.ndarray] = field(default_factory=dict)

    def top(self) -> dict[str, str]:
        from emotion.records import EMOTIONS

        return {name: EMOTIONS[int(np.argmax(s))] for name, s in self.scores.items()}

    @property
    def agree(self) -> bool | None:
        """All classifiers name the same emotion; None with fewer than two classifiers."""
        tops = set(self.top().values())
        return None if len(self.scores) < 2 else len(tops) == 1

    def to_dict(self) -> dict[str, Any]:
        from emotion.records import EMOTIONS

        return {"photo": self.photo, "index": self.index, "box": list(self.box), "top": self.top(),
                "agree": self.agree,
                "scores": {n: {e: round(float(v), 4) for e, v in zip(EMOTIONS, s)} for n, s in self.scores.items()}}


@dataclass
class ClassifierComparison:
    #: the detector whose faces the classifiers were run on
    detector: str
    models: list[ModelStatus] = field(default_factory=list)
    faces: list[FaceScores] = field(default_factory=list)
    #: classifier -> ms per face (None when all were cached)
    ms_per_face: dict[str, float | None] = field(default_factory=dict)

    @property
    def agreement(self) -> float | None:
        votes = [f.agree for f in self.faces if f.agree is not None]
        return sum(votes) / len(votes) if votes else None

    def to_dict(self) -> dict[str, Any]:
        return {"detector": self.detector, "agreement": self.agreement,
                "models": [{**m.to_dict(), "ms_per_face": None if self.ms_per_face.get(m.name) is None
                            else round(self.ms_per_face[m.name], 2)} for m in self.models],
                "faces": [f.to_dict() for f in self.faces]}


@dataclass
class CompareResult:
    digest: str
    photos: list[PhotoInfo]
    options: dict[str, Any]
    detectors: list[DetectorResult] = field(default_factory=list)
    recognizers: list[ModelStatus] = field(default_factory=list)
    combos: list[ComboResult] = field(default_factory=list)
    classifiers: ClassifierComparison | None = None
    cancelled: bool = False
    #: work units computed in this run vs taken from the cache
    computed: int = 0
    cached: int = 0
    seconds: float = 0.0

    def combo(self, detector: str, recognizer: str) -> ComboResult | None:
        return next((c for c in self.combos if c.detector == detector and c.recognizer == recognizer), None)

    def best(self) -> ComboResult | None:
        """The usable combination that decides most pairs correctly (then the widest margin, to a tenth of
        the threshold, then the fastest detector + recogniser); None when no combination decided a pair."""
        ranked = [c for c in self.combos if c.usable and c.n_decided]
        if not ranked:
            return None
        speed = {d.name: d.mean_ms or 0.0 for d in self.detectors}

        def rank(c: ComboResult) -> tuple:
            # margins within a tenth of the threshold count as a tie: then the faster combination wins
            margin = round(c.margin, 1) if c.margin is not None else float("-inf")
            return (c.n_correct / max(len(c.pairs), 1), margin, -(speed.get(c.detector, 0.0) + (c.ms_per_face or 0.0)))

        return max(ranked, key=rank)

    def to_dict(self) -> dict[str, Any]:
        best = self.best()
        return {
            "digest": self.digest, "options": self.options, "cancelled": self.cancelled,
            "computed": self.computed, "cached": self.cached, "seconds": round(self.seconds, 3),
            "photos": [p.to_dict() for p in self.photos],
            "detectors": [d.to_dict() for d in self.detectors],
            "recognizers": [r.to_dict() for r in self.recognizers],
            "combinations": [c.to_dict() for c in self.combos],
            "best": None if best is None else {"detector": best.detector, "recognizer": best.recognizer},
            "classifiers": None if self.classifiers is None else self.classifiers.to_dict(),
        }
