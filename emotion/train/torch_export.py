"""Ship a PyTorch training run: ONNX export, parity check, metadata, evaluation and int8 quantisation.

* :func:`to_onnx`: batch norm folded into the convolutions, a Softmax appended, exported with
  ``torch.onnx.export(..., dynamo=False)`` (opset 13, dynamic batch). Graph input ``crop`` float32
  (N, 1, 48, 48) = :func:`emotion.classify.fer_cnn.preprocess` with a channel axis; output ``probs`` (N, 7).
* :func:`export_run`: ``best.pt`` of a run -> ``fer_vgg.onnx`` + ``fer_vgg.json`` (config, per-epoch history,
  PublicTest figures measured on the exported file through :class:`emotion.classify.fer_vgg.FerVggClassifier`).
* :func:`quantise`: ONNX Runtime static int8 quantisation (QDQ, per-channel weights) calibrated on
  training faces -> ``fer_vgg.int8.onnx``, evaluated the same way and recorded in the JSON.

Training-only (torch, onnx): ``python -m emotion train --run RUN --export [--quantise]``.
"""
from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import numpy as np

OPSET = 13


def load_run_model(checkpoint: Path):
    """(fp32 eval model, config, checkpoint dict) from a best.pt / last.pt file."""
    import torch

    from emotion.train.torch_net import TorchTrainConfig, build_model

    ckpt = torch.load(checkpoint, map_location="cpu", weights_only=True)
    cfg = TorchTrainConfig.from_dict(ckpt["config"])
    model = build_model(cfg)
    model.load_state_dict(ckpt["model"])
    return model.eval().float(), cfg, ckpt


def fused(model):
    """A copy of the eval-mode network with every Conv+BatchNorm pair folded and dropout removed, ending in
    a softmax: the graph that is exported."""
    import copy

    import torch
    from torch import nn
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    model = copy.deepcopy(model).eval().float().to(memory_format=torch.contiguous_format)
    layers: list[nn.Module] = []
    mods = list(model.features)
    i = 0
    while i < len(mods):
        m = mods[i]
        if isinstance(m, nn.Conv2d) and i + 1 < len(mods) and isinstance(mods[i + 1], nn.BatchNorm2d):
            layers.append(fuse_conv_bn_eval(m, mods[i + 1]))
            i += 2
            continue
        if not isinstance(m, nn.Dropout):
            layers.append(m)
        i += 1
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(1), model.fc, nn.Softmax(dim=1)]
    return nn.Sequential(*layers).eval()


def to_onnx(model, input_size: int, path: str | Path) -> Path:
    import torch

    net = fused(model)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    dummy = torch.zeros(2, 1, input_size, input_size)
    with torch.no_grad():
        torch.onnx.export(net, (dummy,), str(path), dynamo=False, opset_version=OPSET, input_names=["crop"],
                          output_names=["probs"], dynamic_axes={"crop": {0: "N"}, "probs": {0: "N"}},
                          do_constant_folding=True)
    import onnx

    onnx.checker.check_model(onnx.load(str(path)))
    return path


def torch_probs(model, x: np.ndarray) -> np.ndarray:
    """fp32 softmax of the (unfused) eval model on preprocessed (N,1,S,S) input: the parity reference."""
    import torch

    with torch.no_grad():
        return torch.softmax(model.eval().float()(torch.from_numpy(np.ascontiguousarray(x))), 1).numpy()


