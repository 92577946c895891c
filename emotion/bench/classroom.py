"""`python -m emotion bench --live --faces 20`: a whole class on one camera, at camera speed.

The scene is built at run time from real faces in ``../shared/data/photos/wild_dev`` (LFW-style
``First_Last_000N.jpg``; ``EMOTION_PHOTOS_DIR`` overrides the folder; nothing is stored): `--faces`
people laid out in rows on a 1280x720 frame, each face 40-80 px wide (a back row smaller than the
front), each drifting a few pixels and bobbing, as pupils do. People with several photos are
enrolled from one photo and shown with another (so recognition is tested on a photo it has not
seen); when there are not enough of them the rest are strangers ("unknown").

Every frame goes through `StreamingAnalyzer.process` as the camera's frames do, in the classroom
set-up: BlazeFace full range over the whole frame plus a grid of overlapping tiles (`--tiles`) every
`--detect-every` frames, tracks moved by their velocity in between; a frame's faces classified in
one batch; embeddings refreshed per track every `--recognize-every` seconds, a frame's due faces in
one batch, in the recognition worker process.

Printed: FPS and p50/p95 ms per frame (wall time of `process`), CPU seconds per frame (this process
and the recognition worker, read from /proc: comparable on a loaded machine), the share of faces
found (per face: the share of frames it was found in; the worst face and the mean), the share of
enrolled faces named right, and name stability (per track, the share of its frames, from its first
naming on, that carry its most common name). Targets: >= 15 FPS, every face found in >= 95 % of the
frames, names stable on >= 95 % of a track's frames.
"""
from __future__ import annotations

import argparse
import collections
import math
import os
import re
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import cv2
import numpy as np

from emotion.records import Box

FRAME_W, FRAME_H = 1280, 720


