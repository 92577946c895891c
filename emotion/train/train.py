"""`python -m emotion train`: train the project's FER2013 emotion model ("fernet") and ship it.

Reads Training.npz.xz and PublicTest.npz.xz from the FER2013 folder (``--data`` or FER2013_DIR), trains the
Keras network of :mod:`emotion.train.model` with the augmentation of :mod:`emotion.train.data`, selects the
epoch with the best PublicTest accuracy (PublicTest is the only split used for selection), writes
``fernet.onnx`` + ``fernet.json`` into ``--out`` (models/ by default) and evaluates the exported file with
exactly the run-time code path (:mod:`emotion.train.evaluate`).

Runs on the CPU (slow but nobody is blocked) and on a GPU when TensorFlow sees one. Seeded; every
hyper-parameter is in :class:`emotion.train.model.TrainConfig` and recorded in the JSON and the log.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import sys
import time
from pathlib import Path

import numpy as np

from emotion import config
from emotion.classify import fer_cnn as fernet
from emotion.records import EMOTIONS
from emotion.train import data as fdata
from emotion.train.model import PRESETS, TrainConfig, count_macs, make_config


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", help="folder with Training.npz.xz and PublicTest.npz.xz (default: FER2013_DIR)")
    p.add_argument("--out", default=str(config.MODELS_DIR), help="where fernet.onnx/fernet.json go")
    p.add_argument("--preset", default="default", choices=sorted(PRESETS))
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--seed", type=int)
    p.add_argument("--limit", type=int, help="use only the first N training images (smoke runs)")
    p.add_argument("--threads", type=int, default=0, help="TensorFlow intra-op threads (0: all cores)")
    p.add_argument("--init-weights", metavar="WEIGHTS", help="start from this Keras checkpoint (a second cosine "
                                                              "cycle on a trained model) instead of from scratch")
    p.add_argument("--warmup-epochs", type=float)
    p.add_argument("--export-only", metavar="WEIGHTS", help="ship this Keras checkpoint (of an interrupted run) "
                                                             "instead of training; --log gives its history")
    p.add_argument("--log", help="with --export-only: the interrupted run's output")
    p.add_argument("--checkpoint", help="Keras weights file to write the best epoch to "
                                        "(default: OUT/fernet.best.weights.h5, git-ignored)")


def _set_seeds(seed: int) -> None:
    import random

    import keras
    import tensorflow as tf

    random.seed(seed)
    np.random.seed(seed)
    tf.random.set_seed(seed)
    keras.utils.set_random_seed(seed)


def _lr_schedule(cfg: TrainConfig, steps_per_epoch: int):
    import keras
    import tensorflow as tf

    total = max(1, cfg.epochs * steps_per_epoch)
    warm = max(1, int(cfg.warmup_epochs * steps_per_epoch))
    peak = cfg.lr * cfg.batch_size / 64.0 if cfg.optimizer == "sgd" else cfg.lr

    class WarmupCosine(keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            step = tf.cast(step, tf.float32)
            w = tf.minimum(1.0, (step + 1.0) / warm)
            prog = tf.clip_by_value((step - warm) / max(1.0, total - warm), 0.0, 1.0)
            cos = cfg.min_lr_frac + (1 - cfg.min_lr_frac) * 0.5 * (1 + tf.cos(math.pi * prog))
            return peak * tf.where(step < warm, w, cos)

        def get_config(self):
            return {}

    return WarmupCosine()


def predict_probs(model, images: np.ndarray, tta: bool, batch: int = 512) -> np.ndarray:
    """Softmax probabilities of the Keras model on uint8 crops, with the same flip TTA as run time."""
    x = fernet.preprocess(images)[..., None]
    outs = []
    for i in range(0, len(x), batch):
        xb = x[i:i + batch]
        logits = model(xb, training=False).numpy()
        p = _softmax(logits)
        if tta:
            p = 0.5 * (p + _softmax(model(xb[:, :, ::-1], training=False).numpy()))
        outs.append(p)
    return np.concatenate(outs) if outs else np.zeros((0, 7), np.float32)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def train(cfg: TrainConfig, data_dir: str | Path | None, out: Path, *, limit: int | None = None,
          checkpoint: Path | None = None, log=print, on_best=None, init_weights: str | None = None) -> dict:
    import keras
    import tensorflow as tf

    _set_seeds(cfg.seed)
    x_tr, y_tr = fdata.load_split("train", data_dir)
    x_va, y_va = fdata.load_split("val", data_dir)
    if limit:  # a seeded random subset (the files are ordered by class)
        keep = np.sort(np.random.default_rng(cfg.seed).permutation(len(x_tr))[:limit])
        x_tr, y_tr = x_tr[keep], y_tr[keep]
    log(f"train {len(x_tr)} images, PublicTest {len(x_va)}; classes {fdata.class_counts(y_tr).tolist()}")
    weights = fdata.class_weights(y_tr, cfg.class_weight_power)
    log("class weights " + ", ".join(f"{e}={w:.2f}" for e, w in zip(EMOTIONS, weights)))
    aug = fdata.Augmenter(shift=cfg.aug_shift, rotate_deg=cfg.aug_rotate_deg, scale=cfg.aug_scale,
                          flip=cfg.aug_flip, gamma=cfg.aug_gamma, contrast=cfg.aug_contrast,
                          erase_prob=cfg.aug_erase_prob, erase_max_frac=cfg.aug_erase_max_frac,
                          seed=cfg.seed)
    from emotion.train.model import build_model

    model = build_model(cfg)
    if init_weights:
        model.load_weights(init_weights)
        log(f"starting from {Path(init_weights).name}")
    log(f"model: {model.count_params():,} parameters, {count_macs(cfg) / 1e6:.1f} M MACs per face")
    steps = int(math.ceil(len(x_tr) / cfg.batch_size))
    sched = _lr_schedule(cfg, steps)
    if cfg.optimizer == "sgd":
        opt = keras.optimizers.SGD(learning_rate=sched, momentum=cfg.momentum, nesterov=True)
    else:
        opt = keras.optimizers.AdamW(learning_rate=sched, weight_decay=cfg.weight_decay)
    loss_fn = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=cfg.label_smoothing,
                                                   reduction="none")
    w_t = tf.constant(weights)

    @tf.function(reduce_retracing=True)
    def step(xb, yb):
        with tf.GradientTape() as tape:
            logits = model(xb, training=True)
            per = loss_fn(tf.one_hot(yb, 7), logits) * tf.gather(w_t, yb)
            loss = tf.reduce_mean(per) + tf.add_n(model.losses) if model.losses else tf.reduce_mean(per)
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    rng = np.random.default_rng(cfg.seed)
    checkpoint = checkpoint or (out / "fernet.best.weights.h5")
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    best = {"accuracy": -1.0, "epoch": 0}
    history = []
    t_start = time.time()
    for epoch in range(1, cfg.epochs + 1):
        t0 = time.time()
        order = rng.permutation(len(x_tr))
        losses = []
        for i in range(steps):
            idx = order[i * cfg.batch_size:(i + 1) * cfg.batch_size]
            xb = fernet.preprocess(aug(x_tr[idx]))[..., None]
            losses.append(float(step(tf.constant(xb), tf.constant(y_tr[idx]))))
        probs = predict_probs(model, x_va, cfg.tta_flip)
        pred = probs.argmax(1)
        acc = float((pred == y_va).mean())
        rec = [float((pred[y_va == c] == c).mean()) if (y_va == c).any() else float("nan") for c in range(7)]
        row = {"epoch": epoch, "loss": float(np.mean(losses)), "val_accuracy": acc,
               "val_disgust_recall": rec[1], "seconds": round(time.time() - t0, 1)}
        history.append(row)
        mark = ""
        if acc > best["accuracy"]:
            best = {"accuracy": acc, "epoch": epoch}
            model.save_weights(str(checkpoint))
            mark = " *"
            if on_best is not None:
                on_best(model, epoch, acc)
        log(f"epoch {epoch:3d}/{cfg.epochs} loss {row['loss']:.4f} PublicTest acc {acc:.4f} "
            f"disgust recall {rec[1]:.3f} ({row['seconds']:.0f}s){mark}")
    model.load_weights(str(checkpoint))
    log(f"best epoch {best['epoch']} PublicTest accuracy {best['accuracy']:.4f}; "
        f"training took {(time.time() - t_start) / 60:.1f} min")
    return {"model": model, "best": best, "history": history,
            "train_minutes": round((time.time() - t_start) / 60, 1)}


def parse_log(text: str) -> list[dict]:
    """The per-epoch lines this command prints, back into the history records."""
    rx = re.compile(r"epoch\s+(\d+)/(\d+) loss ([0-9.]+) PublicTest acc ([0-9.]+) disgust recall ([0-9.]+) \((\d+)s\)")
    return [{"epoch": int(m[1]), "loss": float(m[3]), "val_accuracy": float(m[4]), "val_disgust_recall": float(m[5]),
             "seconds": float(m[6])} for m in rx.finditer(text)]


def ship(result: dict, cfg: TrainConfig, out: Path, data_dir, command: str, *, gpus: bool, tf_version: str) -> dict:
    """Export the trained model to ONNX, check parity, evaluate the file through the run-time classifier
    and write fernet.json next to it."""
    from emotion.train import evaluate as fevaluate
    from emotion.train.export import parity, to_onnx

    onnx_path = to_onnx(result["model"], cfg.input_size, out / fernet.MODEL_FILE,
                        doc="fernet FER2013 emotion model; see models/README.md")
    x_va, _ = fdata.load_split("val", data_dir)
    probe = fernet.preprocess(x_va[:64])[..., None]
    diff = parity(result["model"], onnx_path, probe)
    print(f"exported {onnx_path.name} ({onnx_path.stat().st_size / 1e6:.2f} MB); Keras/ONNX max diff {diff:.2e}",
          flush=True)
    meta = {
        "name": "fernet",
        "file": fernet.MODEL_FILE,
        "classes": list(EMOTIONS),
        "input": f"float32 (N,1,{cfg.input_size},{cfg.input_size}) from emotion.classify.fer_cnn.preprocess",
        "preprocessing": fernet.PREPROCESSING,
        "tta_flip": cfg.tta_flip,
        "trained_on": "FER2013 Training split (28,709 faces); selected on PublicTest",
        "command": command,
        "config": cfg.to_dict(),
        "best_epoch": result["best"]["epoch"],
        "history": result["history"],
        "train_minutes": result["train_minutes"],
        "hardware": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
                    + (", GPU" if gpus else ", CPU only"),
        "tensorflow": tf_version,
        "onnx_parity_max_abs_diff": diff,
    }
    if result.get("stopped_after_epoch") is not None:
        meta["stopped_after_epoch"] = result["stopped_after_epoch"]
    (out / fernet.META_FILE).write_text(json.dumps(meta, indent=1))
    # the figures that ship are measured on the exported file through the run-time classifier
    report = fevaluate.evaluate_file(fdata.data_dir(data_dir) / fdata.VAL_FILE, models_dir=out)
    meta["publictest"] = {k: report[k] for k in ("accuracy", "macro_f1", "recall", "median_ms", "n")}
    (out / fernet.META_FILE).write_text(json.dumps(meta, indent=1))
    print(fevaluate.format_report(report), flush=True)
    return meta


def run(args: argparse.Namespace) -> int:
    if args.threads:
        os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(args.threads))
    import tensorflow as tf

    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    cfg = make_config(args.preset, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                      warmup_epochs=args.warmup_epochs)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    command = "python -m emotion train " + " ".join(sys.argv[2:] if sys.argv[1:2] == ["train"] else sys.argv[1:])
    print(f"config: {cfg.to_json()}", flush=True)
    gpus = tf.config.list_physical_devices("GPU")
    print(f"devices: {'GPU ' + str(gpus) if gpus else 'CPU only'} ({os.cpu_count()} cores)", flush=True)
    from emotion.train.export import to_onnx

    def provisional(model, epoch: int, acc: float) -> None:
        # a usable model lands after the first epoch and improves as training goes on
        to_onnx(model, cfg.input_size, out / fernet.MODEL_FILE, doc=f"fernet, provisional (epoch {epoch})")
        (out / fernet.META_FILE).write_text(json.dumps(
            {"name": "fernet", "provisional": True, "epoch": epoch, "tta_flip": cfg.tta_flip,
             "publictest": {"accuracy": round(acc, 4)}, "command": command}, indent=1))

    if args.export_only:
        # ship a checkpoint of an interrupted run (its per-epoch log gives the history)
        from emotion.train.model import build_model

        model = build_model(cfg)
        model.load_weights(args.export_only)
        history = parse_log(Path(args.log).read_text()) if args.log else []
        best = max(history, key=lambda r: r["val_accuracy"]) if history else {"epoch": None}
        result = {"model": model, "best": {"epoch": best["epoch"]}, "history": history,
                  "train_minutes": round(sum(r["seconds"] for r in history) / 60, 1),
                  "stopped_after_epoch": history[-1]["epoch"] if history else None}
    else:
        result = train(cfg, args.data, out, limit=args.limit,
                       checkpoint=Path(args.checkpoint) if args.checkpoint else None,
                       log=lambda m: print(m, flush=True), on_best=provisional, init_weights=args.init_weights)
    ship(result, cfg, out, args.data, command, gpus=bool(gpus), tf_version=tf.__version__)
    return 0
