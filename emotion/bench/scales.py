"""Scale sweep: how often each detector finds a real face covering 2 % .. 100 % of the shorter side.

    python -m emotion bench --scales [--detectors a,b,...] [--per-scale 40] [--seed 0]

Cases are built in memory from real photos (never written anywhere): source faces are the photos of
``../shared/data/photos/`` (wild_dev and deepface_testset; override with EMOTION_PHOTOS_DIR) whose one
face the short-range model on the padded photo boxes confidently (score >= 0.75, box >= 60 px). The
reference box is that box. Each source photo is scaled so that its face box covers the wanted
fraction of the shorter side of a 1280x720 canvas whose background is a real face-free photo
(scikit-image's coffee, chelsea, rocket, hubble_deep_field, cover-cropped), and pasted with its face
centre at a random position that keeps the face box inside the canvas (at 75-100 % the photo
overflows the canvas, so the chin, forehead or cheeks of many faces are cut, as in a close-up).
A face counts as found when a detection overlaps its box by IoU >= 0.3 (other detections, e.g. the
background photo's own people, are ignored).

Also printed: the end-to-end time of the whole engine (detect, landmarks, classify; nobody enrolled, so
no embedding; detection on a 1600 px copy, as the Photo page) on a 1920x1080 canvas holding five real
faces of 4-15 % of the shorter side, median of 5 warm runs, with each stage's median.
"""
from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

SCALES = (0.02, 0.05, 0.10, 0.20, 0.35, 0.50, 0.75, 1.00)
CANVAS = (1280, 720)
BACKGROUNDS = ("coffee", "chelsea", "rocket", "hubble_deep_field")
#: the Photo page analyses a copy of at most this many px (ui.uploads.ANALYZE_MAX_SIDE)
PHOTO_MAX_SIDE = 1600
DEFAULT_DETECTORS = ("blazeface", "blazeface_live", "blazeface_full", "blazeface_tiled", "blazeface_multi", "opencv",
                     "dlib")


def photos_dir() -> Path:
    from emotion.config import PROJECT_ROOT

    return Path(os.environ.get("EMOTION_PHOTOS_DIR", PROJECT_ROOT.parent / "shared" / "data" / "photos"))


def add_arguments(p) -> None:
    p.add_argument("--detectors", default=",".join(DEFAULT_DETECTORS),
                   help="comma-separated detectors for the scale sweep (those not usable here are skipped)")
    p.add_argument("--per-scale", type=int, default=40, help="cases per scale in the scale sweep")
    p.add_argument("--seed", type=int, default=0, help="random seed of the scale sweep")


def _backgrounds() -> list[np.ndarray]:
    from skimage import data

    out = []
    w, h = CANVAS
    for name in BACKGROUNDS:
        img = cv2.cvtColor(getattr(data, name)(), cv2.COLOR_RGB2BGR)
        s = max(w / img.shape[1], h / img.shape[0])
        img = cv2.resize(img, (int(np.ceil(img.shape[1] * s)), int(np.ceil(img.shape[0] * s))),
                         interpolation=cv2.INTER_CUBIC)
        y0, x0 = (img.shape[0] - h) // 2, (img.shape[1] - w) // 2
        out.append(np.ascontiguousarray(img[y0:y0 + h, x0:x0 + w]))
    return out


def source_faces(limit: int, seed: int) -> list[tuple[np.ndarray, tuple[float, float, float, float]]]:
    """(photo, reference face box x1 y1 x2 y2) of photos with one confidently boxed face."""
    from emotion.detect.blazeface import BlazeFaceDetector

    root = photos_dir()
    files = sorted((root / "wild_dev").glob("*.jpg")) + sorted((root / "deepface_testset").glob("*.jpg"))
    if not files:
        raise FileNotFoundError(f"no photos under {root} (set EMOTION_PHOTOS_DIR)")
    rng = np.random.default_rng(seed)
    rng.shuffle(files)
    short = BlazeFaceDetector("blazeface", min_score=0.5)
    out = []
    for f in files:
        img = cv2.imread(str(f))
        if img is None:
            continue
        p = int(0.25 * max(img.shape[:2]))
        padded = cv2.copyMakeBorder(img, p, p, p, p, cv2.BORDER_CONSTANT, value=(127, 127, 127))
        boxes, _, scores = short._single(padded)
        if len(scores) != 1 or scores[0] < 0.75:
            continue
        x1, y1, x2, y2 = (boxes[0] - p).tolist()
        if min(x2 - x1, y2 - y1) < 60 or x1 < 0 or y1 < 0 or x2 > img.shape[1] or y2 > img.shape[0]:
            continue
        out.append((img, (x1, y1, x2, y2)))
        if len(out) >= limit:
            break
    return out