def onnx_probs(path: Path, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(None, {"crop": np.ascontiguousarray(x, dtype=np.float32)})[0]


def export_run(run_dir: Path, out: Path, *, data_dir=None, checkpoint: str = "best.pt", quantise_too: bool = True,
               calib_faces: int = 500, log=print) -> dict:
    """Export a run's checkpoint to ``out``/fer_vgg.onnx (+ .json, + .int8.onnx) and evaluate them."""
    import torch

    from emotion.classify import fer_cnn as fernet, fer_vgg
    from emotion.records import EMOTIONS
    from emotion.train import data as fdata
    from emotion.train import evaluate as fevaluate
    from emotion.train.torch_net import count_macs, count_params

    ckpt_path = Path(run_dir) / checkpoint
    if not ckpt_path.is_file():
        raise FileNotFoundError(f"{ckpt_path} is missing: train the run first")
    model, cfg, ckpt = load_run_model(ckpt_path)
    last = Path(run_dir) / "last.pt"
    history = torch.load(last, map_location="cpu", weights_only=True)["history"] if last.is_file() else []
    onnx_path = to_onnx(model, cfg.input_size, out / fer_vgg.MODEL_FILE)
    x_va, _ = fdata.load_split("val", data_dir)
    probe = fernet.preprocess(x_va[:128])[:, None]
    diff = float(np.abs(onnx_probs(onnx_path, probe) - torch_probs(model, probe)).max())
    log(f"exported {onnx_path} ({onnx_path.stat().st_size / 1e6:.2f} MB) from {ckpt_path.name} "
        f"(epoch {ckpt['epoch']}); torch/ONNX max diff {diff:.2e}")
    meta = {
        "name": "fer_vgg",
        "file": fer_vgg.MODEL_FILE,
        "classes": list(EMOTIONS),
        "input": f"float32 (N,1,{cfg.input_size},{cfg.input_size}) from emotion.classify.fer_cnn.preprocess",
        "preprocessing": fernet.PREPROCESSING,
        "tta_flip": cfg.tta_flip,
        "architecture": f"VGG-style, stages {list(cfg.widths)} x {list(cfg.convs_per_stage)} convs, GAP, linear",
        "parameters": count_params(model),
        "macs": count_macs(cfg),
        "trained_on": "FER2013 Training split (28,709 faces); selected on PublicTest (flip TTA accuracy)",
        "command": f"python -m emotion train --run {Path(run_dir).name} (config below); "
                   f"export: python -m emotion train --run {Path(run_dir).name} --export",
        "config": cfg.to_dict(),
        "best_epoch": ckpt["epoch"],
        "best": ckpt.get("best"),
        "history": history,
        "train_minutes": round(sum(r["seconds"] for r in history) / 60, 1) if history else None,
        "precision": ckpt.get("precision"),
        "hardware": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "torch": torch.__version__,
        "onnx_parity_max_abs_diff": diff,
    }
    meta_path = out / fer_vgg.META_FILE
    meta_path.write_text(json.dumps(meta, indent=1))
    val_file = fdata.data_dir(data_dir) / fdata.VAL_FILE
    # each file alone, in the views its single-file record stands for (fer_vgg.publictest_figures): float32
    # with its mirror image ("publictest") and in one pass; int8 in one pass
    report = fevaluate.evaluate_file(val_file, classifier="fer_vgg", model=str(onnx_path), views="mirror")
    meta["publictest"] = _figures(report)
    log(fevaluate.format_report(report))
    if quantise_too:
        q_path = quantise(onnx_path, out / fer_vgg.INT8_FILE, data_dir=data_dir, n_faces=calib_faces,
                          seed=cfg.seed)
        q_report = fevaluate.evaluate_file(val_file, classifier="fer_vgg_int8", model=str(q_path), views="one")
        plain = fevaluate.evaluate_file(val_file, classifier="fer_vgg", model=str(onnx_path), views="one")
        meta["publictest_no_tta"] = _figures(plain)
        meta["int8"] = {"file": q_path.name, "calibration": f"{calib_faces} training faces, MinMax, QDQ, "
                                                            f"per-channel 7-bit weights",
                        "publictest_no_tta": _figures(q_report),
                        "size_mb": round(q_path.stat().st_size / 1e6, 2)}
        gap = plain["accuracy"] - q_report["accuracy"]
        faster = (q_report["median_ms"] or 1e9) < (plain["median_ms"] or 0)
        meta["int8"]["ship_for_live"] = bool(gap <= 0.005 and faster)
        log(f"int8 (no TTA): accuracy {q_report['accuracy']:.4f} vs fp32 {plain['accuracy']:.4f}, "
            f"median {q_report['median_ms']} ms vs {plain['median_ms']} ms -> "
            f"{'ship int8 for live' if meta['int8']['ship_for_live'] else 'keep fp32 for live'}")
    meta_path.write_text(json.dumps(meta, indent=1))
    return meta


def _figures(report: dict) -> dict:
    return {"accuracy": round(report["accuracy"], 4), "macro_f1": round(report["macro_f1"], 4),
            "disgust_recall": report["recall"]["disgust"], "recall": report["recall"],
            "median_ms": report["median_ms"], "p95_ms": report["p95_ms"], "tta": report["tta"],
            "views": report["views"], "n": report["n"]}


def quantise(fp32_path: Path, int8_path: Path, *, data_dir=None, n_faces: int = 500, seed: int = 1) -> Path:
    """Static int8 quantisation (QDQ, per-channel weights, uint8 activations) calibrated on ``n_faces``
    seeded random training faces (preprocessed with the run-time function, plain and mirrored).

    Weights use 7 of their 8 bits (``reduce_range``): x86 CPUs without VNNI (AVX2, early AVX-512) multiply
    uint8 by int8 with 16-bit intermediate sums that saturate, and a full-range file can collapse there
    (round 6: ``fer_kd``'s int8 file scored 36.9 % on an AVX2-only machine and 64.6 % on a VNNI one)."""
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType, quant_pre_process,
                                          quantize_static)

    from emotion.classify import fer_cnn as fernet
    from emotion.train import data as fdata

    x_tr, _ = fdata.load_split("train", data_dir)
    pick = np.random.default_rng(seed).permutation(len(x_tr))[:n_faces]
    x = fernet.preprocess(x_tr[np.sort(pick)])[:, None]
    x = np.concatenate([x, x[..., ::-1]])

    class Reader(CalibrationDataReader):
        def __init__(self):
            self._it = iter(np.ascontiguousarray(x[i:i + 50]) for i in range(0, len(x), 50))

        def get_next(self):
            b = next(self._it, None)
            return None if b is None else {"crop": b}

    pre = int8_path.with_name(int8_path.stem + ".pre.onnx")
    quant_pre_process(str(fp32_path), str(pre), skip_symbolic_shape=True)
    try:
        quantize_static(str(pre), str(int8_path), Reader(), quant_format=QuantFormat.QDQ,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=True,
                        reduce_range=True,
                        op_types_to_quantize=["Conv", "Gemm", "MaxPool", "GlobalAveragePool"])
    finally:
        pre.unlink(missing_ok=True)
    return int8_path


