"""Issue 17, finding 1: uploads cost bounded memory, only the named formats are opened (never
Ghostscript), and at most N analyses run at once while the others are told they wait."""
from __future__ import annotations

import io
import os
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from emotion.imageio import ImageError, load_image
from emotion.limits import AnalysisBusy, AnalysisSlots
from tests.corpus import EPS_BYTES

ROOT = Path(__file__).resolve().parent.parent
LINUX_PROC = Path("/proc/self/clear_refs").exists()

# ----------------------------------------------------------------------------- formats
_OPEN_EPS = r"""
import sys
kind = sys.argv[1]
data = open(sys.argv[2], "rb").read()
if kind == "pillow":  # what any code calling plain Image.open would do (the control)
    import io
    from PIL import Image
    try:
        Image.open(io.BytesIO(data)).load()
    except Exception as exc:
        print("pillow:", type(exc).__name__)
else:
    from emotion.imageio import ImageError, load_image
    try:
        load_image(data)
    except ImageError as exc:
        print("refused:", exc)
"""


def _gs_shim(tmp_path: Path) -> tuple[dict, Path]:
    """A `gs` first on PATH that records every call (and hands it to the real Ghostscript if any)."""
    shim_dir = tmp_path / "shim"
    shim_dir.mkdir()
    record = tmp_path / "gs_calls.txt"
    real = shutil.which("gs") or ""
    shim = shim_dir / "gs"
    shim.write_text(f'#!/bin/sh\necho "gs $*" >> "{record}"\n'
                    + (f'exec "{real}" "$@"\n' if real else "exit 1\n"))
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    env = dict(os.environ, PATH=f"{shim_dir}{os.pathsep}{os.environ.get('PATH', '')}",
               PYTHONPATH=str(ROOT))
    return env, record


@pytest.mark.skipif(sys.platform == "win32", reason="a shell shim stands in for Ghostscript")
def test_eps_renamed_png_never_reaches_ghostscript(tmp_path):
    upload = tmp_path / "innocent.png"
    upload.write_bytes(EPS_BYTES)
    env, record = _gs_shim(tmp_path)
    # control: plain Pillow on this file does run `gs`, so the shim would see a call
    control = subprocess.run([sys.executable, "-c", _OPEN_EPS, "pillow", str(upload)], env=env,
                             capture_output=True, text=True, timeout=120)
    assert record.exists() and "gs " in record.read_text(), (control.stdout, control.stderr)
    record.unlink()
    proc = subprocess.run([sys.executable, "-c", _OPEN_EPS, "engine", str(upload)], env=env,
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "refused: PostScript/EPS files are not accepted" in proc.stdout
    assert not record.exists(), f"Ghostscript was started: {record.read_text()}"


def _rgb(w: int = 64, h: int = 48) -> Image.Image:
    return Image.fromarray(np.random.default_rng(3).integers(0, 256, (h, w, 3), dtype=np.uint8))


@pytest.mark.parametrize("fmt,words", [("TIFF", "TIFF files are not accepted"),
                                        ("GIF", "GIF files are not accepted"),
                                        ("ICO", "not accepted"), ("PPM", "not in a recognised image format")])
def test_other_formats_renamed_png_are_refused(fmt, words):
    buf = io.BytesIO()
    _rgb().save(buf, fmt)
    with pytest.raises(ImageError, match=words):
        load_image(buf.getvalue())


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "BMP"])
def test_the_four_named_formats_still_open(fmt):
    buf = io.BytesIO()
    _rgb().save(buf, fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    assert load_image(buf.getvalue()).shape == (48, 64, 3)


# ----------------------------------------------------------------------------- decoding downscaled
def _save(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "BMP"])
def test_max_side_gives_the_analysed_size(fmt):
    img = Image.new("RGB", (3000, 1000), (10, 200, 30))
    out = load_image(_save(img, fmt), max_side=800)
    assert out.shape == (267, 800, 3)
    b, g, r = out[100, 400].tolist()
    assert abs(b - 30) <= 6 and abs(g - 200) <= 6 and abs(r - 10) <= 6


