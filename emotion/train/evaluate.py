"""`python -m emotion evaluate FILE.npz.xz`: the shipped emotion model on a FER2013-format file.

Uses exactly the run-time path: :class:`emotion.classify.fer_cnn.FerCnnClassifier` (ONNX Runtime, the
same :func:`~emotion.classify.fer_cnn.preprocess` and test-time views). Prints accuracy, macro-F1, per-class
recall, the confusion matrix and the median milliseconds per face at batch size 1; the last line is
``accuracy=0.xxxx``. Needs numpy and onnxruntime only (no TensorFlow).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from emotion.classify.views import views_name
from emotion.records import EMOTIONS


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="FER2013-format .npz.xz (48x48 uint8 faces, FER label order)")
    p.add_argument("--models-dir", help="folder holding fernet.onnx (default: models/)")
    p.add_argument("--classifier", default="fer_cnn",
                   help="fer_cnn (default; old name fernet), fer_vgg, fer_vgg_int8 or deepface (needs its weights)")
    p.add_argument("--model", help="an ONNX file to evaluate in place of the classifier's shipped one "
                                   "(fernet/fer_vgg-style input and output; a candidate)")
    p.add_argument("--no-tta", action="store_true",
                   help="score the crop only (no mirrored or zoomed views; emotion.classify.views)")
    p.add_argument("--timing-faces", type=int, default=300, help="faces timed one by one for the latency figure")
    p.add_argument("--limit", type=int, help="evaluate the first N faces only")


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n: int = len(EMOTIONS)) -> np.ndarray:
    m = np.zeros((n, n), np.int64)
    np.add.at(m, (y_true, y_pred), 1)
    return m


def metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    cm = confusion(y_true, y_pred)
    support = cm.sum(1)
    predicted = cm.sum(0)
    tp = np.diag(cm).astype(np.float64)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(tp),
                   where=(precision + recall) > 0)
    present = support > 0
    return {
        "n": int(len(y_true)),
        "accuracy": float((y_true == y_pred).mean()) if len(y_true) else 0.0,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "recall": {e: round(float(r), 4) for e, r in zip(EMOTIONS, recall)},
        "precision": {e: round(float(p), 4) for e, p in zip(EMOTIONS, precision)},
        "confusion": cm.tolist(),
    }


def _make_classifier(name: str, models_dir, tta: bool | None, model: str | None = None, views: str | None = None):
    if name in ("fer_vgg", "fer_vgg_int8") or model:
        from emotion.classify.fer_vgg import FerVggClassifier

        return FerVggClassifier(models_dir, int8=name == "fer_vgg_int8", tta=tta, model_file=model, views=views)
    if name in ("fer_cnn", "fernet"):
        from emotion.classify.fer_cnn import FerCnnClassifier

        return FerCnnClassifier(models_dir, tta=tta)
    from emotion.classify import create_classifier

    return create_classifier(name)


def evaluate_file(path: str | Path, *, models_dir=None, classifier: str = "fer_cnn", tta: bool | None = None,
                  timing_faces: int = 300, limit: int | None = None, model: str | None = None,
                  views: str | None = None) -> dict:
    """The classifier on a FER2013-format file. ``views`` (a name of emotion.classify.views.VIEWS) overrides
    the path's own test-time views, for the project's own models (the export measures each file so)."""
    from emotion.train.data import load_npz_xz

    images, labels = load_npz_xz(path)
    if limit:
        images, labels = images[:limit], labels[:limit]
    clf = _make_classifier(classifier, models_dir, tta, model, views)
    probs = np.concatenate([clf.predict(images[i:i + 256]) for i in range(0, len(images), 256)]) \
        if len(images) else np.zeros((0, 7), np.float32)
    report = metrics(labels, probs.argmax(1))
    # latency: one face per call, as the live path calls it; warm up first
    k = min(timing_faces, len(images))
    for i in range(min(20, k)):
        clf.predict(images[i:i + 1])
    times = []
    for i in range(k):
        t0 = time.perf_counter()
        clf.predict(images[i:i + 1])
        times.append((time.perf_counter() - t0) * 1000.0)
    report["median_ms"] = round(float(np.median(times)), 3) if times else None
    report["p95_ms"] = round(float(np.percentile(times, 95)), 3) if times else None
    report["tta"] = bool(getattr(clf, "tta", False))
    views = getattr(clf, "views", None)
    report["views"] = views_name(views) if views else ("mirror" if report["tta"] else "one")
    report["classifier"] = getattr(clf, "name", classifier) + (f" ({Path(model).name})" if model else "")
    report["file"] = Path(path).name
    return report


def format_report(r: dict) -> str:
    views = r.get("views", "mirror" if r["tta"] else "one")
    lines = [f"{r['file']}: {r['n']} faces, classifier {r['classifier']} (test-time views: {views})",
             f"accuracy  {r['accuracy']:.4f}", f"macro-F1  {r['macro_f1']:.4f}",
             "per-class recall: " + "  ".join(f"{e} {v:.3f}" for e, v in r["recall"].items()),
             "confusion matrix (rows: true, columns: predicted)",
             "          " + " ".join(f"{e[:8]:>8}" for e in EMOTIONS)]
    for e, row in zip(EMOTIONS, r["confusion"]):
        lines.append(f"{e[:8]:>9} " + " ".join(f"{v:8d}" for v in row))
    lines.append(f"median ms per face (batch 1): {r['median_ms']}  (p95 {r['p95_ms']})")
    lines.append(f"accuracy={r['accuracy']:.4f}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        print(f"error: {path} not found")
        return 2
    report = evaluate_file(path, models_dir=args.models_dir, classifier=args.classifier,
                           tta=False if args.no_tta else None, timing_faces=args.timing_faces, limit=args.limit,
                           model=args.model)
    print(format_report(report))
    return 0
