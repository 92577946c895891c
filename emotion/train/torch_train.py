"""`python -m emotion train`: train the FER2013 emotion network in PyTorch, resumably.

Reads Training.npz.xz and PublicTest.npz.xz (``--data`` or FER2013_DIR), trains
:class:`emotion.train.torch_net.FerVgg` with whole-batch torch augmentation (:mod:`emotion.train.torch_aug`)
and :func:`emotion.classify.fer_cnn.preprocess` (the run-time preprocessing), and writes into the run folder
``data/train/<run>/`` (git-ignored): ``last.pt`` every epoch (model, optimiser, scheduler, epoch, RNG states,
history, best so far), ``best.pt`` (the best PublicTest epoch; PublicTest is the only selection split) and
``train.log`` (one line per epoch). ``--resume`` continues a run where it stopped. bf16 autocast on a CPU
(or GPU) that supports it, fp32 otherwise; CUDA when present. ``--export`` writes the ONNX model of
``best.pt`` (:mod:`emotion.train.torch_export`). The first round's Keras trainer is
``python -m emotion train-keras``.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import time
from pathlib import Path

import numpy as np

from emotion import config

RUNS_DIR = config.DATA_DIR / "train"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--run", default="fer_vgg", help="run name: checkpoints and log in data/train/RUN/")
    p.add_argument("--runs-dir", default=str(RUNS_DIR), help="folder of the run folders (default: data/train)")
    p.add_argument("--data", help="folder with Training.npz.xz and PublicTest.npz.xz (default: FER2013_DIR)")
    p.add_argument("--preset", default="default")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--seed", type=int)
    p.add_argument("--precision", choices=("auto", "bf16", "fp32"))
    p.add_argument("--threads", type=int)
    p.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                   help="any other config field, e.g. --set 'widths=[32,64,128,256]' (repeatable)")
    p.add_argument("--limit", type=int, help="train on a seeded random subset of N images (smoke runs)")
    p.add_argument("--val-limit", type=int, help="evaluate on the first N PublicTest faces only")
    p.add_argument("--resume", action="store_true", help="continue the run from its last.pt")
    p.add_argument("--stop-after", type=int, help="stop after this many epochs in this invocation "
                                                  "(train in chunks; --resume continues)")
    p.add_argument("--deadline", metavar="HH:MM", help="UTC time by which training must end: the cosine schedule "
                   "is re-planned after every epoch from the measured epoch time (--epochs is then the maximum)")
    p.add_argument("--bench", type=int, metavar="N", help="time N training batches, print images/s and exit")
    p.add_argument("--export", action="store_true", help="do not train: export the run's best.pt to ONNX")
    p.add_argument("--out", default=str(config.MODELS_DIR), help="with --export: where fer_vgg.onnx/.json go")
    p.add_argument("--checkpoint", default="best.pt", help="with --export: which checkpoint of the run (best.pt)")
    p.add_argument("--no-quantise", action="store_true", help="with --export: skip the int8 model")
    p.add_argument("--calib-faces", type=int, default=500, help="with --export/--quantise: int8 calibration faces")
    p.add_argument("--quantise", metavar="FILE.onnx", help="do not train: write an exported model's static int8 "
                   "twin (FILE.int8.onnx beside it) and print both files' PublicTest figures, one pass each")


# --- machine ---------------------------------------------------------------------------------------------

def pick_device():
    import torch

    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def cpu_has_bf16() -> bool:
    import torch

    probe = getattr(torch.cpu, "_is_avx512_bf16_supported", None)
    amx = getattr(torch.cpu, "_is_amx_tile_supported", None)
    try:
        if (probe and probe()) or (amx and amx()):
            return True
    except RuntimeError:
        pass
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def pick_precision(requested: str, device) -> str:
    """'bf16' or 'fp32'. 'auto' takes bf16 only where it is native (AVX512-BF16/AMX or a bf16 GPU) and a
    small convolution under autocast actually runs."""
    import torch

    if requested == "fp32":
        return "fp32"
    if requested == "auto":
        native = torch.cuda.is_bf16_supported() if device.type == "cuda" else (
            torch.backends.mkldnn.is_available() and cpu_has_bf16())
        if not native:
            return "fp32"
    try:
        conv = torch.nn.Conv2d(1, 4, 3).to(device)
        with torch.autocast(device.type, dtype=torch.bfloat16):
            conv(torch.zeros(2, 1, 8, 8, device=device)).float().sum().backward()
        return "bf16"
    except (RuntimeError, TypeError) as exc:  # no bf16 kernels here
        if requested == "bf16":
            raise RuntimeError(f"bf16 autocast does not run here: {exc}") from exc
        return "fp32"


def autocast(device, precision: str):
    import contextlib

    import torch

    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


# --- evaluation --------------------------------------------------------------------------------------------

def predict_probs(model, x, device, precision: str, channels_last: bool, batch: int = 512):
    """Softmax probabilities (plain, mirrored) of ``x`` = preprocessed float32 (N,1,S,S) CPU tensor."""
    import torch

    model.eval()
    plain, flipped = [], []
    with torch.no_grad(), autocast(device, precision):
        for i in range(0, len(x), batch):
            xb = x[i:i + batch].to(device)
            if channels_last:
                xb = xb.contiguous(memory_format=torch.channels_last)
            plain.append(torch.softmax(model(xb).float(), 1).cpu())
            flipped.append(torch.softmax(model(torch.flip(xb, dims=[3])).float(), 1).cpu())
    return torch.cat(plain).numpy(), torch.cat(flipped).numpy()


# --- checkpoints -------------------------------------------------------------------------------------------

def _atomic_save(obj, path: Path) -> None:
    import torch

    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path) -> dict:
    import torch

    return torch.load(path, map_location="cpu", weights_only=True)


def _rng_state(np_rng: np.random.Generator, gen) -> dict:
    import torch

    s = {"python": random.getstate(), "numpy": np_rng.bit_generator.state, "torch": torch.get_rng_state(),
         "aug": gen.get_state()}
    if torch.cuda.is_available():
        s["cuda"] = torch.cuda.get_rng_state_all()
    return s


def _set_rng_state(s: dict, np_rng: np.random.Generator, gen) -> None:
    import torch

    random.setstate(_as_tuple(s["python"]))
    np_rng.bit_generator.state = s["numpy"]
    torch.set_rng_state(s["torch"])
    gen.set_state(s["aug"])
    if "cuda" in s and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(s["cuda"])


def _as_tuple(v):
    return tuple(_as_tuple(e) for e in v) if isinstance(v, (list, tuple)) else v


# --- training ----------------------------------------------------------------------------------------------

def lr_factor(step: int, cfg, steps_per_epoch: int, epochs: int | None = None) -> float:
    """Linear warm-up then cosine to ``min_lr_frac`` over ``epochs`` (default ``cfg.epochs``)."""
    total = max(1, (epochs or cfg.epochs) * steps_per_epoch)
    warm = max(1, int(cfg.warmup_epochs * steps_per_epoch))
    if step < warm:
        return (step + 1) / warm
    prog = min(1.0, (step - warm) / max(1, total - warm))
    return cfg.min_lr_frac + (1 - cfg.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * prog))


def build_training(cfg, device, steps_per_epoch: int, horizon: dict | None = None):
    """Model, SGD and the warm-up + cosine scheduler; ``horizon["epochs"]`` (mutable) is the schedule's
    length, read at every step, so a deadline can shorten or stretch it during the run."""
    import torch

    from emotion.train.torch_net import build_model

    model = build_model(cfg).to(device)
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    decay = [p for n, p in model.named_parameters() if p.ndim > 1]
    no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": cfg.weight_decay},
                           {"params": no_decay, "weight_decay": 0.0}],
                          lr=cfg.lr, momentum=cfg.momentum, nesterov=True)
    horizon = horizon if horizon is not None else {"epochs": cfg.epochs}
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor(s, cfg, steps_per_epoch, horizon["epochs"]))
    return model, opt, sched


def label_loss(logits, labels, perm, lam: float, weights, label_smoothing: float):
    """Weighted, smoothed cross-entropy; for a mixed batch (``lam`` < 1, see
    :func:`emotion.train.torch_aug.mix_batch`) each face's own label counts by its share ``lam`` and its
    partner's (``labels[perm]``) by the rest."""
    import torch.nn.functional as F

    loss = F.cross_entropy(logits, labels, weight=weights, label_smoothing=label_smoothing)
    if lam < 1.0:
        loss = lam * loss + (1.0 - lam) * F.cross_entropy(logits, labels[perm], weight=weights,
                                                          label_smoothing=label_smoothing)
    return loss