def photos_dir() -> Path:
    env = os.environ.get("EMOTION_PHOTOS_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2].parent / "shared" / "data" / "photos"


def pick_people(n: int) -> list[tuple[str, Path, Path | None]]:
    """`n` (name, photo shown, photo enrolled or None) - people with several photos first (sorted by
    name, so runs repeat), then strangers with one photo."""
    folder = photos_dir() / "wild_dev"
    by: dict[str, list[Path]] = collections.defaultdict(list)
    for p in sorted(folder.glob("*.jpg")):
        m = re.match(r"(.+)_\d{4}\.jpg$", p.name)
        if m:
            by[m.group(1)].append(p)
    if not by:
        raise SystemExit(f"no LFW-style photos under {folder} (set EMOTION_PHOTOS_DIR)")
    several = [(k.replace("_", " "), v[-1], v[0]) for k, v in sorted(by.items()) if len(v) >= 2]
    single = [(k.replace("_", " "), v[0], None) for k, v in sorted(by.items()) if len(v) == 1]
    return (several + single)[:n]


def face_patch(photo: np.ndarray, detector: Any, face_px: int) -> tuple[np.ndarray, Box] | None:
    """The head (face box x1.9) scaled so the face is `face_px` wide, and the face's box in it. Many
    wild_dev photos are tight face crops, which BlazeFace misses: the photo is framed in grey first."""
    m = photo.shape[0] // 2
    photo = cv2.copyMakeBorder(photo, m, m, m, m, cv2.BORDER_CONSTANT, value=(120, 120, 120))
    dets = detector.detect(photo)
    if not dets:
        return None
    b = max(dets, key=lambda d: d.box.area).box
    cx, cy = b.x + b.w / 2, b.y + b.h / 2
    side = int(max(b.w, b.h) * 1.9)
    x0, y0 = int(cx - side / 2), int(cy - side / 2)
    pad = cv2.copyMakeBorder(photo, side, side, side, side, cv2.BORDER_REPLICATE)
    head = pad[y0 + side:y0 + 2 * side, x0 + side:x0 + 2 * side]
    scale = face_px / b.w
    size = max(8, int(round(side * scale)))
    head = cv2.resize(head, (size, size), interpolation=cv2.INTER_AREA)
    fx, fy = (b.x - x0) * scale, (b.y - y0) * scale
    return head, Box(int(fx), int(fy), int(round(b.w * scale)), int(round(b.h * scale)))


def layout(n: int, rng: np.random.Generator) -> list[tuple[int, int, int]]:
    """(centre x, centre y, face px) per seat: rows from the back (small faces) to the front."""
    rows = max(1, int(round(math.sqrt(n / 1.8))))
    per_row = math.ceil(n / rows)
    seats = []
    for r in range(rows):
        y = int(FRAME_H * (0.18 + 0.7 * r / max(1, rows - 1))) if rows > 1 else FRAME_H // 2
        face = int(40 + 40 * r / max(1, rows - 1)) if rows > 1 else 60
        for c in range(per_row):
            if len(seats) == n:
                break
            x = int(FRAME_W * (c + 0.5) / per_row + rng.integers(-15, 16))
            seats.append((x, y, int(np.clip(face + rng.integers(-4, 5), 40, 80))))
    return seats


class Classroom:
    """The scene: `frame(i)` draws frame i and returns it with each person's true face box."""

    def __init__(self, n: int, detector: Any, seed: int = 0) -> None:
        from emotion.bench.scenes import background

        rng = np.random.default_rng(seed)
        self.bg = background(FRAME_W, FRAME_H, seed)
        self.people: list[tuple[str, Path | None]] = []
        self.patches: list[tuple[np.ndarray, Box]] = []
        self.seats: list[tuple[int, int, int]] = []
        self.phase = rng.uniform(0, 2 * math.pi, size=4 * n)
        candidates = pick_people(4 * n)
        seats = layout(n, rng)
        for name, shown, enrol in candidates:
            if len(self.people) == n:
                break
            x, y, face = seats[len(self.people)]
            img = cv2.imread(str(shown), cv2.IMREAD_COLOR)
            cut = face_patch(img, detector, face) if img is not None else None
            if cut is None:
                continue
            self.people.append((name, enrol))
            self.patches.append(cut)
            self.seats.append((x, y, face))
        if len(self.people) < n:
            raise SystemExit(f"only {len(self.people)} usable faces for --faces {n}")

    def frame(self, i: int) -> tuple[np.ndarray, list[Box]]:
        out = self.bg.copy()
        truth = []
        for k, ((patch, fb), (x, y, _)) in enumerate(zip(self.patches, self.seats)):
            dx = int(round(6 * math.sin(i / 17.0 + self.phase[k])))
            dy = int(round(3 * math.sin(i / 9.0 + self.phase[k] * 1.7)))
            h, w = patch.shape[:2]
            x0, y0 = x - w // 2 + dx, y - h // 2 + dy
            xa, ya, xb, yb = max(0, x0), max(0, y0), min(FRAME_W, x0 + w), min(FRAME_H, y0 + h)
            out[ya:yb, xa:xb] = patch[ya - y0:yb - y0, xa - x0:xb - x0]
            truth.append(Box(x0 + fb.x, y0 + fb.y, fb.w, fb.h))
        return out, truth


def gallery_for(scene: Classroom, analyzer: Any, detector: Any):
    """Everyone with a second photo, enrolled from it (the live path's embedding: BlazeFace box, 68
    points, the recogniser)."""
    from emotion.recognize.gallery import Gallery

    entries = []
    for pid, (name, enrol) in enumerate(scene.people, 1):
        if enrol is None:
            continue
        img = cv2.imread(str(enrol), cv2.IMREAD_COLOR)
        if img is None:
            continue
        m = img.shape[0] // 2
        img = cv2.copyMakeBorder(img, m, m, m, m, cv2.BORDER_CONSTANT, value=(120, 120, 120))
        dets = detector.detect(img)
        if not dets:
            continue
        box = max(dets, key=lambda d: d.box.area).box
        emb = analyzer.embed(img, analyzer.landmarks(img, box))
        entries.append((pid, name, np.asarray(emb, np.float32)))
    rec = analyzer.recognizer
    return Gallery(entries, getattr(rec, "metric", "euclidean_l2"), getattr(rec, "threshold", 0.6))



def _cpu_of(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def _match(truth: list[Box], faces: list) -> list[Any]:
    """Per true face, the found face whose box centre lies in it (None: not found)."""
    out = []
    for b in truth:
        best = None
        for f in faces:
            cx, cy = f.box.center()
            if b.x <= cx <= b.x2 and b.y <= cy <= b.y2:
                best = f
                break
        out.append(best)
    return out


def add_arguments(parser: argparse._ActionsContainer) -> None:
    parser.add_argument("--faces", type=int, default=0,
                        help="with --live: a synthetic classroom of this many faces (e.g. 20) instead")
    # None: the Live page's "Many faces" set-up (emotion.live.rolling.CLASSROOM_SCAN / CLASSROOM_STREAM)
    parser.add_argument("--tile", type=int, default=None,
                        help="classroom: side of the rolling scan's windows in px (default 200: 40 px faces)")
    parser.add_argument("--tiles-per-frame", type=int, default=None,
                        help="classroom: grid windows scanned per frame, round robin (default 4)")
    parser.add_argument("--focus", type=int, default=None,
                        help="classroom: windows centred on tracks due for a detection, per frame (default 3)")
    parser.add_argument("--refresh", type=int, default=None,
                        help="classroom: frames after a track's last detection before a window is centred "
                             "on it (default 8)")
    parser.add_argument("--classify-every", type=int, default=None,
                        help="classroom: classify each face every N frames, a quarter of the class per frame "
                             "(default 4)")
    parser.add_argument("--pace", action="store_true",
                        help="classroom: wait for each frame's camera time, as a real camera delivers them "
                             "(FPS is still 1000 / mean ms of process; the recognition worker then gets the "
                             "idle time a faster frame path leaves, so naming is measured as on a camera)")
    parser.add_argument("--camera-fps", type=float, default=15.0,
                        help="classroom: frames carry a camera's timestamps at this rate (default 15), so "
                             "tracking and the recognition schedule behave as at that speed on a loaded "
                             "machine; 0: the wall clock")
    parser.add_argument("--recognize-every", type=float, default=None,
                        help="classroom: seconds between two embeddings of a track (default 4)")
    parser.add_argument("--settle-after", type=int, default=None,
                        help="classroom: after this many equal matches a track is embedded 3x less often "
                             "(default 2; 0: never)")
    parser.add_argument("--confirm", type=int, default=None,
                        help="classroom: matches a name needs before a track shows it (default 2)")


def run_classroom(args: argparse.Namespace) -> int:
    from emotion.detect.blazeface import BlazeFaceDetector
    from emotion.live import StreamingAnalyzer
    from emotion.live.rolling import classroom_settings, windows_for
    from emotion.pipeline import get_analyzer

    n_faces = int(args.faces)
    n_frames = int(getattr(args, "frames", 120) or 120)
    print("loading models and building the classroom ...", file=sys.stderr, flush=True)
    analyzer = get_analyzer()
    photo_detector = BlazeFaceDetector("blazeface_full")
    scene = Classroom(n_faces, photo_detector)
    gallery = gallery_for(scene, analyzer, photo_detector)
    given = {"tile": args.tile, "per_frame": args.tiles_per_frame, "focus": args.focus, "refresh": args.refresh,
             "classify_every": args.classify_every, "recognize_every_s": args.recognize_every,
             "confirm_names": args.confirm, "settle_after": args.settle_after}
    overrides = {k: v for k, v in given.items() if v is not None}
    if args.tile is not None:
        overrides["overlap"] = int(args.tile) // 2
    setup = classroom_settings(BlazeFaceDetector("blazeface"), **overrides)
    setup["max_faces"] = max(setup["max_faces"], 2 * n_faces)
    rolling = setup["rolling"]
    enrolled = set(gallery._names)
    stream = StreamingAnalyzer(analyzer, mode="fast", gallery_provider=lambda: gallery, landmarks=False,
                               recognition=getattr(args, "recognition", "process"), **setup)
    n_windows = len(windows_for(FRAME_W, FRAME_H, rolling.tile, rolling.overlap))
    fps = float(getattr(args, "camera_fps", 15.0) or 0.0)
    t0 = time.time()
    stamp = (lambda i: t0 + i / fps) if fps > 0 else (lambda i: None)
    warm = max(10, 2 * math.ceil(n_windows / rolling.per_frame))
    pace = bool(getattr(args, "pace", False)) and fps > 0
    start = time.perf_counter()
    for i in range(warm):  # warm-up: two scan cycles
        if pace:
            time.sleep(max(0.0, start + i / fps - time.perf_counter()))
        stream.process(scene.frame(i)[0], timestamp=stamp(i))
    worker = getattr(getattr(stream._recognition, "_pool", None), "proc", None)
    cpu0, wcpu0 = time.process_time(), _cpu_of(worker.pid) if worker is not None else float("nan")
    ms: list[float] = []
    found = np.zeros(n_faces)
    named = np.zeros(n_faces)
    track_names: dict[int, list[str]] = collections.defaultdict(list)
    stage_sum: collections.Counter = collections.Counter()
    wall0 = time.perf_counter()
    busy = 0.0
    for i in range(n_frames):
        frame, truth = scene.frame(warm + i)
        if pace:  # the camera's next frame is not there yet
            time.sleep(max(0.0, wall0 + i / fps - time.perf_counter()))
        t = time.perf_counter()
        _, faces = stream.process(frame, timestamp=stamp(warm + i))
        dt = time.perf_counter() - t
        busy += dt
        ms.append(dt * 1000.0)
        stage_sum.update(stream.last_stage_ms())
        for k, f in enumerate(_match(truth, faces)):
            if f is None:
                continue
            found[k] += 1
            name = scene.people[k][0]
            named[k] += f.identity.name == name
            track_names[f.track_id].append(f.identity.name)
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    wcpu = (_cpu_of(worker.pid) - wcpu0) if worker is not None else float("nan")
    arr = np.asarray(ms)
    share_found = found / n_frames
    known = [k for k, (name, _) in enumerate(scene.people) if name in enrolled]
    stable = []
    for names in track_names.values():
        first = next((j for j, x in enumerate(names) if x != "unknown"), None)
        if first is None:
            continue
        tail = names[first:]
        stable.append(collections.Counter(tail).most_common(1)[0][1] / len(tail))
    print(f"classroom: {n_faces} faces of {min(s[2] for s in scene.seats)}-{max(s[2] for s in scene.seats)} px "
          f"in {FRAME_W}x{FRAME_H}, {n_frames} frames; detector BlazeFace short range, rolling scan of "
          f"{len(rolling._windows)} windows of {rolling.tile} px, {rolling.per_frame} a frame "
          f"(each region every {rolling.cycle_frames()} frames), up to {rolling.focus} a frame centred on tracks "
          f"undetected for {rolling.refresh} frames; recognition {stream.recognition} "
          f"every {stream.recognize_every_s:g} s per track ({stream.settled_factor:g}x less often after "
          f"{stream.settle_after} equal matches), a name shown after {stream.confirm_names} matches; "
          f"a face classified every {stream.classify_every} frames; {len(known)} of {n_faces} enrolled from another photo; "
          f"clock: {'a %g FPS camera' % fps if fps > 0 else 'the wall clock'}{', paced' if pace else ''}")
    print(f"  speed: {1000.0 / arr.mean():5.1f} FPS (mean ms per frame {arr.mean():.1f}; "
          f"{n_frames / wall:.1f} frames/s wall incl. drawing the scene)   p50 {np.percentile(arr, 50):.1f} ms   "
          f"p95 {np.percentile(arr, 95):.1f} ms")
    cpu_ms = cpu / n_frames * 1000
    print(f"  CPU: {cpu_ms:.1f} ms per frame in this process (incl. drawing the scene) + "
          f"{wcpu / n_frames * 1000:.1f} ms in the recognition worker = {1000.0 / cpu_ms:.1f} frames per CPU "
          f"second of the frame path; wall/CPU {busy / max(cpu, 1e-9):.2f} (above 1: the machine is shared)")
    print(f"  found: every face in >= {share_found.min():.1%} of frames (mean {share_found.mean():.1%}; "
          f"faces under 95 %: {int((share_found < 0.95).sum())})")
    if known:
        print(f"  named right: {np.mean(named[known] / n_frames):.1%} of enrolled faces' frames "
              f"(worst face {np.min(named[known] / n_frames):.1%}; the first naming takes a moment)")
    if stable:
        print(f"  names stable: tracks keep their name on >= {min(stable):.1%} of their frames after the first "
              f"naming (mean {np.mean(stable):.1%}; {len(track_names)} tracks for {n_faces} faces)")
    worst = np.argsort(share_found)[:3]
    print("  least found: " + ", ".join(f"{share_found[k]:.0%} ({scene.seats[k][2]} px face)" for k in worst))
    print("  mean ms per frame and stage: " + ", ".join(f"{k} {v / n_frames:.1f}" for k, v in stage_sum.items())
          + f"; windows scanned per frame {rolling.scanned_total / max(1, rolling.scans):.1f}")
    stream.close(timeout=2.0)
    return 0
