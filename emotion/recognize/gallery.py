"""Matching embeddings against a user's enrolled people.

`Gallery(entries, metric, threshold)`: `entries` are `(person_id, name, vector)` rows (several rows per
person allowed: one per enrolled photo). A face is the person of the nearest row when that distance is
at most `threshold`, else `UNKNOWN` (the distance to the nearest row is still reported).

Metrics (DeepFace's names, so thresholds mean the same thing as there):
* ``euclidean_l2`` - Euclidean distance between L2-normalised vectors (0..2);
* ``euclidean`` - plain Euclidean distance;
* ``cosine`` - 1 - cosine similarity (0..2).
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from emotion.records import UNKNOWN, Identity

METRICS = ("euclidean_l2", "euclidean", "cosine")


def _l2n(m: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(m, axis=-1, keepdims=True)
    return m / np.maximum(n, 1e-12)


def distances(queries: np.ndarray, refs: np.ndarray, metric: str) -> np.ndarray:
    """(Q, D) x (R, D) -> (Q, R) distances in `metric`."""
    q = np.atleast_2d(np.asarray(queries, np.float64))
    r = np.atleast_2d(np.asarray(refs, np.float64))
    if metric in ("euclidean_l2", "cosine"):
        q, r = _l2n(q), _l2n(r)
        if metric == "cosine":
            return 1.0 - q @ r.T
    elif metric != "euclidean":
        raise ValueError(f"unknown metric {metric!r} (one of {', '.join(METRICS)})")
    d2 = (q ** 2).sum(1)[:, None] + (r ** 2).sum(1)[None, :] - 2.0 * q @ r.T
    return np.sqrt(np.maximum(d2, 0.0))


class Gallery:
    """Immutable set of enrolled embeddings for one user and one recogniser."""

    def __init__(self, entries: Iterable[tuple[int, str, np.ndarray]] = (), metric: str = "euclidean_l2",
                 threshold: float = 0.4):
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r} (one of {', '.join(METRICS)})")
        rows = [(int(pid), str(name), np.asarray(vec, np.float32).ravel()) for pid, name, vec in entries]
        dims = {len(v) for _, _, v in rows}
        if len(dims) > 1:
            raise ValueError(f"embeddings of different sizes in one gallery: {sorted(dims)}")
        self.entries: list[tuple[int, str, np.ndarray]] = rows
        self.metric = metric
        self.threshold = float(threshold)
        self._ids = np.array([pid for pid, _, _ in rows], dtype=np.int64)
        self._names = [name for _, name, _ in rows]
        self._matrix = np.stack([v for _, _, v in rows]) if rows else np.zeros((0, 0), np.float32)

    def __len__(self) -> int:
        return len(self.entries)

    def __repr__(self) -> str:
        return (f"Gallery({len(self.people())} people, {len(self)} embeddings, metric={self.metric!r}, "
                f"threshold={self.threshold:.3f})")

    @property
    def dim(self) -> int | None:
        return None if not self.entries else int(self._matrix.shape[1])

    def people(self) -> dict[int, str]:
        return {pid: name for pid, name, _ in self.entries}

    def with_threshold(self, threshold: float) -> "Gallery":
        g = Gallery.__new__(Gallery)
        g.__dict__.update(self.__dict__)
        g.threshold = float(threshold)
        return g

    def match(self, embedding: np.ndarray | None) -> Identity:
        if embedding is None:
            return Identity()
        return self.match_many(np.asarray(embedding)[None])[0]

    def match_many(self, embeddings: Sequence[np.ndarray] | np.ndarray) -> list[Identity]:
        embs = [None if e is None else np.asarray(e, np.float32).ravel() for e in embeddings]
        out: list[Identity] = [Identity() for _ in embs]
        valid = [i for i, e in enumerate(embs) if e is not None]
        if not valid or not self.entries:
            return out
        q = np.stack([embs[i] for i in valid])
        if q.shape[1] != self._matrix.shape[1]:
            raise ValueError(f"embedding size {q.shape[1]} does not match the gallery's {self._matrix.shape[1]} "
                             "(enrolled with another recogniser?)")
        d = distances(q, self._matrix, self.metric)
        best = d.argmin(axis=1)
        for row, i in enumerate(valid):
            j = int(best[row])
            dist = float(d[row, j])
            if dist <= self.threshold:
                out[i] = Identity(name=self._names[j], distance=dist, person_id=int(self._ids[j]))
            else:
                out[i] = Identity(name=UNKNOWN, distance=dist, person_id=None)
        return out


def as_gallery(obj, metric: str = "euclidean_l2", threshold: float = 0.4) -> Gallery | None:
    """A Gallery from a Gallery, a list of (person_id, name, vector) rows, or None."""
    if obj is None or isinstance(obj, Gallery):
        return obj
    if hasattr(obj, "match_many") and hasattr(obj, "match"):
        return obj
    return Gallery(list(obj), metric, threshold)
