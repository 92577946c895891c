"""`python -m emotion compare`: the model comparison on a terminal (tables), as JSON or as CSV.

    python -m emotion compare PHOTO PHOTO [PHOTO ...] [--same a.jpg,b.jpg ...] [--detectors D ...]
                              [--recognizers R ...] [--classifiers C ...] [--json | --csv]

Photos are named by their file name (the path as given when two share a name); ``--same`` lists
photos of one person, by name or path, comma-separated; repeat it for each person. Every detector,
recogniser and classifier the registries know is compared unless narrowed; those that cannot run
here are listed with the reason (and the file DeepFace would need). Exit status 2 on bad input.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _names(values: list[str] | None) -> tuple[str, ...] | None:
    if not values:
        return None
    return tuple(n.strip() for v in values for n in v.split(",") if n.strip())


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("photos", nargs="+", metavar="PHOTO", help="2 to 10 photos")
    p.add_argument("--same", action="append", default=[], metavar="A,B[,C]",
                   help="photos that show the same person (repeat for each person)")
    p.add_argument("--detectors", nargs="+", metavar="NAME", help="detectors to compare (default: all)")
    p.add_argument("--recognizers", nargs="+", metavar="NAME", help="recognisers to compare (default: all)")
    p.add_argument("--classifiers", nargs="+", metavar="NAME", help="emotion classifiers (default: all)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="one JSON object (with machine, libraries, date)")
    out.add_argument("--csv", action="store_true", help="CSV tables (with machine, libraries, date)")


def photo_names(paths: list[str]) -> list[str]:
    """File names, or the paths as given where two photos share a file name."""
    base = [Path(p).name for p in paths]
    return [b if base.count(b) == 1 else p for p, b in zip(paths, base)]


def _same_groups(spec: list[str], paths: list[str], names: list[str]) -> list[list[str]]:
    alias = {**{p: n for p, n in zip(paths, names)}, **{n: n for n in names}}
    return [[alias.get(x.strip(), x.strip()) for x in group.split(",") if x.strip()] for group in spec]


def _progress(done: int, total: int, stage: str, label: str) -> None:
    print(f"\r[{done}/{total}] {stage}: {label[:60]:<60}", end="" if done < total else "\n", file=sys.stderr,
          flush=True)


def run(args: argparse.Namespace) -> int:
    from emotion.compare import CompareError, CompareOptions, compare, to_csv, to_json

    names = photo_names(args.photos)
    opts = CompareOptions(detectors=_names(args.detectors), recognizers=_names(args.recognizers),
                          classifiers=_names(args.classifiers))
    try:
        result = compare(list(zip(names, args.photos)), _same_groups(args.same, args.photos, names), opts,
                         progress=_progress if sys.stderr.isatty() else None)
    except CompareError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.json:
        print(to_json(result))
    elif args.csv:
        sys.stdout.write(to_csv(result))
    else:
        print(format_tables(result))
    return 0


def _cell(combo, pair) -> str:
    if not combo.usable:
        return "n/a"
    if pair is None or pair.distance is None:
        return "no face"
    mark = {True: "ok", False: "WRONG", None: "?"}[pair.correct(combo.threshold)]
    return f"{pair.distance:.3f} {mark}"


def format_tables(result) -> str:
    """Plain-text tables: detectors (faces, ms per photo), then one table per pair (rows detectors,
    columns recognisers), then models that cannot run and why, then the classifiers."""
    lines: list[str] = []
    photo_w = max(len(p.name) for p in result.photos)
    lines.append("PHOTOS")
    lines += [f"  {p.name:<{photo_w}}  person {p.person + 1}  {p.width}x{p.height}" for p in result.photos]
    lines.append("\nDETECTORS (faces found, ms per photo; model loading excluded)")
    for d in result.detectors:
        if not d.status.usable:
            continue
        cells = "  ".join(f"{p.faces} face(s) {p.ms:7.1f} ms" + (f" [{p.error}]" if p.error else "")
                          for p in d.photos)
        lines.append(f"  {d.name:<16} {cells}")
    usable_recs = [r for r in result.recognizers if r.usable]
    if usable_recs:
        lines.append("\nRECOGNISERS (ms per face, mean over the detectors; model loading excluded)")
        for r in usable_recs:
            times = [c.ms_per_face for c in result.combos if c.recognizer == r.name and c.ms_per_face is not None]
            ms = f"{sum(times) / len(times):7.1f} ms" if times else "  cached"
            lines.append(f"  {r.name:<16} {ms}  threshold {r.threshold} ({r.metric})")
    recs = [r.name for r in result.recognizers]
    dets = [d.name for d in result.detectors if d.status.usable]
    thr = {r.name: r.threshold for r in result.recognizers}
    col = max([14] + [len(r) + 2 for r in recs])
    for a_i, a in enumerate(result.photos):
        for b in result.photos[a_i + 1:]:
            same = "same person" if a.person == b.person else "different people"
            lines.append(f"\n{a.name} vs {b.name} ({same}): distance, decision by each recogniser's threshold")
            lines.append(" " * 18 + "".join(f"{r:>{col}}" for r in recs))
            lines.append(" " * 18 + "".join(f"{'thr ' + (f'{thr[r]:.3f}' if thr[r] is not None else '-'):>{col}}"
                                            for r in recs))
            for d in dets:
                row = []
                for r in recs:
                    c = result.combo(d, r)
                    pair = next((p for p in c.pairs if p.a == a.name and p.b == b.name), None) if c else None
                    row.append(_cell(c, pair) if c else "-")
                lines.append(f"  {d:<16}" + "".join(f"{x:>{col}}" for x in row))
    best = result.best()
    if best is not None:
        acc = best.accuracy or 0.0
        lines.append(f"\nBEST: {best.detector} + {best.recognizer} ({best.n_correct}/{best.n_decided} pairs "
                     f"right, {acc:.0%})")
    off = [d.status for d in result.detectors if not d.status.usable] + [r for r in result.recognizers
                                                                           if not r.usable]
    if result.classifiers is not None:
        off += [m for m in result.classifiers.models if not m.usable]
    if off:
        lines.append("\nCANNOT RUN HERE")
        for s in off:
            where = (f" -> put {s.missing_file} in {s.place_in}" if s.missing_file and s.place_in
                     and s.place_in not in s.reason else "")
            lines.append(f"  {s.role:<10} {s.name:<16} {s.reason}{where}")
    comp = result.classifiers
    if comp is not None and comp.faces:
        names = [m.name for m in comp.models if m.usable]
        lines.append(f"\nEMOTION CLASSIFIERS on the faces found by {comp.detector}")
        lines.append("  " + "  ".join(f"{n}: {comp.ms_per_face.get(n) or 0:.1f} ms/face" for n in names))
        for f in comp.faces:
            tops = "  ".join(f"{n}={t} {float(f.scores[n].max()):.2f}" for n, t in f.top().items())
            agree = "" if f.agree is None else ("  agree" if f.agree else "  DISAGREE")
            lines.append(f"  {f.photo:<{photo_w}} #{f.index + 1}  {tops}{agree}")
        if comp.agreement is not None:
            lines.append(f"  agreement: {comp.agreement:.0%}")
    if result.cancelled:
        lines.append("\n(cancelled: the tables are incomplete)")
    return "\n".join(lines)
