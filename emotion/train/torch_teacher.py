"""Knowledge distillation: a trained ONNX emotion model as the teacher of a training run.

``teacher_onnx`` (in :class:`emotion.train.torch_net.TorchTrainConfig`) names an exported model of this
project (any width: it is run by ONNX Runtime, not converted); ``kd_weight`` mixes its softened
probabilities into the loss:

    loss = (1 - kd_weight) * CE(labels) + kd_weight * T^2 * KL(teacher_T || student_T)

with ``T = kd_temperature`` (Hinton et al.'s scaling, so that the gradient size does not depend on T).
The teacher sees exactly the student's augmented, preprocessed batch, so it also teaches on the
augmentations. The exported files end in a softmax, so the teacher's logits are recovered as
``log(p)`` (equal to the logits up to a per-face constant, which a softmax ignores).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

#: probabilities below this are clipped before the log (a softmax output is never exactly 0 in fp32)
_EPS = 1e-7


class OnnxTeacher:
    """Softened probabilities of an exported model on preprocessed float32 (N, 1, S, S) batches."""

    def __init__(self, path: str | Path, threads: int = 2):
        import onnxruntime as ort

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"teacher model {path} is missing")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, int(threads))
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name
        self.path = path

    def log_probs(self, x: np.ndarray) -> np.ndarray:
        """float32 (N, 7) log-probabilities at temperature 1."""
        p = self.session.run(None, {self.input_name: np.ascontiguousarray(x, dtype=np.float32)})[0]
        return np.log(np.clip(p, _EPS, 1.0)).astype(np.float32)


def kd_loss(student_logits, teacher_log_probs, temperature: float):
    """T^2 * KL(softmax(teacher / T) || softmax(student / T)), averaged over the batch."""
    import torch.nn.functional as F

    t = float(temperature)
    target = F.log_softmax(teacher_log_probs / t, dim=1)
    return F.kl_div(F.log_softmax(student_logits / t, dim=1), target, log_target=True,
                    reduction="batchmean") * (t * t)
