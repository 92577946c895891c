"""`python -m emotion evaluate-photos DIR`: the whole engine on labelled real photos.

    python -m emotion evaluate-photos DIR [--detector NAME] [--classifier NAME] [--limit N]
        [--people first-half|second-half|all] [--dark gamma|cast] [--enhance auto|on|off]
        [--enhance-scope detect|all]

DIR/labels.csv has the columns ``image,emotion`` (FER2013 names; paths relative to DIR). Each photo
goes through the engine (detector, 68 landmarks and alignment, classifier; no recognition) and the
largest face is taken; a photo with no face counts as wrong. ``--people`` splits by person (the
LFW-style name before the last ``_``, sorted alphabetically): choose settings on ``first-half``,
confirm on ``second-half``. ``--dark`` evaluates a darkened copy of every photo built in memory
(`emotion.commands.photo_data.darken`). ``--enhance`` is the low-light mode of the detector
(`emotion.enhance`); with ``--enhance-scope all`` the enhanced image also feeds landmarks and the
classifier. Prints photos, no-face rate, accuracy, macro recall, per-class recall, the confusion
matrix and the median ms per photo; the last line is ``accuracy=0.xxxx no_face=0.xxxx``.
Exit codes: 0, 2 for bad input (missing folder or labels, unknown detector).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    from emotion.commands.photo_data import DARK_CHOICES, PEOPLE_CHOICES

    p.add_argument("folder", help="folder with labels.csv (image,emotion) and the photos")
    p.add_argument("--detector", default=None, help="face detector (default: the photo default)")
    p.add_argument("--classifier", default=None, help="emotion classifier (default: the engine's)")
    p.add_argument("--limit", type=int, default=None, help="only the first N photos (after --people)")
    p.add_argument("--people", choices=PEOPLE_CHOICES, default="all", help="which half of the people")
    p.add_argument("--dark", choices=DARK_CHOICES, default=None, help="evaluate a darkened copy")
    p.add_argument("--enhance", choices=("auto", "on", "off"), default=None,
                   help="low-light enhancement before detection (default: EMOTION_ENHANCE or auto)")
    p.add_argument("--enhance-scope", choices=("detect", "all"), default="detect",
                   help="enhanced image for detection only, or also landmarks and classifier")


def build_analyzer(detector: str | None, classifier: str | None):
    """The engine's (shared, cached) Analyzer with this detector and classifier."""
    from emotion import pipeline

    kw = {"classifier": classifier} if classifier else {}
    return pipeline.get_analyzer(detector, "Dlib", **kw)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from emotion.commands.photo_data import DataError, darken, progress, read_labels, split_people
    from emotion.enhance import apply as enhance_image
    from emotion.imageio import ImageError, load_image
    from emotion.records import EMOTIONS

    folder = Path(args.folder)
    try:
        items = split_people(read_labels(folder), args.people, key=lambda it: it[0])
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.limit is not None:
        items = items[: max(0, args.limit)]
    try:
        analyzer = build_analyzer(args.detector, args.classifier)
    except (ValueError, RuntimeError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if analyzer.classifier is None:
        print(f"error: no emotion classifier: {analyzer.classifier_error}", file=sys.stderr)
        return 2
    mode = args.enhance or getattr(analyzer.detector, "enhance", "off")
    # scope "detect": the Analyzer enhances the detector's copy (as the Photo page does with the user's
    # setting); scope "all": the enhanced image feeds every stage
    whole = args.enhance is not None and args.enhance_scope == "all"
    print(f"engine: detector={analyzer.detector_name} classifier={analyzer.classifier_name} "
          f"people={args.people} dark={args.dark or 'no'} enhance={mode} scope={args.enhance_scope}")
    k = len(EMOTIONS)
    confusion = np.zeros((k, k + 1), int)  # last column: no face
    times: list[float] = []
    unreadable = 0
    for i, (rel, label) in enumerate(items):
        progress(i, len(items), rel)
        try:
            bgr = load_image(folder / rel)
        except (ImageError, OSError) as err:
            unreadable += 1
            print(f"warning: {rel}: {err}", file=sys.stderr)
            confusion[EMOTIONS.index(label), k] += 1
            continue
        if args.dark:
            bgr = darken(bgr, args.dark, seed=i)
        t0 = time.perf_counter()
        if whole:
            bgr = enhance_image(bgr, args.enhance)
        faces = analyzer.analyze(bgr, recognize=False, enhance=None if whole else args.enhance)
        times.append((time.perf_counter() - t0) * 1000)
        faces = [f for f in faces if f.scores is not None]
        if not faces:
            confusion[EMOTIONS.index(label), k] += 1
            continue
        face = max(faces, key=lambda f: f.box.area)
        confusion[EMOTIONS.index(label), EMOTIONS.index(face.dominant)] += 1
    progress(len(items), len(items))
    n = int(confusion.sum())
    if n == 0:
        print("error: no photos to evaluate", file=sys.stderr)
        return 2
    correct = int(np.trace(confusion[:, :k]))
    no_face = int(confusion[:, k].sum())
    support = confusion.sum(1)
    recall = {e: confusion[j, j] / support[j] for j, e in enumerate(EMOTIONS) if support[j]}
    print(f"photos: {n}" + (f" ({unreadable} unreadable, counted as no face)" if unreadable else ""))
    print(f"no face: {no_face} ({no_face / n:.1%})")
    print(f"accuracy: {correct / n:.1%}")
    print(f"macro recall: {float(np.mean(list(recall.values()))):.1%} (over the {len(recall)} classes present)")
    print("per-class recall: " + ", ".join(f"{e} {r:.1%} ({support[EMOTIONS.index(e)]})" for e, r in recall.items()))
    print("confusion matrix (rows true, columns predicted, last column no face):")
    print(" " * 10 + "".join(f"{e[:8]:>9}" for e in EMOTIONS) + f"{'no face':>9}")
    for j, e in enumerate(EMOTIONS):
        print(f"{e:>10}" + "".join(f"{v:>9}" for v in confusion[j]))
    if times:
        print(f"median ms per photo: {statistics.median(times):.1f} (decode excluded)")
    print(f"accuracy={correct / n:.4f} no_face={no_face / n:.4f}")
    return 0
