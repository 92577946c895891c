"""`python -m emotion bench --memory`: peak server memory added by worst-case photo uploads.

For each hostile-but-accepted upload (a 6300x6300 RGBA PNG of ~150 KB, a 40 MP JPEG, a 40 MP RGBA WebP,
a 40 MP palette PNG with transparency, a 40 MP 8-bit RLE BMP), a fresh child process loads the models,
warms them up on a small photo, records its resident size (the idle level), resets the kernel's
high-water mark (``/proc/self/clear_refs``) and runs exactly what the Photo page runs for one upload:
take an analysis slot, decode at the analysed size, analyse (detect, landmarks, recognition, emotions),
annotate and encode the PNG download. It prints ``VmHWM - idle``. A last child runs four of the worst
uploads at once in four threads (four sessions of one server) through the process-wide
`emotion.limits.ANALYSIS_SLOTS`.

Targets (issue 17): one upload <= 400 MiB, four at once < 2 GiB above idle. Linux only (reads
/proc/self/status). The files are generated in memory and written to a temporary folder only.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ONE_UPLOAD_TARGET_MIB = 400
FOUR_UPLOADS_TARGET_MIB = 2048
ANALYZE_MAX_SIDE = 1600
MiB = 1024 * 1024


def add_arguments(p) -> None:
    p.add_argument("--memory", action="store_true", help="peak memory added by worst-case uploads")
    p.add_argument("--memory-detector", default=None, help="detector for --memory (default: the photo default)")


# ----------------------------------------------------------------------------- worst-case files
def _face_rgb(side: int = 512) -> np.ndarray:
    try:
        from skimage import data

        face = data.astronaut()
    except Exception:  # pragma: no cover - scikit-image is a dev dependency
        face = np.full((512, 512, 3), 128, np.uint8)
    import cv2

    return cv2.resize(face, (side, side), interpolation=cv2.INTER_AREA)


def _canvas(w: int, h: int, mode: str, face_side: int):
    from PIL import Image

    img = Image.new(mode, (w, h), (200, 190, 180, 128) if mode == "RGBA" else (200, 190, 180))
    face = Image.fromarray(_face_rgb(face_side)).convert(mode)
    img.paste(face, ((w - face_side) // 2, (h - face_side) // 2))
    return img


def rgba_png_6300() -> bytes:
    """6300x6300 RGBA, a flat half-transparent canvas with one face: ~0.5 MB on disk, 159 MB decoded."""
    from PIL import Image

    img = Image.new("RGBA", (6300, 6300), (200, 190, 180, 128))
    img.paste(Image.fromarray(_face_rgb(400)).convert("RGBA"), (2950, 2950))
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=False, compress_level=9)
    return buf.getvalue()


def palette_png_40mp() -> bytes:
    from PIL import Image

    img = _canvas(7740, 5160, "RGB", 2048).convert("P", palette=Image.Palette.WEB, dither=Image.Dither.NONE)
    buf = io.BytesIO()
    img.save(buf, "PNG", transparency=0, compress_level=9)
    return buf.getvalue()


def jpeg_40mp() -> bytes:
    buf = io.BytesIO()
    _canvas(7740, 5160, "RGB", 2048).save(buf, "JPEG", quality=80)
    return buf.getvalue()


def progressive_jpeg_40mp() -> bytes:
    buf = io.BytesIO()
    _canvas(7740, 5160, "RGB", 2048).save(buf, "JPEG", quality=80, progressive=True)
    return buf.getvalue()


def webp_40mp() -> bytes:
    buf = io.BytesIO()
    _canvas(7740, 5160, "RGBA", 2048).save(buf, "WEBP", quality=60, method=0)
    return buf.getvalue()


def rle8_bmp(w: int = 7740, h: int = 5160) -> bytes:
    """An 8-bit run-length-encoded BMP (Pillow cannot write one): a few hundred KB for 40 MP."""
    rows = []
    for y in range(h):
        row = bytearray()
        left, colour = w, 1 + (y // 64) % 200
        while left:
            n = min(255, left)
            row += bytes((n, colour))
            left -= n
        row += b"\x00\x00"  # end of line
        rows.append(bytes(row))
    pixels = b"".join(rows) + b"\x00\x01"  # end of bitmap
    palette = b"".join(bytes((i, 255 - i, (i * 7) % 256, 0)) for i in range(256))
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 8, 1, len(pixels), 2835, 2835, 256, 0)
    offset = 14 + len(info) + len(palette)
    header = b"BM" + struct.pack("<IHHI", offset + len(pixels), 0, 0, offset)
    return header + info + palette + pixels


CASES = {
    "png_rgba_6300x6300": rgba_png_6300,
    "png_palette_alpha_40mp": palette_png_40mp,
    "jpeg_40mp": jpeg_40mp,
    "jpeg_progressive_40mp": progressive_jpeg_40mp,
    "webp_rgba_40mp": webp_40mp,
    "bmp_rle8_40mp": rle8_bmp,
}
#: the four uploads of the concurrent run
CONCURRENT = ("png_rgba_6300x6300", "webp_rgba_40mp", "jpeg_progressive_40mp", "png_palette_alpha_40mp")


# ----------------------------------------------------------------------------- measuring (child side)
def status_kib(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak() -> None:
    """Reset VmHWM to the current RSS (Linux >= 4.0)."""
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


def process_upload(data: bytes, analyzer, *, max_side: int = ANALYZE_MAX_SIDE) -> int:
    """What the Photo page does for one upload; returns the number of faces."""
    from emotion.draw import annotate, to_png
    from emotion.imageio import load_image
    from emotion.limits import ANALYSIS_SLOTS

    with ANALYSIS_SLOTS.hold():
        bgr = load_image(data, max_side=max_side)
        faces = analyzer.analyze(bgr, landmarks=True, gallery=None, max_side=max_side)
    png = to_png(annotate(bgr, faces, landmarks=True))  # the download, built on request
    del png
    return len(faces)


def _child(args: list[str]) -> None:
    import threading

    detector, paths = args[0] or None, args[1:]
    from emotion.pipeline import Analyzer

    analyzer = Analyzer(detector=detector)
    warm = _canvas(640, 480, "RGB", 300)
    buf = io.BytesIO()
    warm.save(buf, "JPEG")
    for _ in range(2):
        process_upload(buf.getvalue(), analyzer)
    blobs = [Path(p).read_bytes() for p in paths]
    idle = status_kib("VmRSS")
    reset_peak()
    faces: list[int] = [0] * len(blobs)

    def one(i: int) -> None:
        faces[i] = process_upload(blobs[i], analyzer)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(blobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    peak = status_kib("VmHWM")
    print(json.dumps({"idle_mib": idle / 1024, "added_mib": max(0, peak - idle) / 1024, "faces": faces}))


def measure(paths: list[str], detector: str | None = None) -> dict:
    proc = subprocess.run([sys.executable, "-m", "emotion.bench.memory", "--child", detector or "", *paths],
                          capture_output=True, text=True, timeout=1800)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("{")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"measurement child failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return json.loads(line)


def run_memory(args: argparse.Namespace) -> int:
    if not Path("/proc/self/clear_refs").exists():
        print("the memory benchmark needs Linux (/proc/self/status, /proc/self/clear_refs)")
        return 2
    detector = getattr(args, "memory_detector", None)
    ok = True
    with tempfile.TemporaryDirectory(prefix="emotion-bench-memory-") as tmp:
        files = {}
        for name, make in CASES.items():
            path = Path(tmp) / name
            path.write_bytes(make())
            files[name] = path
        print(f"peak memory added by one upload (target <= {ONE_UPLOAD_TARGET_MIB} MiB), "
              f"analysed at <= {ANALYZE_MAX_SIDE} px, a fresh process each:")
        for name, path in files.items():
            r = measure([str(path)], detector)
            good = r["added_mib"] <= ONE_UPLOAD_TARGET_MIB
            ok &= good
            print(f"  {name:26s} {path.stat().st_size / 1e3:9.0f} KB  +{r['added_mib']:7.1f} MiB  "
                  f"faces={r['faces'][0]}  {'ok' if good else 'OVER'}")
        r = measure([str(files[n]) for n in CONCURRENT], detector)
        good = r["added_mib"] < FOUR_UPLOADS_TARGET_MIB
        ok &= good
        from emotion.limits import ANALYSIS_SLOTS

        print(f"four uploads at once ({', '.join(CONCURRENT)}; {ANALYSIS_SLOTS.slots} analysis slots): "
              f"+{r['added_mib']:.1f} MiB above an idle {r['idle_mib']:.0f} MiB "
              f"(target < {FOUR_UPLOADS_TARGET_MIB} MiB)  {'ok' if good else 'OVER'}")
    return 0 if ok else 1


def run(args: argparse.Namespace) -> int:
    return run_memory(args)


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--child":
        _child(sys.argv[2:])
    else:  # pragma: no cover
        parser = argparse.ArgumentParser(prog="python -m emotion.bench.memory")
        add_arguments(parser)
        raise SystemExit(run(parser.parse_args()))
