"""`python -m emotion analyze PHOTO`: every face in a photo, one line (or one JSON object) per face.

    python -m emotion analyze PHOTO [--json] [--detector NAME] [--annotate OUT.png] [--no-landmarks]
                                    [--gallery DIR_OR_JSON] [--max-side N]

--gallery: people to recognise, either a folder of photos (``Name.jpg``, or ``Name/`` sub-folders of
photos; the largest face of each photo is enrolled under that name) or a JSON file
(``{"Name": [vector, ...] or vector, ...}`` or ``[{"name": ..., "embedding": [...]}, ...]``).

Exit codes: 0 (also when no face is found: "no face found"), 2 for bad input (unreadable image,
unknown detector, bad gallery), 1 for an unexpected failure.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("photo", help="image file (JPEG, PNG, WebP, BMP, GIF, TIFF)")
    p.add_argument("--json", action="store_true", help="one JSON object per face and line")
    p.add_argument("--detector", default=None, help="face detector name (see `python -m emotion models`)")
    p.add_argument("--recognizer", default="Dlib", help="face recogniser (default Dlib)")
    p.add_argument("--classifier", default=None, help="emotion classifier (default fer_cnn; the old name fernet is accepted)")
    p.add_argument("--annotate", metavar="OUT.png", default=None, help="write an annotated copy")
    p.add_argument("--no-landmarks", action="store_true", help="skip the 68-point landmarks")
    p.add_argument("--gallery", metavar="DIR_OR_JSON", default=None, help="people to recognise")
    p.add_argument("--threshold", type=float, default=None, help="recognition distance threshold")
    p.add_argument("--max-side", type=int, default=None, help="detect on a copy at most this many pixels wide")


class UsageError(Exception):
    pass


def load_gallery(path: str | Path, analyzer) -> list[tuple[int, str, object]]:
    """(person_id, name, vector) rows from a folder of photos or a JSON file."""
    import numpy as np

    from emotion.imageio import ImageError

    p = Path(path)
    rows: list[tuple[int, str, object]] = []
    if p.is_dir():
        names: dict[str, int] = {}
        items: list[tuple[str, Path]] = []
        for entry in sorted(p.iterdir()):
            if entry.is_dir():
                items += [(entry.name, f) for f in sorted(entry.iterdir()) if f.suffix.lower() in IMAGE_SUFFIXES]
            elif entry.suffix.lower() in IMAGE_SUFFIXES:
                items.append((entry.stem, entry))
        for name, f in items:
            try:
                faces = analyzer.embed_faces(f)
            except ImageError as err:
                print(f"gallery: skipping {f.name}: {err}", file=sys.stderr)
                continue
            if not faces:
                print(f"gallery: no face in {f.name}", file=sys.stderr)
                continue
            pid = names.setdefault(name, len(names) + 1)
            rows.append((pid, name, faces[0].embedding))
        return rows
    if p.is_file():
        try:
            data = json.loads(p.read_text())
        except (OSError, ValueError) as err:
            raise UsageError(f"cannot read gallery {p.name}: {err}") from None
        pairs: list[tuple[str, object]] = []
        if isinstance(data, dict):
            for name, vecs in data.items():
                arr = np.asarray(vecs, dtype=np.float32)
                pairs += [(name, v) for v in (arr if arr.ndim == 2 else [arr])]
        elif isinstance(data, list):
            for item in data:
                pairs.append((item["name"], np.asarray(item.get("embedding") or item.get("vector"), np.float32)))
        else:
            raise UsageError("gallery JSON must be an object {name: vector(s)} or a list of {name, embedding}")
        ids: dict[str, int] = {}
        for name, vec in pairs:
            rows.append((ids.setdefault(str(name), len(ids) + 1), str(name), vec))
        return rows
    raise UsageError(f"gallery not found: {p}")


def format_line(i: int, face) -> str:
    b = face.box
    parts = [f"face {i}: box=({b.x},{b.y},{b.w},{b.h}) conf={face.confidence:.2f}"]
    ident = face.identity
    name = ident.name + (f" (distance {ident.distance:.3f})" if ident.distance is not None else "")
    parts.append(f"name={name}")
    if face.scores is not None:
        parts.append(f"emotion={face.dominant} {face.dominant_score:.2f}")
        parts.append(" ".join(f"{k}={v:.2f}" for k, v in face.emotion_dict().items()))
    if face.landmarks is not None:
        parts.append(f"landmarks={len(face.landmarks)}")
    return "  ".join(parts)


def run(args: argparse.Namespace) -> int:
    from emotion.imageio import ImageError, load_image

    try:
        bgr = load_image(args.photo)
    except ImageError as err:
        print(f"error: {args.photo}: {err}", file=sys.stderr)
        return 2
    from emotion.pipeline import get_analyzer

    try:
        analyzer = get_analyzer(args.detector, args.recognizer, args.classifier)
    except (ValueError, RuntimeError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if analyzer.classifier is None:
        print(f"warning: no emotion scores: {analyzer.classifier_error}", file=sys.stderr)
    gallery = None
    if args.gallery:
        from emotion.recognize.gallery import Gallery

        try:
            rows = load_gallery(args.gallery, analyzer)
            rec = analyzer.recognizer
            gallery = Gallery(rows, rec.metric, args.threshold if args.threshold is not None else rec.threshold)
        except (UsageError, ValueError, KeyError, TypeError) as err:
            print(f"error: bad gallery: {err}", file=sys.stderr)
            return 2
    faces = analyzer.analyze(bgr, gallery=gallery, landmarks=not args.no_landmarks,
                             recognize=gallery is not None, max_side=args.max_side)
    if args.annotate:
        from emotion.draw import annotate

        import cv2

        out = annotate(bgr, faces, landmarks=not args.no_landmarks)
        if not cv2.imwrite(str(args.annotate), out):
            print(f"error: could not write {args.annotate}", file=sys.stderr)
            return 2
    if not faces:
        print("no face found")
        return 0
    for i, face in enumerate(faces, 1):
        if args.json:
            d = face.to_dict()
            d["index"] = i
            print(json.dumps(d))
        else:
            print(format_line(i, face))
    return 0
