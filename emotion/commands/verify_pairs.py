"""`python -m emotion verify-pairs DIR --pairs FILE.csv`: same person or not, for pairs of photos.

    python -m emotion verify-pairs DIR --pairs FILE.csv [--detector NAME] [--threshold T]

The pairs file has the columns ``a,b,same`` (same = 1/0) or ``file_x,file_y,Decision`` (Yes/No, the
layout of deepface_testset's master.csv); paths are relative to DIR. Each photo's largest face goes
through the engine's detector, 68 landmarks, alignment and recogniser once; a pair is "same" when
the distance (the recogniser's metric) is at most the shipped threshold (or ``--threshold``).
A pair with a photo without a face counts as wrong. Prints pairs, no-face count, accuracy at the
threshold, true/false accept rates, the best threshold on this set and its accuracy; the last line
is ``accuracy=0.xxxx``. Exit codes: 0, 2 for bad input.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("folder", help="folder the pair paths are relative to")
    p.add_argument("--pairs", required=True, help="CSV: a,b,same or file_x,file_y,Decision")
    p.add_argument("--detector", default=None, help="face detector (default: the photo default)")
    p.add_argument("--threshold", type=float, default=None, help="distance threshold (default: shipped)")


def read_pairs(folder: Path, path: Path) -> list[tuple[str, str, bool]]:
    from emotion.commands.photo_data import DataError, inside, read_csv

    rows = read_csv(path)
    if not rows:
        raise DataError(f"{path.name} has no rows")
    cols = set(rows[0])
    if {"a", "b", "same"} <= cols:
        ka, kb, ks, yes = "a", "b", "same", {"1", "true", "yes"}
    elif {"file_x", "file_y", "Decision"} <= cols:
        ka, kb, ks, yes = "file_x", "file_y", "Decision", {"yes", "1", "true"}
    else:
        raise DataError(f"{path.name}: needs the columns a,b,same or file_x,file_y,Decision")
    out = []
    for r in rows:
        inside(folder, r[ka])
        inside(folder, r[kb])
        out.append((r[ka], r[kb], r[ks].strip().lower() in yes))
    return out


def embed_images(analyzer, folder: Path, files, show_progress: bool = True) -> dict[str, np.ndarray | None]:
    """file -> embedding of its largest face (None: unreadable or no face)."""
    from emotion.commands.photo_data import progress
    from emotion.imageio import ImageError, load_image

    out: dict[str, np.ndarray | None] = {}
    files = sorted(set(files))
    for i, f in enumerate(files):
        if show_progress:
            progress(i, len(files), f)
        try:
            faces = analyzer.embed_faces(load_image(folder / f))
        except (ImageError, OSError) as err:
            print(f"warning: {f}: {err}", file=sys.stderr)
            faces = []
        out[f] = faces[0].embedding if faces else None
    if show_progress:
        progress(len(files), len(files))
    return out


def pair_distances(emb: dict, pairs, metric: str) -> np.ndarray:
    """Distance per pair (nan when a photo has no face)."""
    from emotion.recognize.gallery import distances

    out = np.full(len(pairs), np.nan)
    for i, (a, b, _) in enumerate(pairs):
        if emb.get(a) is not None and emb.get(b) is not None:
            out[i] = float(distances(emb[a], emb[b], metric)[0, 0])
    return out


def accuracy_at(dist: np.ndarray, same: np.ndarray, t: float) -> float:
    """Accuracy with 'same' = distance <= t; pairs without a face (nan) count as wrong."""
    ok = np.isfinite(dist)
    decided = np.where(ok, dist <= t, False)
    return float(np.mean((decided == same) & ok))


def best_threshold(dist: np.ndarray, same: np.ndarray) -> tuple[float, float]:
    """(threshold, accuracy) maximising accuracy; the middle of the best interval between distances."""
    d = np.sort(np.unique(dist[np.isfinite(dist)]))
    if len(d) == 0:
        return float("nan"), 0.0
    cands = np.concatenate([[d[0] - 1e-3], (d[:-1] + d[1:]) / 2, [d[-1] + 1e-3]])
    accs = np.array([accuracy_at(dist, same, t) for t in cands])
    best = np.flatnonzero(accs == accs.max())
    return float(cands[best[len(best) // 2]]), float(accs.max())


def rates(dist: np.ndarray, same: np.ndarray, t: float) -> tuple[float, float]:
    """(TAR, FAR) among the pairs with both faces."""
    ok = np.isfinite(dist)
    acc = np.where(ok, dist <= t, False)
    tar = float(acc[same & ok].mean()) if (same & ok).any() else float("nan")
    far = float(acc[~same & ok].mean()) if (~same & ok).any() else float("nan")
    return tar, far


def run(args: argparse.Namespace) -> int:
    from emotion import pipeline
    from emotion.commands.photo_data import DataError

    folder = Path(args.folder)
    try:
        pairs = read_pairs(folder, Path(args.pairs))
        analyzer = pipeline.get_analyzer(args.detector, "Dlib")
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except (ValueError, RuntimeError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    rec = analyzer.recognizer
    threshold = rec.threshold if args.threshold is None else float(args.threshold)
    emb = embed_images(analyzer, folder, [p[0] for p in pairs] + [p[1] for p in pairs])
    dist = pair_distances(emb, pairs, rec.metric)
    same = np.array([p[2] for p in pairs], bool)
    no_face = sorted(f for f, e in emb.items() if e is None)
    acc = accuracy_at(dist, same, threshold)
    tar, far = rates(dist, same, threshold)
    bt, bacc = best_threshold(dist, same)
    print(f"engine: detector={analyzer.detector_name} recognizer={rec.name} metric={rec.metric}")
    print(f"pairs: {len(pairs)} ({int(same.sum())} same, {int((~same).sum())} different)")
    print(f"photos without a face: {len(no_face)}" + (f" ({', '.join(no_face[:5])}"
                                                        f"{' ...' if len(no_face) > 5 else ''})" if no_face else ""))
    print(f"pairs without a face (counted wrong): {int((~np.isfinite(dist)).sum())}")
    print(f"threshold {threshold:.3f}: accuracy {acc:.1%}, TAR {tar:.1%}, FAR {far:.1%}")
    print(f"best threshold on this set: {bt:.3f} (accuracy {bacc:.1%})")
    print(f"accuracy={acc:.4f}")
    return 0
