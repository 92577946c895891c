"""Developer tool: wild_dev photos labelled neutral, of the FIRST (alphabetical) half of people, through the
whole engine with one classifier; prints each photo's top emotion and P(happy). Used to pick the neutral
photo of tests/test_fer_vgg_model.py (one the model gets right, from the selection half only).

    python tools/neutral_candidates.py [--classifier fer_vgg] [--detector dlib] [--limit 40]
"""
from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2  # noqa: E402

from emotion import config, pipeline  # noqa: E402
from emotion.records import EMOTIONS  # noqa: E402

WILD_DEV = config.PROJECT_ROOT.parent / "shared" / "data" / "photos" / "wild_dev"


def person(name: str) -> str:
    return re.sub(r"_\d+\.\w+$", "", name)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--classifier", default="fer_vgg")
    p.add_argument("--limit", type=int, default=40)
    p.add_argument("--detector", default="dlib", help="the default blazeface_tiled misses many of these "
                                                      "250-350 px news photos")
    args = p.parse_args()
    rows = list(csv.DictReader(open(WILD_DEV / "labels.csv", newline="")))
    people = sorted({person(r["image"]) for r in rows})
    first_half = set(people[:len(people) // 2])
    names = sorted(r["image"] for r in rows if r["emotion"] == "neutral" and person(r["image"]) in first_half)
    analyzer = pipeline.get_analyzer(detector=args.detector, classifier=args.classifier)
    for name in names[:args.limit]:
        faces = analyzer.analyze(cv2.imread(str(WILD_DEV / name)), recognize=False)
        if not faces:
            print(f"{name}: no face")
            continue
        f = max(faces, key=lambda r: r.box.w * r.box.h)
        print(f"{name}: {f.dominant} {f.dominant_score:.2f}  P(happy) {f.scores[EMOTIONS.index('happy')]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
