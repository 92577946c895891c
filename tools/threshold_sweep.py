"""Developer script: re-measure the recognition threshold on real photo pairs.

    python tools/threshold_sweep.py [--photos ../shared/data/photos] [--people first-half|second-half|all]
                                    [--per-person 6] [--seed 0] [--write-pairs OUT.csv]

Two pair sets, embedded with the engine (photo default detector, 68 landmarks, Dlib recogniser):
* deepface_testset/master.csv (file_x,file_y,Decision);
* pairs built from wild_dev's people (LFW-style names First_Last_0001.jpg = person): every pair of
  photos of one person (at most `--per-person` photos each) as "same", and as many "different"
  pairs of photos of two random people (seeded). ``--write-pairs`` saves them as a,b,same (outside
  the repository!) for ``python -m emotion verify-pairs``.
Prints, per set, accuracy / TAR / FAR for thresholds 0.30 .. 0.60 and the best threshold.
The choice is recorded in models/README.md.
"""
from __future__ import annotations

import argparse
import csv
import itertools
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def wild_pairs(folder: Path, people_half: str, per_person: int, seed: int):
    from emotion.commands.photo_data import person_of, read_labels, split_people

    files = [f for f, _ in split_people(read_labels(folder), people_half, key=lambda it: it[0])]
    by: dict[str, list[str]] = {}
    for f in sorted(files):
        by.setdefault(person_of(f), []).append(f)
    rng = np.random.default_rng(seed)
    same = []
    for person, fs in by.items():
        fs = fs[:per_person]
        same += [(a, b, True) for a, b in itertools.combinations(fs, 2)]
    people = sorted(by)
    diff = set()
    while len(diff) < len(same) and len(people) > 1:
        p, q = rng.choice(len(people), 2, replace=False)
        a, b = rng.choice(by[people[p]]), rng.choice(by[people[q]])
        diff.add((str(a), str(b), False))
    return same + sorted(diff)


def report(name, analyzer, folder, pairs):
    from emotion.commands import verify_pairs as vp

    emb = vp.embed_images(analyzer, folder, [p[0] for p in pairs] + [p[1] for p in pairs])
    dist = vp.pair_distances(emb, pairs, analyzer.recognizer.metric)
    same = np.array([p[2] for p in pairs], bool)
    print(f"\n{name}: {len(pairs)} pairs ({int(same.sum())} same), "
          f"{sum(e is None for e in emb.values())} photos without a face")
    print(f"{'threshold':>10}{'accuracy':>10}{'TAR':>8}{'FAR':>8}")
    for t in np.arange(0.30, 0.605, 0.025):
        tar, far = vp.rates(dist, same, t)
        print(f"{t:>10.3f}{vp.accuracy_at(dist, same, t):>10.1%}{tar:>8.1%}{far:>8.1%}")
    bt, bacc = vp.best_threshold(dist, same)
    print(f"best threshold: {bt:.3f} (accuracy {bacc:.1%})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", default=os.environ.get("EMOTION_PHOTOS_DIR", str(ROOT.parent / "shared" / "data" / "photos")))
    ap.add_argument("--people", default="all", choices=("first-half", "second-half", "all"))
    ap.add_argument("--per-person", type=int, default=6)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--write-pairs", default=None)
    args = ap.parse_args()
    from emotion import pipeline
    from emotion.commands import verify_pairs as vp

    photos = Path(args.photos)
    analyzer = pipeline.get_analyzer(None, "Dlib")
    print(f"detector={analyzer.detector_name} recognizer={analyzer.recognizer.name} "
          f"metric={analyzer.recognizer.metric} shipped threshold={analyzer.recognizer.threshold}")
    ds = photos / "deepface_testset"
    report("deepface_testset master.csv", analyzer, ds, vp.read_pairs(ds, ds / "master.csv"))
    wd = photos / "wild_dev"
    pairs = wild_pairs(wd, args.people, args.per_person, args.seed)
    if args.write_pairs:
        with open(args.write_pairs, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["a", "b", "same"])
            w.writerows([(a, b, int(s)) for a, b, s in pairs])
    report(f"wild_dev pairs ({args.people} people)", analyzer, wd, pairs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
