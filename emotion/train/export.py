"""Write the trained Keras fernet as an ONNX file for ONNX Runtime, without tf2onnx.

The network only uses Conv2D (no bias) + BatchNormalization + ReLU, MaxPooling2D, Dropout,
GlobalAveragePooling2D and Dense, so the graph is written directly with the ``onnx`` helper API:
batch norm is folded into the preceding convolution, dropout disappears and a Softmax is appended.
ONNX graph input: ``crop`` float32 (N, 1, S, S), the output of
:func:`emotion.classify.fer_cnn.preprocess` with a channel axis; output ``probs`` float32 (N, 7).

``onnx`` is needed only here (export time), never at run time.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

OPSET = 13


def fold_weights(model) -> list[dict]:
    """Walk the Keras model and return a flat list of ops with numpy weights (BN folded)."""
    ops: list[dict] = []
    pending_conv: dict | None = None
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "InputLayer" or kind == "Dropout":
            continue
        if kind == "Conv2D":
            if layer.padding != "same" or tuple(layer.strides) != (1, 1) or tuple(layer.dilation_rate) != (1, 1):
                raise NotImplementedError(f"{layer.name}: only stride-1 'same' convolutions are exported")
            w = layer.get_weights()
            kernel = w[0]  # (kh, kw, cin, cout)
            bias = w[1] if layer.use_bias else np.zeros(kernel.shape[-1], np.float32)
            pending_conv = {"op": "conv", "name": layer.name, "w": kernel.transpose(3, 2, 0, 1).copy(),
                            "b": bias.astype(np.float32), "k": kernel.shape[0]}
            ops.append(pending_conv)
            if getattr(layer, "activation", None) is not None and layer.activation.__name__ != "linear":
                raise NotImplementedError(f"{layer.name}: fused activations are not exported")
        elif kind == "BatchNormalization":
            if pending_conv is None or ops[-1] is not pending_conv:
                raise NotImplementedError(f"{layer.name}: batch norm must follow a convolution")
            gamma, beta, mean, var = layer.get_weights()
            scale = gamma / np.sqrt(var + layer.epsilon)
            pending_conv["w"] = (pending_conv["w"] * scale[:, None, None, None]).astype(np.float32)
            pending_conv["b"] = ((pending_conv["b"] - mean) * scale + beta).astype(np.float32)
        elif kind == "ReLU":
            ops.append({"op": "relu", "name": layer.name})
        elif kind == "MaxPooling2D":
            ops.append({"op": "maxpool", "name": layer.name, "k": tuple(layer.pool_size),
                        "s": tuple(layer.strides)})
        elif kind == "GlobalAveragePooling2D":
            ops.append({"op": "gap", "name": layer.name})
        elif kind == "Dense":
            kernel, bias = layer.get_weights()
            ops.append({"op": "dense", "name": layer.name, "w": kernel.astype(np.float32),
                        "b": bias.astype(np.float32)})
        else:
            raise NotImplementedError(f"layer {layer.name} ({kind}) has no ONNX export")
        if kind != "Conv2D" and kind != "BatchNormalization":
            pending_conv = None
    return ops


def to_onnx(model, input_size: int, path: str | Path, doc: str = "") -> Path:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    ops = fold_weights(model)
    nodes, inits = [], []
    cur = "crop"
    for i, op in enumerate(ops):
        out = f"t{i}_{op['name']}"
        if op["op"] == "conv":
            wn, bn = f"{op['name']}_W", f"{op['name']}_B"
            inits += [numpy_helper.from_array(op["w"], wn), numpy_helper.from_array(op["b"], bn)]
            p = op["k"] // 2
            nodes.append(helper.make_node("Conv", [cur, wn, bn], [out], name=op["name"],
                                          kernel_shape=[op["k"], op["k"]], pads=[p, p, p, p]))
        elif op["op"] == "relu":
            nodes.append(helper.make_node("Relu", [cur], [out], name=op["name"]))
        elif op["op"] == "maxpool":
            nodes.append(helper.make_node("MaxPool", [cur], [out], name=op["name"],
                                          kernel_shape=list(op["k"]), strides=list(op["s"])))
        elif op["op"] == "gap":
            g = out + "_4d"
            nodes.append(helper.make_node("GlobalAveragePool", [cur], [g], name=op["name"]))
            nodes.append(helper.make_node("Flatten", [g], [out], name=op["name"] + "_flat", axis=1))
        elif op["op"] == "dense":
            wn, bn = f"{op['name']}_W", f"{op['name']}_B"
            inits += [numpy_helper.from_array(op["w"], wn), numpy_helper.from_array(op["b"], bn)]
            nodes.append(helper.make_node("Gemm", [cur, wn, bn], [out], name=op["name"]))
        cur = out
    nodes.append(helper.make_node("Softmax", [cur], ["probs"], name="softmax", axis=-1))
    graph = helper.make_graph(
        nodes, "fernet",
        [helper.make_tensor_value_info("crop", TensorProto.FLOAT, ["N", 1, input_size, input_size])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", 7])],
        initializer=inits)
    m = helper.make_model(graph, producer_name="emotion.train.export",
                          opset_imports=[helper.make_opsetid("", OPSET)], doc_string=doc)
    m.ir_version = 8  # readable by every onnxruntime >= 1.14
    onnx.checker.check_model(m)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(m, str(path))
    return path


def parity(model, onnx_path: str | Path, x_nhwc: np.ndarray) -> float:
    """Largest absolute difference between Keras softmax(logits) and the ONNX probabilities."""
    import onnxruntime as ort

    ref = model(x_nhwc, training=False)
    ref = np.asarray(ref, dtype=np.float64)
    ref = np.exp(ref - ref.max(1, keepdims=True))
    ref /= ref.sum(1, keepdims=True)
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    got = sess.run(None, {"crop": x_nhwc.transpose(0, 3, 1, 2).astype(np.float32)})[0]
    return float(np.abs(got - ref).max())