def train(cfg, run_dir: Path, data_dir=None, *, resume: bool = False, limit: int | None = None,
          val_limit: int | None = None, stop_after: int | None = None, bench: int | None = None,
          epochs: int | None = None, deadline: float | None = None, log=print) -> dict:
    """Train (or continue) the run in ``run_dir``; returns {"history", "best", "epoch"}.

    On ``resume`` the checkpoint's configuration is used; ``epochs`` may change its length (the cosine
    schedule is re-scaled from the current step on).

    ``deadline`` (a Unix time): after every epoch the schedule's length is re-planned so that training
    ends before it, from the last epochs' durations (at most ``cfg.epochs``, the configured maximum;
    the cosine is re-scaled from the current step on). Kept in the checkpoint for ``--resume``."""
    import torch

    from emotion.classify import fer_cnn as fernet
    from emotion.records import EMOTIONS
    from emotion.train import data as fdata
    from emotion.train.evaluate import metrics
    from emotion.train.torch_aug import augment, mix_batch
    from emotion.train.torch_net import TorchTrainConfig, count_macs, count_params
    from emotion.train.torch_teacher import kd_loss, load_teacher, teacher_log_probs

    run_dir.mkdir(parents=True, exist_ok=True)
    last_path, best_path = run_dir / "last.pt", run_dir / "best.pt"
    ckpt = None
    if resume:
        if not last_path.is_file():
            raise FileNotFoundError(f"{last_path} is missing: nothing to resume")
        ckpt = load_checkpoint(last_path)
        cfg = TorchTrainConfig.from_dict(ckpt["config"])
        if epochs is not None and epochs != cfg.epochs:  # stretch or shorten the cosine from where it is
            if epochs < ckpt["epoch"]:
                raise ValueError(f"--epochs {epochs}: the run already has {ckpt['epoch']} epochs")
            log(f"schedule changed from {cfg.epochs} to {epochs} epochs")
            cfg = TorchTrainConfig.from_dict({**cfg.to_dict(), "epochs": epochs})
        limit, val_limit = ckpt.get("limit", limit), ckpt.get("val_limit", val_limit)  # the same data
        log(f"resuming {run_dir.name} after epoch {ckpt['epoch']}/{cfg.epochs}")
    elif last_path.is_file() and not bench:
        raise FileExistsError(f"{last_path} exists: pass --resume to continue it or choose another --run")

    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    np_rng = np.random.default_rng(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    device = pick_device()
    if device.type == "cpu":
        torch.set_num_threads(max(1, cfg.threads))
    precision = pick_precision(cfg.precision, device)

    x_tr, y_tr = fdata.load_split("train", data_dir)
    x_va, y_va = fdata.load_split("val", data_dir)
    if limit:  # a seeded random subset (the files are ordered by class)
        keep = np.sort(np.random.default_rng(cfg.seed).permutation(len(x_tr))[:limit])
        x_tr, y_tr = x_tr[keep], y_tr[keep]
    if val_limit:
        x_va, y_va = x_va[:val_limit], y_va[:val_limit]
    x_va_t = torch.from_numpy(fernet.preprocess(x_va)[:, None].copy())
    x_tr_t, y_tr_t = torch.from_numpy(x_tr), torch.from_numpy(y_tr)
    bs = min(cfg.batch_size, len(x_tr))
    steps = len(x_tr) // bs
    weights = torch.from_numpy(fdata.class_weights(y_tr, cfg.class_weight_power)).to(device)

    max_epochs = cfg.epochs if ckpt is None else int(ckpt.get("max_epochs", cfg.epochs))
    if epochs is not None:
        max_epochs = epochs
    if deadline is None and ckpt is not None:
        deadline = ckpt.get("deadline")
    horizon = {"epochs": cfg.epochs}
    model, opt, sched = build_training(cfg, device, steps, horizon)
    history: list[dict] = []
    best = {"epoch": 0, "val_acc_tta": -1.0}
    start_epoch = 1
    train_seconds = 0.0
    if ckpt is not None:
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        sched.load_state_dict(ckpt["scheduler"])
        _set_rng_state(ckpt["rng"], np_rng, gen)
        history, best, start_epoch = ckpt["history"], ckpt["best"], ckpt["epoch"] + 1
        train_seconds = float(ckpt.get("train_seconds", 0.0))
    else:
        (run_dir / "config.json").write_text(cfg.to_json())
        log(f"config: {json.dumps(cfg.to_dict(), sort_keys=True)}")
        if cfg.init_onnx:
            from emotion.train.torch_init import init_from_onnx

            pick = np.sort(np.random.default_rng(cfg.seed).permutation(len(x_tr))[:1024])
            diff = init_from_onnx(model, cfg.init_onnx, fernet.preprocess(x_tr[pick])[:, None])
            log(f"started from {Path(cfg.init_onnx).name} (batch norm calibrated on {len(pick)} training faces); "
                f"max probability difference to ONNX Runtime {diff:.1e}")
            if diff > 1e-3:
                raise ValueError(f"{cfg.init_onnx}: the converted network differs from the ONNX model by {diff:.3g}")
    log(f"device {device.type}, precision {precision}, threads {torch.get_num_threads()}, torch {torch.__version__}; "
        f"{count_params(model):,} parameters, {count_macs(cfg) / 1e6:.1f} M MACs per face; "
        f"train {len(x_tr)} faces ({steps} batches of {bs}), PublicTest {len(x_va)}")
    if ckpt is None:
        log("class weights " + ", ".join(f"{e}={w:.2f}" for e, w in zip(EMOTIONS, weights.tolist())))

    teacher = None
    if cfg.teacher_onnx and cfg.kd_weight > 0:
        teacher = load_teacher(cfg.teacher_onnx, threads=cfg.threads)
        log(f"distilling {teacher.name}: weight {cfg.kd_weight}, temperature {cfg.kd_temperature}")

    def train_step(idx) -> tuple[float, int]:
        crops, perm, lam = mix_batch(augment(x_tr_t[idx].to(device), cfg, gen).cpu(), cfg, gen)
        crops = crops.numpy()
        xb = torch.from_numpy(fernet.preprocess(crops)).unsqueeze(1).to(device)
        if cfg.channels_last:
            xb = xb.contiguous(memory_format=torch.channels_last)
        yb = y_tr_t[idx].to(device)
        with autocast(device, precision):
            logits = model(xb)
        loss = label_loss(logits.float(), yb, perm.to(device), lam, weights, cfg.label_smoothing)
        if teacher is not None:
            t_logp = teacher_log_probs(teacher, crops).to(device)
            loss = (1 - cfg.kd_weight) * loss + cfg.kd_weight * kd_loss(logits.float(), t_logp, cfg.kd_temperature)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        return float(loss.detach()), int((logits.detach().argmax(1) == yb).sum())

    if bench:
        model.train()
        order = torch.from_numpy(np_rng.permutation(len(x_tr)))
        for i in range(min(5, steps)):  # warm-up
            train_step(order[i * bs:(i + 1) * bs])
        t0 = time.perf_counter()
        for i in range(bench):
            j = (i + 5) % steps
            train_step(order[j * bs:(j + 1) * bs])
        ips = bench * bs / (time.perf_counter() - t0)
        log(f"bench: {ips:.0f} images/s ({precision}, batch {bs}); one epoch of {steps * bs} faces "
            f"~{steps * bs / ips:.0f} s before evaluation")
        return {"images_per_s": ips, "precision": precision}

    def replan(done: int, hist: list[dict]) -> None:
        nonlocal cfg
        if deadline is None or not hist:
            return
        per_epoch = sum(r["seconds"] for r in hist[-2:]) / len(hist[-2:])
        fit = max(0, int((deadline - time.time()) // max(per_epoch, 1.0)))
        total = max(done, min(max_epochs, done + fit))
        if total != horizon["epochs"]:
            log(f"deadline {time.strftime('%H:%M', time.gmtime(deadline))} UTC: {per_epoch / 60:.1f} min per epoch, "
                f"schedule {horizon['epochs']} -> {total} epochs")
            horizon["epochs"] = total
            cfg = TorchTrainConfig.from_dict({**cfg.to_dict(), "epochs": total})

    replan(start_epoch - 1, history)
    t_run = time.time()
    done_now = 0
    progress_every = max(1, steps // 4) if steps >= 40 else 0
    epoch = start_epoch - 1
    while epoch < horizon["epochs"]:
        epoch += 1
        if stop_after is not None and done_now >= stop_after:
            break
        model.train()
        t0 = time.time()
        order = torch.from_numpy(np_rng.permutation(len(x_tr)))
        loss_sum, correct = 0.0, 0
        for i in range(steps):
            loss, ok = train_step(order[i * bs:(i + 1) * bs])
            if not math.isfinite(loss):
                raise FloatingPointError(f"loss is {loss} at epoch {epoch}, batch {i}")
            loss_sum += loss
            correct += ok
            if progress_every and (i + 1) % progress_every == 0 and i + 1 < steps:
                log(f"  epoch {epoch} batch {i + 1}/{steps} loss {loss_sum / (i + 1):.4f} "
                    f"{(i + 1) * bs / (time.time() - t0):.0f} img/s")
        t_train = time.time() - t0
        p_plain, p_flip = predict_probs(model, x_va_t, device, precision, cfg.channels_last)
        m_plain = metrics(y_va, p_plain.argmax(1))
        m_tta = metrics(y_va, (p_plain + p_flip).argmax(1))
        train_seconds += time.time() - t0
        row = {"epoch": epoch, "loss": round(loss_sum / steps, 4), "train_acc": round(correct / (steps * bs), 4),
               "val_acc": round(m_plain["accuracy"], 4), "val_acc_tta": round(m_tta["accuracy"], 4),
               "val_macro_f1_tta": round(m_tta["macro_f1"], 4),
               "val_disgust_recall_tta": m_tta["recall"]["disgust"],
               "lr": round(opt.param_groups[0]["lr"], 6), "images_per_s": round(steps * bs / t_train, 1),
               "seconds": round(time.time() - t0, 1), "elapsed_min": round(train_seconds / 60, 1)}
        history.append(row)
        replan(epoch, history)  # before the checkpoint, so that it holds the schedule in force
        mark = ""
        if row["val_acc_tta"] > best["val_acc_tta"]:
            best = {"epoch": epoch, "val_acc_tta": row["val_acc_tta"], "val_acc": row["val_acc"],
                    "val_macro_f1_tta": row["val_macro_f1_tta"],
                    "val_disgust_recall_tta": row["val_disgust_recall_tta"]}
            _atomic_save({"model": model.state_dict(), "config": cfg.to_dict(), "epoch": epoch, "best": best,
                          "precision": precision}, best_path)
            mark = " *"
        _atomic_save({"model": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                      "epoch": epoch, "config": cfg.to_dict(), "rng": _rng_state(np_rng, gen), "history": history,
                      "best": best, "precision": precision, "train_seconds": train_seconds,
                      "limit": limit, "val_limit": val_limit, "max_epochs": max_epochs, "deadline": deadline},
                     last_path)
        with open(run_dir / "history.jsonl", "a") as f:
            f.write(json.dumps(row) + "\n")
        done_now += 1
        left = (cfg.epochs - epoch) * (time.time() - t_run) / done_now
        log(f"epoch {epoch:3d}/{cfg.epochs} loss {row['loss']:.4f} train acc {row['train_acc']:.4f} "
            f"PublicTest acc {row['val_acc']:.4f} tta {row['val_acc_tta']:.4f} macro-F1 {row['val_macro_f1_tta']:.4f} "
            f"disgust recall {row['val_disgust_recall_tta']:.3f} lr {row['lr']:.4f} "
            f"{row['images_per_s']:.0f} img/s {row['seconds']:.0f}s elapsed {row['elapsed_min']:.1f} min "
            f"eta {left / 60:.0f} min{mark}")
    last_epoch = history[-1]["epoch"] if history else 0
    if last_epoch >= cfg.epochs:
        log(f"finished: best epoch {best['epoch']} PublicTest acc (flip TTA) {best['val_acc_tta']:.4f}")
    return {"history": history, "best": best, "epoch": last_epoch, "precision": precision}


def parse_deadline(text: str, now: float | None = None) -> float:
    """'HH:MM' (UTC) -> Unix time of its next occurrence."""
    import calendar

    hh, _, mm = text.partition(":")
    if not (hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60):
        raise ValueError(f"--deadline {text!r}: expected HH:MM (UTC)")
    now = time.time() if now is None else now
    t = time.gmtime(now)
    at = calendar.timegm((t.tm_year, t.tm_mon, t.tm_mday, int(hh), int(mm), 0, 0, 0, 0))
    return at + 86400 if at <= now else at


def _overrides(args) -> dict:
    o = {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr, "seed": args.seed,
         "precision": args.precision, "threads": args.threads}
    for item in args.set:
        key, _, value = item.partition("=")
        if not _:
            raise ValueError(f"--set {item!r}: expected KEY=JSON")
        o[key.strip()] = json.loads(value)
    return o


def run(args: argparse.Namespace) -> int:
    from emotion.train.torch_net import make_config

    run_dir = Path(args.runs_dir) / args.run
    if args.quantise:
        from emotion.train.torch_export import quantise_file

        try:
            quantise_file(Path(args.quantise), data_dir=args.data, n_faces=args.calib_faces, seed=args.seed or 1)
        except FileNotFoundError as exc:
            print(f"error: {exc}")
            return 2
        return 0
    if args.export:
        from emotion.train.torch_export import export_run

        try:
            export_run(run_dir, Path(args.out), data_dir=args.data, checkpoint=args.checkpoint,
                       quantise_too=not args.no_quantise, calib_faces=args.calib_faces)
        except FileNotFoundError as exc:
            print(f"error: {exc}")
            return 2
        return 0
    try:
        cfg = make_config(args.preset, **_overrides(args))
        deadline = parse_deadline(args.deadline) if args.deadline else None
    except (ValueError, TypeError) as exc:
        print(f"error: {exc}")
        return 2
    run_dir.mkdir(parents=True, exist_ok=True)

    def log(msg: str) -> None:
        line = f"{time.strftime('%H:%M:%S')} {msg}"
        print(line, flush=True)
        if not args.bench:
            with open(run_dir / "train.log", "a") as f:
                f.write(line + "\n")

    try:
        train(cfg, run_dir, args.data, resume=args.resume, limit=args.limit, val_limit=args.val_limit,
              stop_after=args.stop_after, bench=args.bench, epochs=args.epochs if args.resume else None, deadline=deadline, log=log)
    except (FileNotFoundError, FileExistsError, ValueError) as exc:
        print(f"error: {exc}")
        return 2
    return 0
