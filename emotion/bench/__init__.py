"""`python -m emotion bench`: one entry point for the benchmarks, one module each.

``python -m emotion bench`` (photo, `emotion.bench.photo`), ``--live`` (the streaming path,
`emotion.bench.live`), ``--live --faces 20`` (a synthetic classroom, `emotion.bench.classroom`),
``--load`` (concurrent sessions, `emotion.bench.load`), ``--video`` (a video
file, `emotion.bench.video`), ``--scales`` (found rate per face size, every detector,
`emotion.bench.scales`), ``--memory`` (peak memory of worst-case uploads, `emotion.bench.memory`).
A new benchmark adds a module here, its flags in `add_arguments` and a branch in `run`. The scenes
all of them use are in
`emotion.bench.scenes`.
"""
from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    from emotion.bench import classroom, live, load, memory, photo, scales, video

    p.conflict_handler = "resolve"  # the live benchmark re-declares --live/--detector with the same meaning
    p.add_argument("--live", action="store_true", help="benchmark the live (streaming) path instead")
    photo.add_arguments(p)
    load.add_arguments(p.add_argument_group("load benchmark (--load)"))
    live.add_arguments(p.add_argument_group("live benchmark (--live)"))
    classroom.add_arguments(p.add_argument_group("classroom benchmark (--live --faces N)"))
    video.add_arguments(p.add_argument_group("video benchmark (--video)"))
    p.add_argument("--scales", action="store_true", help="scale sweep: found rate per face size, every detector")
    scales.add_arguments(p.add_argument_group("scale sweep (--scales)"))
    memory.add_arguments(p.add_argument_group("memory benchmark (--memory)"))


def run(args: argparse.Namespace) -> int:
    if getattr(args, "memory", False):
        from emotion.bench import memory

        return memory.run(args)
    if getattr(args, "video", False):
        from emotion.bench import video

        return int(video.run(args) or 0)
    if getattr(args, "scales", False):
        from emotion.bench import scales

        return int(scales.run(args) or 0)
    if args.load:
        from emotion.bench import load

        return load.run_load(args)
    if args.live and getattr(args, "faces", 0):
        from emotion.bench import classroom

        return int(classroom.run_classroom(args) or 0)
    if args.live:
        from emotion.bench import live

        return int(live.run_live(args) or 0)
    from emotion.bench import photo

    return photo.run_photo(args)
