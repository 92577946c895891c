"""Developer script: FAR / FRR of the face factor's match threshold on real photos of people.

    python tools/face_threshold.py [--photos DIR] [--cache FILE.npz] [--far 0.001]

Photos (read in place, never copied): ``../shared/data/photos`` (override: EMOTION_PHOTOS_DIR or
--photos), i.e. ``wild_dev/`` (LFW-style names ``First_Last_000N.jpg``: one person per name) and
``deepface_testset/master.csv`` (labelled Yes/No pairs). The largest face of each photo is found with
the photo detector, its 68 landmarks put through dlib's ResNet (the face factor's recogniser), and:

* impostor pairs = every pair of wild_dev photos of two different names + master.csv's "No" pairs;
* genuine pairs  = every pair of wild_dev photos of one name + master.csv's "Yes" pairs.

It prints, for a range of thresholds, the false-accept rate (impostor pairs at distance <= t) and the
false-reject rate (genuine pairs at distance > t), and the largest threshold whose FAR is below the
target (`emotion.faceauth.policy.MATCH_THRESHOLD` must not exceed it). Embeddings can be cached to a
file OUTSIDE the repository (--cache) to rerun the figures without the models.
"""
from __future__ import annotations

import argparse
import csv
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

DEFAULT_PHOTOS = Path(os.environ.get("EMOTION_PHOTOS_DIR", ROOT.parent / "shared" / "data" / "photos"))
_PERSON = re.compile(r"^(.*)_\d+\.(?:jpe?g|png)$", re.IGNORECASE)


def person_of(filename: str) -> str | None:
    m = _PERSON.match(filename)
    return m.group(1) if m else None


def embed_photos(paths: list[Path]) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    import cv2

    from emotion.detect import DEFAULT_DETECTOR
    from emotion.faceauth.probe import FaceProbe, observe_photo

    probe = FaceProbe(DEFAULT_DETECTOR)
    out: dict[str, np.ndarray] = {}
    sides: dict[str, int] = {}
    for i, p in enumerate(paths):
        bgr = cv2.imread(str(p), cv2.IMREAD_COLOR)
        if bgr is None:
            continue
        obs = observe_photo(probe, bgr)
        if obs.embedding is not None:
            out[f"{p.parent.name}/{p.name}"] = obs.embedding
            sides[f"{p.parent.name}/{p.name}"] = min(obs.box.w, obs.box.h)
        if (i + 1) % 100 == 0:
            print(f"  embedded {i + 1}/{len(paths)}", file=sys.stderr, flush=True)
    return out, sides


def pair_distances(embs: dict[str, np.ndarray], photos: Path, sides: dict[str, int],
                   min_side: int = 0, sources: tuple[str, ...] = ("wild_dev", "master")) -> tuple[np.ndarray, np.ndarray]:
    """(impostor distances, genuine distances) of the pairs from `sources` whose two faces are at
    least `min_side` px."""
    from emotion.recognize.gallery import distances

    big = {k for k in embs if sides.get(k, 0) >= min_side}
    wild = sorted(k for k in big if k.startswith("wild_dev/") and person_of(k.split("/", 1)[1]))
    if "wild_dev" not in sources:
        wild = wild[:1]
    names = np.array([person_of(k.split("/", 1)[1]) for k in wild])
    E = np.stack([embs[k] for k in wild])
    D = distances(E, E, "euclidean_l2")
    iu = np.triu_indices(len(wild), 1)
    same = names[iu[0]] == names[iu[1]]
    imp, gen = [D[iu][~same]], [D[iu][same]]
    if "master" not in sources:
        return np.concatenate(imp), np.concatenate(gen)
    master = photos / "deepface_testset" / "master.csv"
    with open(master, newline="") as fh:
        for row in csv.DictReader(fh):
            a, b = f"deepface_testset/{row['file_x']}", f"deepface_testset/{row['file_y']}"
            if a in big and b in big:
                d = float(distances(embs[a][None], embs[b][None], "euclidean_l2")[0, 0])
                (gen if row["Decision"].strip() == "Yes" else imp).append(np.array([d]))
    return np.concatenate(imp), np.concatenate(gen)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    ap.add_argument("--cache", type=Path, default=None, help="npz of embeddings (outside the repository)")
    ap.add_argument("--far", type=float, default=0.001, help="target false-accept rate")
    args = ap.parse_args(argv)
    photos = args.photos
    if not (photos / "wild_dev").is_dir() or not (photos / "deepface_testset" / "master.csv").is_file():
        print(f"photos not found under {photos} (set EMOTION_PHOTOS_DIR)", file=sys.stderr)
        return 2
    if args.cache and args.cache.is_file():
        with np.load(args.cache) as z:
            embs = {k: z[k] for k in z.files if not k.startswith("side:")}
            sides = {k[5:]: int(z[k]) for k in z.files if k.startswith("side:")}
    else:
        paths = sorted((photos / "wild_dev").glob("*.jpg")) + sorted((photos / "deepface_testset").glob("*.jpg"))
        print(f"embedding {len(paths)} photos ...", file=sys.stderr)
        embs, sides = embed_photos(paths)
        if args.cache:
            np.savez(args.cache, **embs, **{f"side:{k}": np.array(v) for k, v in sides.items()})
    imp, gen = pair_distances(embs, photos, sides)
    from emotion.faceauth.policy import MATCH_THRESHOLD

    print(f"photos with a face: {len(embs)}; impostor pairs: {len(imp)}; genuine pairs: {len(gen)}")
    print(f"impostor distance min/0.1%/1%/median: {np.round(np.percentile(imp, [0, 0.1, 1, 50]), 3)}")
    print(f"genuine  distance median/90%/max:      {np.round(np.percentile(gen, [50, 90, 100]), 3)}")
    print(f"{'threshold':>9} {'FAR':>9} {'FRR':>7}")
    for t in np.round(np.arange(0.28, 0.46, 0.02), 2):
        print(f"{t:9.2f} {np.mean(imp <= t):9.5f} {np.mean(gen > t):7.4f}")
    ok = [t for t in np.round(np.arange(0.20, 0.60, 0.005), 3) if np.mean(imp <= t) < args.far]
    best = max(ok) if ok else None
    print(f"largest threshold with FAR < {args.far:.3%}: {best}")
    far, frr = float(np.mean(imp <= MATCH_THRESHOLD)), float(np.mean(gen > MATCH_THRESHOLD))
    print(f"chosen MATCH_THRESHOLD = {MATCH_THRESHOLD}: FAR {far:.5f} ({int(np.sum(imp <= MATCH_THRESHOLD))}"
          f"/{len(imp)}), FRR {frr:.4f} ({int(np.sum(gen > MATCH_THRESHOLD))}/{len(gen)})")
    print("the same threshold on subsets (impostor FAR / genuine FRR, pair counts):")
    for label, kw in (("wild_dev only", dict(sources=("wild_dev",))),
                      ("deepface master.csv only", dict(sources=("master",))),
                      ("both faces >= 100 px (camera-like)", dict(min_side=100))):
        i2, g2 = pair_distances(embs, photos, sides, **kw)
        print(f"  {label:36s} FAR {np.mean(i2 <= MATCH_THRESHOLD):.5f} (n={len(i2)})  "
              f"FRR {np.mean(g2 > MATCH_THRESHOLD):.4f} (n={len(g2)})")
    return 0 if far < args.far else 1


if __name__ == "__main__":
    raise SystemExit(main())
