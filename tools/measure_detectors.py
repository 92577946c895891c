"""Measure the face detectors: faces found and time per image (how DEFAULT_DETECTOR was chosen).

    python -m tools.measure_detectors [--repeats 5] [--detectors blazeface,opencv,...] [--sweep]

Images (all made from scikit-image's astronaut photo, the only face photo it ships):

* the photo at 640 px and at 1920 px (one face);
* `montage()`: a 1280x960 grey canvas holding four copies of the photo at different sizes, one
  mirrored, so that the four faces are about 85, 73, 62 and 53 px wide (6.6 % to 4.1 % of the
  canvas' longer side), as in a group photo;
* ``--sweep``: one copy shrunk step by step on a 1280x960 canvas, giving the smallest face (as a
  fraction of the longer side) each detector still finds.

The scenes live in `emotion.bench.scenes` (the tests use them too).
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from emotion.bench.scenes import ASTRONAUT_FACE, astronaut_bgr, montage, single_on_canvas
from emotion.records import Box

def matched(found: list, expected: list[Box], min_iou: float = 0.3) -> int:
    """How many expected faces have a found box overlapping them by IoU >= min_iou."""
    return sum(any(d.box.iou(e) >= min_iou for d in found) for e in expected)


def _time(det, img: np.ndarray, repeats: int) -> tuple[list, float]:
    found = det.detect(img)  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        det.detect(img)
        times.append((time.perf_counter() - t) * 1000.0)
    return found, statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    from emotion.detect import available_detectors, create_detector

    parser = argparse.ArgumentParser(prog="python -m tools.measure_detectors", description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--detectors", default=None, help="comma-separated names (default: all usable)")
    parser.add_argument("--sweep", action="store_true", help="smallest face found, per detector")
    args = parser.parse_args(argv)
    names = args.detectors.split(",") if args.detectors else available_detectors()
    photo640, photo1920 = astronaut_bgr(640), astronaut_bgr(1920)
    mont, mont_boxes = montage()
    print(f"{'detector':16s} {'astronaut 640':>16s} {'astronaut 1920':>16s} {'montage (4 faces)':>22s}")
    for name in names:
        det = create_detector(name)
        cells = []
        for img, expected in ((photo640, [Box(*(round(v * 1.25) for v in ASTRONAUT_FACE.as_tuple()))]),
                              (photo1920, [Box(*(round(v * 3.75) for v in ASTRONAUT_FACE.as_tuple()))]),
                              (mont, mont_boxes)):
            repeats = args.repeats if name != "dlib_cnn" else 1
            found, ms = _time(det, img, repeats)
            cells.append(f"{len(found)} ({matched(found, expected)} ok) {ms:6.0f} ms")
        print(f"{name:16s} {cells[0]:>16s} {cells[1]:>16s} {cells[2]:>22s}", flush=True)
        if args.sweep:
            smallest = None
            for frac in (0.12, 0.10, 0.08, 0.07, 0.06, 0.05, 0.045, 0.04, 0.035, 0.03, 0.025, 0.02):
                img, box = single_on_canvas(frac)
                if matched(det.detect(img), [box]):
                    smallest = frac
                else:
                    break
            print(f"{'':16s} smallest face found: {smallest} of 1280 px", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