def test_reduced_rgba_is_composited_on_white_in_uint8():
    a = np.zeros((1200, 1200, 4), np.uint8)
    a[..., 0] = 255          # red ...
    a[..., 3] = 128          # ... half transparent over white -> pink
    a[:, 600:, 3] = 0        # right half fully transparent: white, not red (no colour bleeding)
    out = load_image(_save(Image.fromarray(a, "RGBA"), "PNG"), max_side=300)
    assert out.dtype == np.uint8 and out.shape == (300, 300, 3)
    assert out[150, 60].tolist() == [127, 127, 255]
    assert out[150, 240].tolist() == [255, 255, 255]


def test_reduced_image_keeps_its_exif_orientation():
    img = Image.new("RGB", (2000, 1000), (0, 0, 0))
    img.paste((255, 255, 255), (1000, 0, 2000, 1000))  # right half white
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 clockwise to view: white ends up at the bottom
    for fmt in ("JPEG", "PNG", "WEBP"):
        out = load_image(_save(img, fmt, exif=exif.tobytes()), max_side=500)
        assert out.shape == (500, 250, 3), fmt
        assert out[50, 125].max() < 40 and out[450, 125].min() > 215, fmt


# ----------------------------------------------------------------------------- memory (subprocess)
_PEAK = r"""
import sys
from emotion.bench.memory import reset_peak, status_kib
from emotion.imageio import downscale_for_analysis, load_image
data = open(sys.argv[1], "rb").read()
idle = status_kib("VmRSS")
reset_peak()
try:
    bgr = load_image(data, max_side=1600)
except TypeError:  # an engine without decoding at the analysed size: decode, then shrink
    bgr = downscale_for_analysis(load_image(data), 1600)[0]
print(bgr.shape[0], bgr.shape[1], (status_kib("VmHWM") - idle) / 1024)
"""


@pytest.mark.skipif(not LINUX_PROC, reason="reads /proc/self/status (Linux)")
@pytest.mark.parametrize("case", ["png_rgba_6300x6300", "webp_rgba_40mp"])
def test_worst_case_upload_decodes_in_bounded_memory(tmp_path, case):
    """The looser bound of `python -m emotion bench --memory` (which adds the analysis): decoding one
    worst-case upload at the analysed size adds at most 450 MiB (measured: ~200 MiB for the RGBA PNG,
    ~315 MiB for the WebP; before issue 17: ~1.2 GiB and ~0.6 GiB)."""
    from emotion.bench import memory as bench_memory

    path = tmp_path / "upload.png"
    path.write_bytes(bench_memory.CASES[case]())
    proc = subprocess.run([sys.executable, "-c", _PEAK, str(path)], capture_output=True, text=True,
                          timeout=300, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 0, proc.stderr[-2000:]
    h, w, added = proc.stdout.split()
    assert max(int(h), int(w)) == 1600
    assert float(added) <= 450, f"{case}: decoding added {float(added):.0f} MiB"


# ----------------------------------------------------------------------------- concurrency
def test_slots_bound_concurrency_and_tell_the_waiting():
    slots = AnalysisSlots(1)
    inside, release, done = threading.Event(), threading.Event(), threading.Event()
    told: list[int] = []

    def first():
        with slots.hold():
            inside.set()
            release.wait(10)

    def second():
        with slots.hold(on_wait=told.append, timeout=10):
            assert slots.running == 1
        done.set()

    t1 = threading.Thread(target=first)
    t1.start()
    assert inside.wait(10)
    t2 = threading.Thread(target=second)
    t2.start()
    for _ in range(200):  # poll until the second one is queued
        if slots.waiting == 1:
            break
        threading.Event().wait(0.01)
    assert slots.waiting == 1 and told == [1] and not done.is_set()
    release.set()
    assert done.wait(10)
    t1.join(5)
    t2.join(5)
    assert slots.running == 0 and slots.waiting == 0


def test_slots_give_up_after_the_wait():
    slots = AnalysisSlots(1)
    with slots.hold():
        with pytest.raises(AnalysisBusy):
            with slots.hold(timeout=0.05):
                pass
    with slots.hold(timeout=0.05):  # freed again
        assert slots.running == 1
