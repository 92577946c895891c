"""`python -m emotion bench --video`: how fast a video file is analysed, and in how much memory.

Clips are made at run time (never stored) with PyAV from real faces (`emotion.video.synth`): 640x480,
30 frames a second, H.264; "1 face" is the astronaut crossing the frame and back, "3 faces" three
real faces side by side. Each case runs in a fresh child process (so peak memory is its own) through
`emotion.video.analyse_video` - decoding, the live camera's StreamingAnalyzer (BlazeFace, tracking,
landmarks, recognition with a gallery holding the astronaut, emotion, smoothing), the rows and the
thumbnails; ``--annotate`` adds the annotated H.264 copy. Model loading is not timed.

Printed per case: ``N.Nx real time`` (video seconds per wall-clock second), the CPU time the case
used (all its threads) and video seconds per CPU second - the figure that says what a machine of
your own would do when this one is shared - and peak memory (the
child's max RSS, and its growth over the RSS after the models were loaded and warmed up). The speed
matrix runs on the short clip (every frame and 5 frames a second, 1 and 3 faces); memory against
length compares the short and the long clip (10 s and 5 min by default).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

FPS = 30.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--video", action="store_true", help="(accepted for `python -m emotion bench --video`)")
    parser.add_argument("--short-s", type=float, default=10.0, help="length of the short clip (default 10 s)")
    parser.add_argument("--long-s", type=float, default=300.0, help="length of the long clip (default 300 s; 0 skips)")
    parser.add_argument("--long-rates", default="5", help="rates run on the long clip: comma list of "
                        "'every' and numbers (default 5; 'every,5' also runs every frame, slow)")
    parser.add_argument("--mode", choices=("fast", "accurate"), default="fast")
    parser.add_argument("--annotate", action="store_true", help="also write the annotated H.264 copy")


def _make_clip(path: str, seconds: float, faces: int) -> None:
    from emotion.video import synth

    n = int(round(seconds * FPS))
    frames = synth.moving_face_frames(n) if faces == 1 else synth.people_frames(n, synth.three_heads())
    synth.write_clip(path, frames, FPS)


def _child(args: argparse.Namespace) -> int:
    """One case in this process: prints a JSON line."""
    import resource

    from emotion.pipeline import get_analyzer
    from emotion.bench.scenes import astronaut_gallery
    from emotion.video.analyse import analyse_video, make_streaming_analyzer

    def rss_mb() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

    analyzer = get_analyzer()
    gallery = astronaut_gallery(analyzer)
    rate = None if args.rate == "every" else float(args.rate)
    stream = make_streaming_analyzer(analyzer, mode=args.mode, gallery=gallery, warmup=True)
    base = rss_mb()
    out = os.path.join(os.path.dirname(args.clip), f"annotated-{os.getpid()}.mp4") if args.annotate else None
    t, cpu = time.perf_counter(), time.process_time()
    result = analyse_video(args.clip, analyzer, rate=rate, mode=args.mode, gallery=gallery, out_path=out,
                           streaming=stream)
    wall = time.perf_counter() - t
    cpu = time.process_time() - cpu  # every thread of this process (decoder, runtimes) included
    duration = result.info.duration_s or result.video_time_s
    print(json.dumps({"speed": duration / wall, "wall_s": wall, "cpu_s": cpu, "cpu_speed": duration / max(cpu, 1e-9), "samples": result.samples, "rows": len(result.rows),
                      "tracks": len({r.track for r in result.rows}), "peak_mb": rss_mb(), "base_mb": base,
                      "duration_s": duration}))
    return 0


def _case(clip: str, rate: str, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, "-m", "emotion.bench.video", "--child", clip, "--rate", rate, "--mode", args.mode]
    if args.annotate:
        cmd.append("--annotate")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"case {clip} {rate} failed: {proc.stderr[-2000:]}")
    return json.loads(lines[-1])


def _line(label: str, r: dict) -> str:
    return (f"{label:34s} {r['speed']:5.1f}x real time   ({r['duration_s']:.0f} s of video in {r['wall_s']:.1f} s, "
            f"{r['cpu_s']:.1f} CPU s: {r['cpu_speed']:.1f}x real time per CPU second, "
            f"{r['samples']} samples, tracks {r['tracks']})   peak memory {r['peak_mb']:.0f} MB "
            f"(+{r['peak_mb'] - r['base_mb']:.0f} MB over the loaded models)")


def run(args: argparse.Namespace) -> int:
    print(f"video benchmark: 640x480 H.264 clips at {FPS:g} fps made from real faces; mode {args.mode}; "
          f"annotated copy {'on' if args.annotate else 'off'}; {os.cpu_count()} CPUs", flush=True)
    with tempfile.TemporaryDirectory(prefix="emotion-bench-video-") as tmp:
        clips = {}
        for faces in (1, 3):
            path = os.path.join(tmp, f"short-{faces}.mp4")
            _make_clip(path, args.short_s, faces)
            clips[(faces, "short")] = path
        for faces in (1, 3):
            for rate in ("every", "5"):
                r = _case(clips[(faces, "short")], rate, args)
                label = f"{faces} face{'s' if faces > 1 else ''}, {'every frame' if rate == 'every' else rate + ' fps'}, {args.short_s:g} s"
                print(_line(label, r), flush=True)
        if args.long_s > 0:
            path = os.path.join(tmp, "long-1.mp4")
            print(f"making a {args.long_s:g} s clip ...", file=sys.stderr, flush=True)
            _make_clip(path, args.long_s, 1)
            for rate in [x.strip() for x in args.long_rates.split(",") if x.strip()]:
                short = _case(clips[(1, "short")], rate, args)
                long = _case(path, rate, args)
                what = "every frame" if rate == "every" else rate + " fps"
                print(_line(f"1 face, {what}, {args.short_s:g} s", short), flush=True)
                print(_line(f"1 face, {what}, {args.long_s:g} s", long), flush=True)
                print(f"    memory against length ({what}): peak {short['peak_mb']:.0f} MB for {args.short_s:g} s, "
                      f"{long['peak_mb']:.0f} MB for {args.long_s:g} s "
                      f"({long['peak_mb'] - short['peak_mb']:+.0f} MB for {long['duration_s'] / short['duration_s']:.0f}x "
                      f"the length; rows {short['rows']} -> {long['rows']})", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emotion.bench.video", description=__doc__.split("\n")[0])
    add_arguments(parser)
    parser.add_argument("--child", metavar="CLIP", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--rate", default="every", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        args.clip = args.child
        return _child(args)
    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
