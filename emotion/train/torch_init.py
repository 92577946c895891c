"""Start a PyTorch run from a shipped ONNX model of the same architecture (e.g. models/fernet.onnx).

The shipped files have batch norm folded into the convolutions (Conv with bias, no BatchNormalization),
so the unfolding is data-dependent: each convolution gets the ONNX weights, and its batch norm the
per-channel mean and variance of that convolution's output over a batch of training faces as running
statistics, with ``gamma = sqrt(var + eps)`` and ``beta = mean + bias``. In eval mode the network is then
exactly the ONNX model (checked: the largest probability difference is returned); in train mode the batch
statistics are close to these, so training continues from the shipped model (a further cosine cycle)
instead of from scratch.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np


def _onnx_layers(path: Path) -> tuple[list[tuple[np.ndarray, np.ndarray]], tuple[np.ndarray, np.ndarray]]:
    import onnx
    from onnx import numpy_helper

    m = onnx.load(str(path))
    init = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    convs, dense = [], None
    for node in m.graph.node:
        if node.op_type == "Conv":
            w = init[node.input[1]]
            b = init[node.input[2]] if len(node.input) > 2 else np.zeros(w.shape[0], np.float32)
            convs.append((w, b))
        elif node.op_type == "BatchNormalization":
            raise NotImplementedError(f"{path.name}: expected batch norm folded into the convolutions")
        elif node.op_type in ("Gemm", "MatMul"):
            if dense is not None:
                raise NotImplementedError(f"{path.name}: more than one dense layer")
            w = init[node.input[1]]
            trans_b = any(a.name == "transB" and a.i for a in node.attribute)
            b = init[node.input[2]] if len(node.input) > 2 else np.zeros(w.shape[0 if trans_b else 1], np.float32)
            dense = (w if trans_b else w.T, b)  # torch Linear: (out, in)
    if dense is None:
        raise NotImplementedError(f"{path.name}: no dense layer found")
    return convs, dense


def init_from_onnx(model, onnx_path: str | Path, faces: np.ndarray) -> float:
    """Load ``onnx_path`` into ``model`` (a FerVgg of the same shape), calibrating batch norm on ``faces``
    (preprocessed float32 (N,1,S,S)); returns the largest |probability difference| against ONNX Runtime."""
    import torch
    from torch import nn

    onnx_path = Path(onnx_path)
    convs, (w_fc, b_fc) = _onnx_layers(onnx_path)
    mods = list(model.features)
    pairs = [(m, mods[i + 1]) for i, m in enumerate(mods) if isinstance(m, nn.Conv2d)]
    if len(pairs) != len(convs) or any(c.weight.shape != torch.Size(w.shape) for (c, _), (w, _) in zip(pairs, convs)):
        raise ValueError(f"{onnx_path.name} does not match this architecture "
                         f"({[tuple(w.shape) for w, _ in convs]} vs {[tuple(c.weight.shape) for c, _ in pairs]})")
    if model.fc.weight.shape != torch.Size(w_fc.shape):
        raise ValueError(f"{onnx_path.name}: dense layer {w_fc.shape} vs {tuple(model.fc.weight.shape)}")
    model.eval().float()
    x = torch.from_numpy(np.ascontiguousarray(faces, dtype=np.float32))
    with torch.no_grad():
        for (conv, bn), (w, b) in zip(pairs, convs):
            conv.weight.copy_(torch.from_numpy(np.array(w)))
            captured = {}
            hook = conv.register_forward_hook(lambda _m, _i, out: captured.setdefault("z", out))
            model.features(x)  # the layers before this one are already exact
            hook.remove()
            z = captured["z"].double()
            mean, var = z.mean((0, 2, 3)), z.var((0, 2, 3), unbiased=False)
            bn.running_mean.copy_(mean.float())
            bn.running_var.copy_(var.float())
            bn.weight.copy_(torch.sqrt(var + bn.eps).float())
            bn.bias.copy_((mean + torch.from_numpy(b).double()).float())
        model.fc.weight.copy_(torch.from_numpy(np.array(w_fc)))
        model.fc.bias.copy_(torch.from_numpy(np.array(b_fc)))
        ref = torch.softmax(model(x), 1).numpy()
    import onnxruntime as ort

    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    got = sess.run(None, {sess.get_inputs()[0].name: x.numpy()})[0]
    return float(np.abs(got - ref).max())
