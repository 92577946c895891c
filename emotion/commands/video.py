"""`python -m emotion video FILE`: who felt what, when, through a video file.

    python -m emotion video FILE [--rate N] [--mode fast|accurate] [--out annotated.mp4] [--csv rows.csv]
                                 [--json] [--gallery DIR_OR_JSON] [--max-duration S]

Prints a per-person summary (and the segments), or with --json one JSON report. --csv writes one row
per analysed sample and face (time in seconds, track, person, box, seven scores, dominant emotion);
--out an annotated H.264 MP4. A progress bar goes to stderr when it is a terminal.

Exit codes: 0 (also when no face is found), 2 for bad input (not a video, damaged, no video stream,
...), 1 for an unexpected failure, 130 when interrupted (the rows so far are still written).
"""
from __future__ import annotations

import argparse
import json
import sys
import threading
import time


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="video file (MP4, MOV, WebM, AVI, MKV, ...)")
    p.add_argument("--rate", type=float, default=None,
                   help="analyse this many frames a second of video (1, 2, 5, 10; default: every frame)")
    p.add_argument("--mode", choices=("fast", "accurate"), default="fast")
    p.add_argument("--out", metavar="ANNOTATED.mp4", default=None, help="write an annotated H.264 MP4")
    p.add_argument("--csv", metavar="ROWS.csv", default=None, help="write the per-sample rows as CSV")
    p.add_argument("--json", action="store_true", help="print one JSON report instead of text")
    p.add_argument("--gallery", metavar="DIR_OR_JSON", default=None, help="people to recognise (as `analyze`)")
    p.add_argument("--max-duration", type=float, default=None, help="refuse videos longer than this (seconds)")
    p.add_argument("--no-landmarks", action="store_true", help="skip the 68-point landmarks (faster)")


def _bar(p, width: int = 30) -> str:
    f = p.fraction or 0.0
    eta = p.eta_s
    return (f"\r[{'#' * int(f * width):<{width}}] {f * 100:5.1f}%  {p.samples} samples  "
            f"{p.video_time_s:6.1f}s of video  {p.elapsed_s:5.1f}s elapsed  "
            f"ETA {'?' if eta is None else f'{eta:5.1f}s'}  ")


def format_summary(rep: dict) -> str:
    v = rep["video"]
    rate = "every frame" if not rep["rate"] else f"{rep['rate']:g}/s"
    head = (f"{v['name']}: {v['width']}x{v['height']}, {v['duration_s'] or 0:.1f} s, {rep['samples']} samples "
            f"analysed ({rate}, {rep['mode']}), {rep['speed_x_real_time'] or 0:.1f}x real time")
    if rep["cancelled"]:
        head += "  [cancelled: the rows so far]"
    if rep["truncated"]:
        head += "  [the file ends early: analysed up to where its data ends]"
    lines = [head]
    if not rep["people"]:
        lines.append("no face found")
    for p in rep["people"]:
        top = sorted(p["mean"].items(), key=lambda kv: -kv[1])[:3]
        lines.append(f"{p['person']}: seen {p['first_s']:.1f}-{p['last_s']:.1f} s ({p['samples']} samples), "
                     f"mostly {p['dominant']}  " + " ".join(f"{k}={v:.2f}" for k, v in top))
    if rep["segments"]:
        lines.append("segments:")
        for s in rep["segments"]:
            lines.append(f"  {s['person']}: {s['start_s']:7.2f} - {s['end_s']:7.2f} s  {s['dominant']}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from emotion.video.analyse import analyse_video
    from emotion.video.decode import DEFAULT_MAX_DURATION_S, probe
    from emotion.video.errors import VideoError
    from emotion.video.export import report, write_csv

    try:
        info = probe(args.file, max_duration_s=args.max_duration or DEFAULT_MAX_DURATION_S)
    except VideoError as err:
        print(f"error: {err.message}", file=sys.stderr)
        return 2
    from emotion.pipeline import get_analyzer

    try:
        analyzer = get_analyzer()
    except (ValueError, RuntimeError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    gallery = None
    if args.gallery:
        from emotion.commands.analyze import UsageError, load_gallery
        from emotion.recognize.gallery import Gallery

        try:
            rows = load_gallery(args.gallery, analyzer)
            rec = analyzer.recognizer
            gallery = Gallery(rows, rec.metric, rec.threshold)
        except (UsageError, ValueError, KeyError, TypeError) as err:
            print(f"error: bad gallery: {err}", file=sys.stderr)
            return 2
    tty = sys.stderr.isatty()
    last = [0.0]

    def on_progress(p) -> None:
        now = time.monotonic()
        if tty and now - last[0] >= 0.2:
            last[0] = now
            sys.stderr.write(_bar(p))
            sys.stderr.flush()

    cancel = threading.Event()
    interrupted = False
    try:
        result = _run_interruptible(analyse_video, cancel, args.file, analyzer, rate=args.rate, mode=args.mode,
                                    gallery=gallery, out_path=args.out, on_progress=on_progress, info=info,
                                    landmarks=not args.no_landmarks)
        interrupted = cancel.is_set()
    except VideoError as err:
        if tty:
            sys.stderr.write("\n")
        print(f"error: {err.message}", file=sys.stderr)
        return 2
    if tty:
        sys.stderr.write("\n")
    if args.csv:
        n = write_csv(result, args.csv)
        print(f"wrote {n} rows to {args.csv}", file=sys.stderr)
    if args.out and result.annotated_path:
        print(f"wrote the annotated video to {args.out}", file=sys.stderr)
    rep = report(result)
    print(json.dumps(rep) if args.json else format_summary(rep))
    return 130 if interrupted else 0


def _run_interruptible(fn, cancel: threading.Event, *a, **kw):
    """Run `fn` with `cancel`; Ctrl-C sets the event, so the run stops after the current sample
    and the rows so far are still written (the decoder is closed by `fn`)."""
    import signal

    def on_sigint(signum, frame) -> None:  # pragma: no cover - interactive
        cancel.set()

    try:
        previous = signal.signal(signal.SIGINT, on_sigint)
    except ValueError:  # not the main thread
        previous = None
    try:
        return fn(*a, cancel=cancel, **kw)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
