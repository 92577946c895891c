"""Knowledge distillation: a trained ONNX emotion model as the teacher of a training run.

``teacher_onnx`` (in :class:`emotion.train.torch_net.TorchTrainConfig`) names an exported model of this
project (any width); the engine's own classifier runs it (:func:`load_teacher`, one pass, no TTA).
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


def load_teacher(path: str | Path, threads: int = 2):
    """The engine's classifier on ``path`` alone: uint8 (N, 48, 48) crops -> (N, 7) probabilities."""
    from emotion.classify.fer_vgg import FerVggClassifier

    return FerVggClassifier(model_file=path, tta=False, threads=threads)


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
