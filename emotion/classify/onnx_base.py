"""What the ONNX Runtime emotion classifiers share: the CPU session set up for batch-1 calls and the
predict step (crop batch -> preprocessing -> optional flip TTA -> normalised probabilities).

Subclasses (``fer_cnn``, ``fer_vgg``) find their file, read their metadata, set ``name``, ``input_size``,
``tta`` and ``preprocess``, then call :meth:`OnnxEmotionClassifier._open`. numpy + onnxruntime only.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, ClassVar

import numpy as np

from emotion import config
from emotion.classify.base import as_crop_batch


class OnnxEmotionClassifier:
    """EmotionClassifier base: uint8 (N, S, S) crops -> float32 (N, 7) probabilities (EMOTIONS order)."""

    name: str
    input_size: int
    tta: bool
    path: Path
    #: uint8 (N, S, S) -> float32 (N, S, S); bound as a staticmethod by each subclass
    preprocess: ClassVar[Callable[[np.ndarray], np.ndarray]]

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
        x = self.preprocess(crops)[:, None]  # (N, 1, S, S)
        if self.tta:
            x = np.concatenate([x, x[..., ::-1]], axis=0)
        x = np.ascontiguousarray(x)
        members = zip(self._members, self.member_weights)
        p = sum(w * session.run(None, {name: x})[0] for (session, name), w in members) / sum(self.member_weights)
        if self.tta:
            p = 0.5 * (p[:n] + p[n:])
        p = p.astype(np.float32, copy=False)
        return p / p.sum(axis=1, keepdims=True)