def quantise_file(fp32_path: Path, *, data_dir=None, n_faces: int = 500, seed: int = 1, log=print) -> dict:
    """``python -m emotion train --quantise FILE.onnx``: FILE's int8 twin ``FILE.int8.onnx`` (see
    :func:`quantise`), and both files' PublicTest figures through the engine's classifier, one pass each."""
    from emotion.train import data as fdata
    from emotion.train import evaluate as fevaluate

    fp32_path = Path(fp32_path)
    if not fp32_path.is_file():
        raise FileNotFoundError(f"{fp32_path} is missing")
    int8_path = quantise(fp32_path, fp32_path.with_name(fp32_path.stem + ".int8.onnx"), data_dir=data_dir,
                         n_faces=n_faces, seed=seed)
    val_file = fdata.data_dir(data_dir) / fdata.VAL_FILE
    reports = {}
    for key, path in (("fp32", fp32_path), ("int8", int8_path)):
        reports[key] = fevaluate.evaluate_file(val_file, classifier="fer_vgg", tta=False, model=str(path))
        log(fevaluate.format_report(reports[key]))
    q, f = reports["int8"], reports["fp32"]
    log(f"wrote {int8_path}: accuracy {q['accuracy']:.4f} (one pass) vs fp32 {f['accuracy']:.4f}; "
        f"median {q['median_ms']} vs {f['median_ms']} ms")
    return {key: _figures(r) for key, r in reports.items()}
