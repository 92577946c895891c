"""Knowledge distillation: trained ONNX emotion models as the teacher of a training run.

``teacher_onnx`` (in :class:`emotion.train.torch_net.TorchTrainConfig`) names an exported model of this
project (any width), or several separated by commas, each optionally ``FILE:WEIGHT``: the teacher is then
their weighted average of probabilities (an ensemble teaches one network). The engine's own classifier
runs each file (:func:`load_teacher`, one pass, no TTA).
``kd_weight`` mixes its softened probabilities into the loss:

    loss = (1 - kd_weight) * CE(labels) + kd_weight * T^2 * KL(teacher_T || student_T)

with ``T = kd_temperature`` (Hinton et al.'s scaling, so that the gradient size does not depend on T).
The teacher sees exactly the student's augmented crops, so it also teaches on the augmentations. The
classifier returns probabilities, so the teacher's logits are recovered as ``log(p)`` (equal to the
logits up to a per-face constant, which a softmax ignores).
"""
from __future__ import annotations

from pathlib import Path

#: probabilities below this are clipped before the log (a softmax output is never exactly 0 in fp32)
_EPS = 1e-7


class Teacher:
    """Weighted average of the engine's classifiers: uint8 (N, 48, 48) crops -> (N, 7) probabilities."""

    def __init__(self, members: list[tuple[object, float]]):
        if not members or any(w <= 0 for _, w in members):
            raise ValueError("a teacher needs at least one model, each with a positive weight")
        self.members = members

    @property
    def name(self) -> str:
        return " + ".join(f"{Path(c.path).name} x{w:g}" for c, w in self.members)

    def predict(self, crops):
        total = sum(w for _, w in self.members)
        return sum(w * c.predict(crops) for c, w in self.members) / total


def parse_teacher_spec(spec: str | Path) -> list[tuple[str, float]]:
    """``"a.onnx:0.6, b.onnx"`` -> ``[("a.onnx", 0.6), ("b.onnx", 1.0)]``."""
    out = []
    for part in str(spec).split(","):
        part = part.strip()
        if not part:
            continue
        path, sep, weight = part.rpartition(":")
        if not sep or not weight.replace(".", "", 1).isdigit():
            path, weight = part, "1"
        out.append((path, float(weight)))
    if not out:
        raise ValueError(f"no teacher model in {spec!r}")
    return out


def load_teacher(spec: str | Path, threads: int = 2, views: str = "one") -> Teacher:
    """The engine's classifier on each file of ``spec`` (see :func:`parse_teacher_spec`), one pass unless
    ``views`` names another view set of :mod:`emotion.classify.views` (``tools/classifier_lab.py`` scores
    such averages in the photo path's views)."""
    from emotion.classify.fer_vgg import FerVggClassifier

    return Teacher([(FerVggClassifier(model_file=path, threads=threads, views=views), w)
                    for path, w in parse_teacher_spec(spec)])


def teacher_log_probs(teacher, crops):
    """float32 (N, 7) torch log-probabilities at temperature 1 of uint8 (N, S, S) crops."""
    import numpy as np
    import torch

    return torch.from_numpy(np.log(np.clip(teacher.predict(crops), _EPS, 1.0)).astype(np.float32))


def kd_loss(student_logits, teacher_log_probs, temperature: float):
    """T^2 * KL(softmax(teacher / T) || softmax(student / T)), averaged over the batch."""
    import torch.nn.functional as F

    t = float(temperature)
    target = F.log_softmax(teacher_log_probs / t, dim=1)
    return F.kl_div(F.log_softmax(student_logits / t, dim=1), target, log_target=True,
                    reduction="batchmean") * (t * t)
