"""`python -m emotion bench`: per-stage milliseconds of the photo pipeline against plain DeepFace.

Photos: NASA's astronaut (scikit-image ships it) at 640 and 1920 px wide, alone and in a group of four
(mirrored and rescaled copies on one canvas). For each, the engine's stages (detect, landmarks, embed,
classify, draw) are timed over ``--repeat`` runs (median), and in the same run the plain DeepFace calls that
do the same job: ``DeepFace.extract_faces`` (detect + align) and ``DeepFace.represent(model_name="Dlib")``
(detect + align + embed) with the same detector family. The ratio is DeepFace's time over ours (> 1: we
are faster); DeepFace does not classify emotions here (its emotion weights cannot be downloaded), so its
side does less work than ours.

``--live`` runs the streaming benchmark instead (:mod:`emotion.bench_live`), ``--load`` the concurrent
sessions benchmark (:mod:`emotion.bench_load`).
"""
from __future__ import annotations

import argparse
import statistics
import time

import cv2
import numpy as np

STAGES = ("detect", "landmarks", "embed", "classify", "draw")
#: our detector name -> DeepFace's detector_backend doing the same job
DEEPFACE_BACKEND = {"opencv": "opencv", "mtcnn": "mtcnn", "dlib": "dlib", "blazeface": "mediapipe",
                    "blazeface_full": "mediapipe", "dlib_cnn": "dlib",
                    # DeepFace has no offline BlazeFace (its mediapipe backend needs the mediapipe package):
                    # compare with its default detector
                    "blazeface_tiled": "opencv"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.conflict_handler = "resolve"  # the live benchmark re-declares --live/--detector with the same meaning
    p.add_argument("--live", action="store_true", help="benchmark the live (streaming) path instead")
    p.add_argument("--scales", action="store_true", help="scale sweep: found rate per face size, every detector")
    __import__("emotion.bench_scales").bench_scales.add_arguments(p.add_argument_group("scale sweep (--scales)"))
    p.add_argument("--detector", help="detector for the photo benchmark (default: the photo default)")
    p.add_argument("--repeat", type=int, default=7, help="runs per image (median reported)")
    p.add_argument("--deepface-repeat", type=int, default=3, help="runs per image of the DeepFace calls")
    p.add_argument("--no-deepface", action="store_true", help="skip the DeepFace comparison")
    from emotion import bench_load

    bench_load.add_arguments(p.add_argument_group("load benchmark (--load)"))
    try:
        from emotion import bench_live

        group = p.add_argument_group("live benchmark (--live)")
        bench_live.add_arguments(group)
    except ImportError:  # pragma: no cover - the live module is optional for the photo bench
        pass


def astronaut_bgr() -> np.ndarray:
    from skimage import data

    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


def group_photo(face_bgr: np.ndarray) -> np.ndarray:
    """Four copies of a real face (two mirrored, different sizes) on one 4:3 canvas."""
    h, w = face_bgr.shape[:2]
    canvas = np.full((int(h * 1.5), int(w * 2.0), 3), 200, np.uint8)
    copies = [(face_bgr, 1.0, (0, 0)), (face_bgr[:, ::-1], 0.75, (w, 0)),
              (face_bgr, 0.55, (int(w * 0.1), h)), (face_bgr[:, ::-1], 0.6, (int(w * 1.2), int(h * 0.8)))]
    for img, s, (x, y) in copies:
        small = cv2.resize(img, (int(w * s), int(h * s)), interpolation=cv2.INTER_AREA)
        sh, sw = small.shape[:2]
        sh, sw = min(sh, canvas.shape[0] - y), min(sw, canvas.shape[1] - x)
        canvas[y:y + sh, x:x + sw] = small[:sh, :sw]
    return canvas


def resize_width(img: np.ndarray, width: int) -> np.ndarray:
    h, w = img.shape[:2]
    interp = cv2.INTER_AREA if width < w else cv2.INTER_CUBIC
    return cv2.resize(img, (width, int(round(h * width / w))), interpolation=interp)


def bench_images() -> list[tuple[str, np.ndarray, int]]:
    """(label, BGR image, faces in it)."""
    one = astronaut_bgr()
    group = group_photo(one)
    return [(f"1 face {w}px", resize_width(one, w), 1) for w in (640, 1920)] + \
           [(f"4 faces {w}px", resize_width(group, w), 4) for w in (640, 1920)]


def _median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def time_engine(analyzer, img: np.ndarray, repeat: int, gallery) -> tuple[dict[str, float], int]:
    from emotion.draw import annotate

    per: dict[str, list[float]] = {s: [] for s in STAGES}
    totals, found = [], 0
    analyzer.analyze(img, gallery=gallery, landmarks=True)  # warm-up (first-call allocations)
    for _ in range(repeat):
        t0 = time.perf_counter()
        faces = analyzer.analyze(img, gallery=gallery, landmarks=True)
        t1 = time.perf_counter()
        annotate(img, faces, landmarks=True)
        t2 = time.perf_counter()
        timings = dict(getattr(analyzer, "last_timings", {}) or {})
        for s in STAGES[:-1]:
            per[s].append(float(timings.get(s, float("nan"))))
        per["draw"].append((t2 - t1) * 1000)
        totals.append((t2 - t0) * 1000)
        found = len(faces)
    out = {s: _median(v) for s, v in per.items()}
    out["total"] = _median(totals)
    return out, found


def time_deepface(img: np.ndarray, backend: str, repeat: int) -> dict[str, float]:
    from emotion.deepface_home import prepare_deepface_home

    prepare_deepface_home()
    from deepface import DeepFace

    res: dict[str, float] = {}
    for label, call in (
        ("extract_faces", lambda: DeepFace.extract_faces(img, detector_backend=backend, enforce_detection=False,
                                                         align=True)),
        ("represent", lambda: DeepFace.represent(img, model_name="Dlib", detector_backend=backend,
                                                 enforce_detection=False, align=True)),
    ):
        call()  # warm-up: DeepFace builds its models on the first call
        ts = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            call()
            ts.append((time.perf_counter() - t0) * 1000)
        res[label] = _median(ts)
    return res


def run_photo(args: argparse.Namespace) -> int:
    from emotion import registry
    from emotion.detect import DEFAULT_DETECTOR, available_detectors

    detector = args.detector or DEFAULT_DETECTOR
    if detector not in available_detectors():
        print(f"error: detector {detector!r} is not usable here; choose from {available_detectors()}")
        return 2
    analyzer = registry.get_analyzer(detector=detector)
    from emotion.recognize.gallery import Gallery

    enrol = analyzer.embed_faces(astronaut_bgr())
    gallery = Gallery([(1, "astronaut", enrol[0].embedding)], metric="euclidean_l2",
                      threshold=analyzer.recognizer.threshold) if enrol else None
    backend = DEEPFACE_BACKEND.get(detector, "opencv")
    print(f"engine: detector={detector}, landmarks=dlib68, recognizer={analyzer.recognizer.name}, "
          f"classifier={analyzer.classifier.name}; median of {args.repeat} runs, milliseconds")
    if not args.no_deepface:
        print(f"DeepFace 0.0.103: extract_faces and represent(model_name='Dlib') with detector_backend={backend!r}, "
              f"median of {args.deepface_repeat} runs")
    head = f"{'image':<16}{'faces':>6}" + "".join(f"{s:>10}" for s in STAGES) + f"{'total':>10}"
    if not args.no_deepface:
        head += f"{'DF.extract':>12}{'DF.repr':>10}{'ratio':>8}"
    print(head)
    for label, img, expected in bench_images():
        t, found = time_engine(analyzer, img, args.repeat, gallery)
        line = f"{label:<16}{found:>3}/{expected:<2}" + "".join(f"{t[s]:>10.1f}" for s in STAGES) + f"{t['total']:>10.1f}"
        if not args.no_deepface:
            try:
                df = time_deepface(img, backend, args.deepface_repeat)
                line += f"{df['extract_faces']:>12.1f}{df['represent']:>10.1f}{df['represent'] / t['total']:>7.1f}x"
            except Exception as e:  # noqa: BLE001 - report and go on: the engine's figures still count
                line += f"   DeepFace failed: {type(e).__name__}: {e}"[:120]
        print(line, flush=True)
    print("ratio = DeepFace.represent (detect+align+embed, no emotion) / engine total (detect+landmarks+embed+"
          "classify+draw)")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.load:
        from emotion import bench_load

        return bench_load.run_load(args)
    if args.scales:
        return int(__import__("emotion.bench_scales").bench_scales.run(args) or 0)
    if args.live:
        from emotion import bench_live

        return int(bench_live.run_live(args) or 0)
    return run_photo(args)
