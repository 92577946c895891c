"""What the ONNX Runtime emotion classifiers share: the CPU session set up for batch-1 calls and the
predict step (crop batch -> test-time views (:mod:`emotion.classify.views`) -> preprocessing -> each
member's probabilities, averaged at the members' weights and over the views -> normalised probabilities).

Subclasses (``fer_cnn``, ``fer_vgg``) find their file, read their metadata, set ``name``, ``input_size``,
``views`` (or ``tta``) and ``preprocess``, then call :meth:`OnnxEmotionClassifier._open`. numpy +
onnxruntime (+ OpenCV for zoomed views) only.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, ClassVar

import numpy as np

from emotion import config
from emotion.classify.base import as_crop_batch
from emotion.classify.views import VIEWS, View, mean_over_views, view_batch


class OnnxEmotionClassifier:
    """EmotionClassifier base: uint8 (N, S, S) crops -> float32 (N, 7) probabilities (EMOTIONS order)."""

    name: str
    input_size: int
    #: the test-time views each crop is scored in (emotion.classify.views.VIEWS); the first is the crop
    views: tuple[View, ...] = VIEWS["one"]
    path: Path
    #: uint8 (N, S, S) -> float32 (N, S, S); bound as a staticmethod by each subclass
    preprocess: ClassVar[Callable[[np.ndarray], np.ndarray]]

    @property
    def tta(self) -> bool:
        """Whether the classifier scores more than the crop itself (test-time augmentation)."""
        return len(self.views) > 1

    @tta.setter
    def tta(self, on: bool) -> None:
        self.views = VIEWS["mirror"] if on else VIEWS["one"]

    def _open(self, path: Path, threads: int | None) -> None:
        """One CPU InferenceSession on ``path``. Batch-1 calls of a small CNN: one intra-op thread is
        fastest and leaves the other core to the rest of the pipeline; override with
        ``threads`` or EMOTION_ORT_THREADS."""
        import onnxruntime as ort

        opts = ort.SessionOptions()
        n = threads if threads is not None else config.CONFIG.ort_threads
        opts.intra_op_num_threads = max(1, n)
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._opts = opts
        self._members: list = []
        self.member_paths: list[Path] = []
        self.member_weights: list[float] = []
        self._add_member(path)
        self.path = path

    def _add_member(self, path: Path, weight: float = 1.0) -> None:
        """Open ``path`` (same input and output as the first file); `predict` averages all members'
        probabilities, each at its ``weight`` (the first file's is 1)."""
        import onnxruntime as ort

        if not weight > 0:
            raise ValueError(f"a member's weight must be positive, got {weight!r} for {path}")
        session = ort.InferenceSession(str(path), sess_options=self._opts, providers=["CPUExecutionProvider"])
        self._members.append((session, session.get_inputs()[0].name))
        self.member_paths.append(Path(path))
        self.member_weights.append(float(weight))

    def predict(self, crops: np.ndarray) -> np.ndarray:
        crops = as_crop_batch(crops, self.input_size)
        n = len(crops)
        if n == 0:
            return np.zeros((0, 7), np.float32)
        views = self.views
        x = np.ascontiguousarray(self.preprocess(view_batch(crops, views))[:, None])  # (V*N, 1, S, S)
        members = zip(self._members, self.member_weights)
        p = sum(w * session.run(None, {name: x})[0] for (session, name), w in members) / sum(self.member_weights)
        if len(views) > 1:
            p = mean_over_views(p, len(views))
        p = p.astype(np.float32, copy=False)
        return p / p.sum(axis=1, keepdims=True)
