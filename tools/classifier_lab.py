"""Developer-only: compare emotion-model files, ensembles and class-prior corrections quickly.

Running the whole engine over wild_dev takes minutes a model; the crops the classifier sees do not
depend on the model. So this tool cuts them once and then scores any ONNX file (or a weighted average
of several) on those crops and on PublicTest in seconds:

    python tools/classifier_lab.py crops ../shared/data/photos/wild_dev --out data/lab/wild_dev.npz
    python tools/classifier_lab.py eval --crops data/lab/wild_dev.npz models/fer_vgg.onnx models/fer_cnn.onnx
    python tools/classifier_lab.py eval --crops data/lab/wild_dev.npz --tau 0.5 models/fer_vgg.onnx
    python tools/classifier_lab.py crops ../shared/data/photos/wild_dev --mouth-weight 0 --out data/lab/eyes.npz
    python tools/classifier_lab.py grid --base 2 models/fer_vgg.onnx models/fer_kd.onnx models/fer_r4.onnx

The crops file holds face crops of real photos: it stays in the git-ignored ``data/``. Final figures are
printed by the product's own commands (``python -m emotion evaluate``, ``evaluate-photos``); this tool
only narrows the candidates. ``grid`` scores every weighting of the files (the first at 1, each other at
0, 0.25, 0.5 or 1) on PublicTest and on both halves of the people, and lists those that beat the first
``--base`` files (equal weights) on PublicTest and on the first half (selection), marking the ones the
second half and the whole set confirm. ``crops --mouth-weight W --nose-weight W`` cuts the crops with
other weights of the mouth centre and the nose tip in the alignment (the engine's: mouth 0.5, nose 0; see
``emotion/landmarks/align.py``) to measure how much the framing matters. ``--tau`` subtracts ``tau *
log(prior)`` (FER2013 Training's class frequencies) from the log-probabilities: the logit adjustment for
a balanced error. ``--views`` picks the test-time views of each crop (:mod:`emotion.classify.views`:
``mirror_zoom``, the photo path's six, by default; ``mirror``; ``one`` for a single pass, the live path).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emotion.classify.views import VIEWS  # noqa: E402
from emotion.records import EMOTIONS  # noqa: E402


def aligned_crop(bgr: np.ndarray, landmarks: np.ndarray, mouth_weight: float, nose_weight: float) -> np.ndarray:
    """The 48x48 gray crop with the eyes at weight 1 and the mouth centre / nose tip at the given weights."""
    from emotion.landmarks import align

    left, right = align.eye_centers(landmarks)
    src = np.array([left, right, align.mouth_center(landmarks), landmarks[30]])
    dst = np.array([align.FER_LEFT_EYE, align.FER_RIGHT_EYE, align.FER_MOUTH, align.FER_NOSE_TIP])
    M = align.similarity_transform(src, dst, np.array([1.0, 1.0, mouth_weight, nose_weight]))
    return align.to_gray(align.warp(bgr, M, align.FER_SIZE))


def cut_crops(folder: Path, out: Path, mouth_weight: float | None = None, nose_weight: float = 0.0) -> None:
    """The engine's crops of each photo's largest face; with ``mouth_weight`` set, re-aligned by ``aligned_crop``."""
    from emotion import pipeline
    from emotion.commands.photo_data import progress, read_labels, split_people
    from emotion.imageio import load_image

    items = read_labels(folder)
    first = {rel for rel, _ in split_people(items, "first-half", key=lambda it: it[0])}
    analyzer = pipeline.get_analyzer(None, "Dlib")
    crops, labels, half, names = [], [], [], []
    for i, (rel, label) in enumerate(items):
        progress(i, len(items), rel)
        bgr = load_image(folder / rel)
        faces = analyzer.analyze(bgr, recognize=False, classify=False)
        if not faces:
            continue
        face = max(faces, key=lambda f: f.box.area)
        lm = face.landmarks
        if mouth_weight is not None and lm is not None and len(lm) == 68:
            crops.append(aligned_crop(bgr, np.asarray(lm, np.float64), mouth_weight, nose_weight))
        else:
            crops.append(analyzer.fer_crop(bgr, lm if lm is not None else face.box))
        labels.append(EMOTIONS.index(label))
        half.append(0 if rel in first else 1)
        names.append(rel)
    progress(len(items), len(items))
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, crops=np.stack(crops), labels=np.array(labels), half=np.array(half),
                        names=np.array(names), photos=len(items))
    print(f"{len(crops)} crops of {len(items)} photos -> {out}")


def predict(paths: list[str], crops: np.ndarray, views: str = "mirror_zoom") -> np.ndarray:
    """The weighted average of ``paths`` (each ``FILE[:WEIGHT]``) in ``views`` (emotion.classify.views), as
    a distillation teacher computes it."""
    from emotion.train.torch_teacher import load_teacher

    models = load_teacher(",".join(paths), views=views)
    return np.concatenate([models.predict(crops[i:i + 256]) for i in range(0, len(crops), 256)])


def grid(files: list[str], crops: dict, base: int, views: str, weights=(0.0, 0.25, 0.5, 1.0)) -> list[str]:
    """Lines "weights PT all first second [confirmed]" for the weightings that beat the base set."""
    import itertools

    from emotion.train import data as fdata

    x_va, y_va = fdata.load_split("val")
    y, first, photos = crops["labels"], crops["half"] == 0, int(crops["photos"])
    n_first = int(round(photos * first.mean()))
    probs = [(predict([f], x_va, views), predict([f], crops["crops"], views)) for f in files]

    def score(ws):
        pt = sum(w * p for w, (p, _) in zip(ws, probs)).argmax(1) == y_va
        ok = sum(w * q for w, (_, q) in zip(ws, probs)).argmax(1) == y
        return (pt.mean(), ok.sum() / photos, ok[first].sum() / n_first, ok[~first].sum() / (photos - n_first))

    ref = score([1.0] * base + [0.0] * (len(files) - base))
    lines = [f"base {' + '.join(files[:base])}: PT {ref[0]:.4f} all {ref[1]:.4f} first {ref[2]:.4f} "
             f"second {ref[3]:.4f}"]
    rows = [((1.0, *ws), score((1.0, *ws))) for ws in itertools.product(weights, repeat=len(files) - 1)]
    for ws, s in sorted(rows, key=lambda r: -r[1][2]):
        if s[0] > ref[0] and s[2] > ref[2]:
            confirmed = s[3] >= ref[3] and s[1] > ref[1]
            lines.append(f"{ws} PT {s[0]:.4f} all {s[1]:.4f} first {s[2]:.4f} second {s[3]:.4f}"
                         + ("  confirmed" if confirmed else ""))
    return lines


def report(title: str, probs: np.ndarray, labels: np.ndarray, photos: int | None = None) -> None:
    pred = probs.argmax(1)
    n = photos or len(labels)
    acc = float((pred == labels).sum()) / n
    rec = [float((pred[labels == k] == k).mean()) for k in range(7) if (labels == k).any()]
    per = " ".join(f"{EMOTIONS[k][:3]} {float((pred[labels == k] == k).mean()):.2f}"
                   for k in range(7) if (labels == k).any())
    print(f"{title:<22} acc {acc:.4f} macro recall {np.mean(rec):.4f} | {per}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("crops")
    c.add_argument("folder")
    c.add_argument("--out", default="data/lab/wild_dev.npz")
    c.add_argument("--mouth-weight", type=float, default=None,
                   help="re-align with this weight of the mouth centre (the engine's: 0.5)")
    c.add_argument("--nose-weight", type=float, default=0.0, help="and this weight of the nose tip")
    e = sub.add_parser("eval")
    e.add_argument("models", nargs="+", help="ONNX files, each optionally FILE:WEIGHT; averaged")
    e.add_argument("--crops", default="data/lab/wild_dev.npz")
    e.add_argument("--tau", type=float, nargs="*", default=[0.0])
    e.add_argument("--views", default="mirror_zoom", choices=sorted(VIEWS),
                   help="test-time views of each crop (the photo path's: mirror_zoom; one pass: one)")
    e.add_argument("--no-publictest", action="store_true")
    g = sub.add_parser("grid")
    g.add_argument("models", nargs="+", help="ONNX files; the first weighs 1, each other 0, 0.25, 0.5 or 1")
    g.add_argument("--base", type=int, default=1, help="the current set: the first N files at equal weights")
    g.add_argument("--crops", default="data/lab/wild_dev.npz")
    g.add_argument("--views", default="mirror_zoom", choices=sorted(VIEWS))
    args = ap.parse_args(argv)
    if args.cmd == "crops":
        cut_crops(Path(args.folder), Path(args.out), args.mouth_weight, args.nose_weight)
        return 0
    if args.cmd == "grid":
        print("\n".join(grid(args.models, np.load(args.crops), args.base, args.views)))
        return 0
    from emotion.train import data as fdata

    _, y_tr = fdata.load_split("train")
    prior = np.bincount(y_tr, minlength=7) / len(y_tr)
    d = np.load(args.crops)
    wp = predict(args.models, d["crops"], args.views)
    photos = int(d["photos"])
    pt = None
    if not args.no_publictest:
        x_va, y_va = fdata.load_split("val")
        pt = predict(args.models, x_va, args.views)
    first = d["half"] == 0
    n_first = int(round(photos * first.mean()))  # photos with no face count as wrong, per half approx.
    for tau in args.tau:
        adj = lambda p: np.log(np.clip(p, 1e-8, 1)) - tau * np.log(prior)  # noqa: E731
        print(f"--- tau {tau}")
        if pt is not None:
            report("PublicTest", adj(pt), y_va)
        report("wild_dev all", adj(wp), d["labels"], photos)
        report("wild_dev first half", adj(wp[first]), d["labels"][first], n_first)
        report("wild_dev second half", adj(wp[~first]), d["labels"][~first], photos - n_first)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