def paste(bg: np.ndarray, img: np.ndarray, box, scale: float, rng) -> tuple[np.ndarray, tuple]:
    """`img` scaled so that its face box's longer side is `scale` of bg's shorter side, pasted on a
    copy of `bg` at a random place keeping the face box inside; returns (canvas, box in canvas)."""
    H, W = bg.shape[:2]
    x1, y1, x2, y2 = box
    k = scale * min(H, W) / max(x2 - x1, y2 - y1)
    fw, fh = (x2 - x1) * k, (y2 - y1) * k
    cx = rng.uniform(fw / 2, max(fw / 2, W - fw / 2))
    cy = rng.uniform(fh / 2, max(fh / 2, H - fh / 2))
    # image pixel u maps to canvas u * k + t
    tx, ty = cx - (x1 + x2) / 2 * k, cy - (y1 + y2) / 2 * k
    m = np.float32([[k, 0, tx], [0, k, ty]])
    interp = cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR
    warped = cv2.warpAffine(img, m, (W, H), flags=interp, borderMode=cv2.BORDER_CONSTANT)
    mask = cv2.warpAffine(np.full(img.shape[:2], 255, np.uint8), m, (W, H), flags=cv2.INTER_NEAREST)
    canvas = bg.copy()
    canvas[mask > 0] = warped[mask > 0]
    gt = (cx - fw / 2, cy - fh / 2, cx + fw / 2, cy + fh / 2)
    return canvas, gt


def iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def build_cases(per_scale: int, seed: int):
    """{scale: [(canvas, gt box), ...]} (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    faces = source_faces(per_scale, seed)
    bgs = _backgrounds()
    cases = {}
    for s in SCALES:
        cases[s] = []
        for i in range(per_scale):
            img, box = faces[i % len(faces)]
            cases[s].append(paste(bgs[int(rng.integers(len(bgs)))], img, box, s, rng))
    return cases, len(faces)


def five_face_photo(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed + 1)
    faces = source_faces(5, seed + 1)
    bg = cv2.resize(_backgrounds()[0], (1920, 1080), interpolation=cv2.INTER_LINEAR)
    canvas = bg
    for i, (img, box) in enumerate(faces):
        s = (0.04, 0.07, 0.10, 0.12, 0.15)[i]
        sub, _ = paste(canvas[:, i * 384:(i + 1) * 384], img, box, s * 1080 / 384, rng)
        canvas[:, i * 384:(i + 1) * 384] = sub
    return canvas


def run(args: argparse.Namespace) -> int:
    from emotion.detect import available_detectors, create_detector

    usable = set(available_detectors())
    names = [n.strip() for n in args.detectors.split(",") if n.strip()]
    skipped = [n for n in names if n not in usable]
    names = [n for n in names if n in usable]
    if skipped:
        print(f"skipped (not usable here): {', '.join(skipped)}")
    try:
        cases, n_src = build_cases(args.per_scale, args.seed)
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"scale sweep: {args.per_scale} cases per scale from {n_src} real faces on {CANVAS[0]}x{CANVAS[1]} "
          f"real backgrounds (seed {args.seed}); found = IoU >= 0.3 with the pasted face")
    print(f"{'detector':<18}" + "".join(f"{int(s * 100):>6}%" for s in SCALES) + f"{'ms/img':>9}")
    for name in names:
        det = create_detector(name)
        det.detect(cases[SCALES[0]][0][0])  # warm-up
        rates, times = [], []
        for s in SCALES:
            hit = 0
            for canvas, gt in cases[s]:
                t0 = time.perf_counter()
                found = det.detect(canvas)
                times.append((time.perf_counter() - t0) * 1000)
                if any(iou((d.box.x, d.box.y, d.box.x2, d.box.y2), gt) >= 0.3 for d in found):
                    hit += 1
            rates.append(hit / len(cases[s]))
        print(f"{name:<18}" + "".join(f"{r * 100:>6.0f}%" for r in rates)
              + f"{statistics.median(times):>9.1f}", flush=True)
    from emotion import pipeline

    photo = five_face_photo(args.seed)
    analyzer = pipeline.get_analyzer()
    # as the Photo page: detection on a copy of at most 1600 px, and an empty gallery (nobody
    # enrolled: no embedding). gallery=None would mean "embed for enrolment" (~100 ms a face).
    analyzer.analyze(photo, gallery=[], max_side=PHOTO_MAX_SIDE)
    ts, stages, found = [], [], 0
    for _ in range(5):
        t0 = time.perf_counter()
        found = len(analyzer.analyze(photo, gallery=[], max_side=PHOTO_MAX_SIDE))
        ts.append((time.perf_counter() - t0) * 1000)
        stages.append(dict(analyzer.last_timings))
    per_stage = ", ".join(f"{k} {statistics.median(s.get(k, 0.0) for s in stages):.0f}"
                          for k in ("detect", "landmarks", "embed", "classify"))
    print(f"1920x1080 photo, 5 real faces, default engine ({analyzer.detector_name}), nobody enrolled: "
          f"{found} found, {statistics.median(ts):.0f} ms end to end (median of 5 warm runs; ms: {per_stage})")
    return 0
