"""`python -m emotion bench --live`: the live camera's speed.

Frames: 640x480 BGR, built from NASA's astronaut photo (scikit-image, a real face):

* "1 face": her head (a 210x220 px cut around the face) moving left to right across a smooth
  background over `--frames` frames (120 by default), bobbing up and down;
* "3 faces": three real faces side by side on the same background - the astronaut, her mirror image
  and a 0.85x, slightly brighter copy - drifting a little each frame.

Each sequence goes through `StreamingAnalyzer.process`, exactly the code the camera callback runs
(BlazeFace on a 320 px copy, tracking, dlib 68 landmarks, recognition with a gallery holding the
astronaut, the emotion model on the FER crop, EMA, drawing). It prints FPS and p50/p95 ms per frame.

For comparison it runs the plain per-frame DeepFace way on the same frames. DeepFace.analyze cannot
run here (DeepFace's emotion weights are not available offline), so "plain DeepFace" is, per frame:
``DeepFace.extract_faces(detector_backend="opencv")`` + ``DeepFace.represent(model_name="Dlib",
detector_backend="opencv")`` + our emotion classifier on each face (its 48x48 gray crop of the face
DeepFace returned) - i.e. what a naive loop that calls DeepFace for every frame costs. It is timed on
`--deepface-frames` frames (a few: it is slow) and the ratio of the two per-frame medians is printed.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any

import cv2
import numpy as np

from emotion.bench.scenes import astronaut_gallery, moving_face_frames, three_face_frames


def _stats(ms: list[float]) -> dict[str, float]:
    arr = np.asarray(ms, np.float64)
    return {"frames": len(ms), "fps": 1000.0 / float(arr.mean()) if len(ms) else 0.0,
            "p50": float(np.percentile(arr, 50)), "p95": float(np.percentile(arr, 95)),
            "mean": float(arr.mean())}


def time_streaming(stream: Any, frames: list[np.ndarray], warmup: int = 5) -> tuple[dict[str, float], list]:
    """Per-frame wall time of `stream.process` (ms), after `warmup` untimed frames."""
    for f in frames[:warmup]:
        stream.process(f)
    stream.reset()
    ms, faces_per_frame = [], []
    stages: dict[str, list[float]] = {}
    for f in frames:
        t = time.perf_counter()
        _, faces = stream.process(f)
        ms.append((time.perf_counter() - t) * 1000.0)
        faces_per_frame.append(faces)
        for k, v in stream.last_stage_ms().items():
            stages.setdefault(k, []).append(v)
    stats = _stats(ms)
    stats["stages"] = {k: float(np.mean(v)) for k, v in stages.items()}
    return stats, faces_per_frame


def time_plain_deepface(frames: list[np.ndarray], classifier: Any) -> dict[str, float]:
    """extract_faces(opencv) + represent(Dlib, opencv) + our classifier per face, per frame."""
    from emotion.deepface_home import prepare_deepface_home

    prepare_deepface_home()
    from deepface import DeepFace

    def one(frame: np.ndarray) -> int:
        faces = DeepFace.extract_faces(frame, detector_backend="opencv", enforce_detection=False)
        DeepFace.represent(frame, model_name="Dlib", detector_backend="opencv", enforce_detection=False)
        crops = []
        for face in faces:
            rgb01 = np.asarray(face["face"], np.float32)
            gray = cv2.cvtColor(np.clip(rgb01 * 255, 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)
            crops.append(cv2.resize(gray, (48, 48), interpolation=cv2.INTER_AREA))
        if crops:
            classifier.predict(np.stack(crops))
        return len(faces)

    one(frames[0])  # warm-up: model loading
    ms = []
    for f in frames:
        t = time.perf_counter()
        one(f)
        ms.append((time.perf_counter() - t) * 1000.0)
    return _stats(ms)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--live", action="store_true", help="(accepted for `python -m emotion bench --live`)")
    parser.add_argument("--frames", type=int, default=120, help="frames per sequence (default 120)")
    parser.add_argument("--deepface-frames", type=int, default=5,
                        help="frames for the plain DeepFace loop (default 5; 0 skips it)")
    parser.add_argument("--mode", choices=("fast", "accurate"), default="fast")
    parser.add_argument("--no-landmarks", action="store_true", help="landmarks off (they are on by default)")
    parser.add_argument("--recognition", choices=("inline", "process", "thread"), default="process",
                        help="where embeddings run (default: a worker process, as the live page does)")
    parser.add_argument("--detector", default=None,
                        help="the Analyzer's detector (used by the accurate mode; default: the photo default)")


def run_live(args: argparse.Namespace) -> int:
    from emotion import registry
    from emotion.pipeline import get_analyzer
    from emotion.live import StreamingAnalyzer

    n = int(getattr(args, "frames", 120))
    print("loading models ...", file=sys.stderr, flush=True)
    analyzer = get_analyzer(detector=getattr(args, "detector", None))
    gallery = astronaut_gallery(analyzer)
    landmarks = not getattr(args, "no_landmarks", False)
    mode = getattr(args, "mode", "fast")
    results = {}
    for label, frames in (("1 face", moving_face_frames(n)), ("3 faces", three_face_frames(n))):
        stream = StreamingAnalyzer(analyzer, mode=mode, gallery_provider=lambda: gallery, landmarks=landmarks,
                                   recognition=getattr(args, "recognition", "process"))
        stats, faces = time_streaming(stream, frames)
        found = statistics.mean(len(f) for f in faces)
        names = sorted({x.identity.name for fs in faces for x in fs})
        tracks = sorted({x.track_id for fs in faces for x in fs})
        results[label] = stats
        print(f"streaming {label:8s} ({mode}, landmarks {'on' if landmarks else 'off'}, "
              f"recognition {stream.recognition}): "
              f"{stats['fps']:6.1f} FPS   p50 {stats['p50']:5.1f} ms   p95 {stats['p95']:5.1f} ms   "
              f"faces/frame {found:.2f}  tracks {tracks}  names {names}")
        print("    mean ms per stage: " + ", ".join(f"{k} {v:.1f}" for k, v in stats["stages"].items()))
    nd = int(getattr(args, "deepface_frames", 5))
    if nd > 0:
        print("plain DeepFace per frame = extract_faces(opencv) + represent(Dlib, opencv) + our emotion "
              "classifier per face (DeepFace.analyze needs emotion weights that are not available)",
              flush=True)
        classifier = registry.get_classifier("fer_cnn")
        for label, frames in (("1 face", moving_face_frames(n)), ("3 faces", three_face_frames(n))):
            step = max(1, len(frames) // nd)
            d = time_plain_deepface(frames[::step][:nd], classifier)
            ratio = d["p50"] / results[label]["p50"]
            print(f"plain DeepFace {label:8s}: {d['fps']:6.2f} FPS   p50 {d['p50']:7.1f} ms   "
                  f"({d['frames']} frames)   streaming is {ratio:5.1f}x faster (median per frame)")
    return 0


