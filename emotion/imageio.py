"""Image loading for the engine: anything a user may upload -> BGR uint8 (H, W, 3), or `ImageError`.

`load_image` never crashes or hangs on bad input: every failure becomes an `ImageError` (a
`ValueError`) with a message fit to show a user. What it handles:

* sources: a path (str / Path), bytes / bytearray / memoryview, a file-like object (`.getvalue()` or
  `.read()`, e.g. an upload), or an already decoded numpy array (gray, BGR, BGRA; uint8, uint16,
  bool or float in [0, 1]);
* empty files, files that are not images (HTML saved as .jpg, text), truncated JPEG/PNG (Pillow must
  decode the whole image cleanly, a partial decode is an error), decompression bombs (the pixel
  count is read from the header and checked *before* decoding), files over the byte limit;
* 16-bit and palette PNG, CMYK / YCCK JPEG, animated GIF / WebP / APNG (first frame), grayscale and
  bilevel, RGBA / LA / PA (composited on white), all 8 EXIF orientations, WebP, BMP, TIFF, 1x1 images.

Limits: `max_pixels` (default `MAX_PIXELS`, 40 MP, env EMOTION_MAX_PIXELS) and `max_bytes` (default
`MAX_BYTES`, 25 MB, env EMOTION_MAX_BYTES). The pixel limit is checked on the header's size before any
decoding, and Pillow's own guard (`Image.MAX_IMAGE_PIXELS`) is set to the same limit as a second net.
"""
from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from emotion.config import CONFIG
from emotion.errors import ImageError

MAX_PIXELS = CONFIG.max_pixels
MAX_BYTES = CONFIG.max_bytes
_pil_guard_set = False


def _pil():
    """Pillow, with its decompression-bomb guard set to at least our pixel limit (once)."""
    global _pil_guard_set
    from PIL import Image

    if not _pil_guard_set:
        if Image.MAX_IMAGE_PIXELS is None or Image.MAX_IMAGE_PIXELS > MAX_PIXELS:
            Image.MAX_IMAGE_PIXELS = MAX_PIXELS
        _pil_guard_set = True
    return Image


ImageSource = str | Path | bytes | bytearray | memoryview | np.ndarray | Any


# ----------------------------------------------------------------------------- public API
def load_image(src: ImageSource, *, max_pixels: int | None = None, max_bytes: int | None = None) -> np.ndarray:
    """Decode `src` to a BGR uint8 (H, W, 3) C-contiguous array. Raises ImageError only."""
    max_pixels = MAX_PIXELS if max_pixels is None else int(max_pixels)
    max_bytes = MAX_BYTES if max_bytes is None else int(max_bytes)
    if isinstance(src, np.ndarray):
        return array_to_bgr(src)
    data = _read_bytes(src, max_bytes)
    try:
        return _decode(data, max_pixels)
    except ImageError:
        raise
    except MemoryError:
        raise ImageError("image.too_big_memory") from None
    except Exception as exc:  # any decoder failure is a bad image, never a crash
        raise ImageError("image.undecodable", detail=f"{type(exc).__name__}: {exc}") from None


def downscale_for_analysis(bgr: np.ndarray, max_side: int | None) -> tuple[np.ndarray, float]:
    """Shrink so that the longer side is at most `max_side` (area interpolation; never enlarges).

    Returns (image, scale) with scale = small / original (1.0 when untouched): a point p in the small
    image is p / scale in the original."""
    if max_side is None or max_side <= 0:
        return bgr, 1.0
    h, w = bgr.shape[:2]
    side = max(h, w)
    if side <= max_side:
        return bgr, 1.0
    scale = max_side / float(side)
    nw, nh = max(1, int(round(w * scale))), max(1, int(round(h * scale)))
    if side >= 4 * max_side:
        # Two steps: an exact integer-factor INTER_AREA pass is much faster on huge frames.
        k = side // (2 * max_side)
        if k >= 2:
            bgr = cv2.resize(bgr, (max(1, w // k), max(1, h // k)), interpolation=cv2.INTER_AREA)
    small = cv2.resize(bgr, (nw, nh), interpolation=cv2.INTER_AREA)
    # the scale actually applied (rounding), averaged over both axes
    real = 0.5 * (nw / w + nh / h)
    return small, real


def array_to_bgr(arr: np.ndarray) -> np.ndarray:
    """Normalise an in-memory array (OpenCV conventions: 3 channels = BGR, 4 = BGRA) to BGR uint8."""
    a = np.asarray(arr)
    if a.size == 0 or a.ndim not in (2, 3) or min(a.shape[:2]) < 1:
        raise ImageError("image.bad_array", detail=f"shape {a.shape}")
    if a.ndim == 3 and a.shape[2] not in (1, 3, 4):
        raise ImageError("image.bad_array", f"unsupported number of channels: {a.shape[2]}",
                         detail=f"{a.shape[2]} channels")
    a = _to_uint8(a)
    if a.ndim == 2 or a.shape[2] == 1:
        a = cv2.cvtColor(a.reshape(a.shape[0], a.shape[1]), cv2.COLOR_GRAY2BGR)
    elif a.shape[2] == 4:
        a = _composite_on_white(a[:, :, :3], a[:, :, 3])
    return np.ascontiguousarray(a)


# ----------------------------------------------------------------------------- internals
def _read_bytes(src: Any, max_bytes: int) -> bytes:
    if isinstance(src, (str, Path)):
        p = Path(src)
        try:
            if not p.exists():
                raise ImageError("image.not_found", name=p.name)
            if not p.is_file():
                raise ImageError("image.not_a_file", name=p.name)
            size = p.stat().st_size
            if size > max_bytes:
                raise _too_big(size, max_bytes)
            data = p.read_bytes()
        except ImageError:
            raise
        except OSError as exc:
            raise ImageError("image.unreadable", name=p.name, detail=exc.strerror or str(exc)) from None
    elif isinstance(src, (bytes, bytearray, memoryview)):
        data = bytes(src)
    elif hasattr(src, "getvalue") or hasattr(src, "read"):
        try:
            data = src.getvalue() if hasattr(src, "getvalue") else src.read(max_bytes + 1)
        except Exception as exc:
            raise ImageError("image.unreadable", f"cannot read the upload: {exc}", name="upload", detail=str(exc)) from None
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise ImageError("image.bad_source", "the upload did not yield bytes", detail="no bytes")
        data = bytes(data)
    elif src is None:
        raise ImageError("image.none")
    else:
        raise ImageError("image.bad_source", detail=type(src).__name__)
    if len(data) == 0:
        raise ImageError("image.empty")
    if len(data) > max_bytes:
        raise _too_big(len(data), max_bytes)
    return data


def _too_big(size: int, limit: int) -> ImageError:
    return ImageError("image.too_big_file", mb=size / 1e6, limit_mb=limit / 1e6)


def _sniff_not_image(data: bytes) -> ImageError:
    """Why a file Pillow cannot identify is not an image (a web page, an SVG, a PDF, ...)."""
    head = data[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in head:
        return ImageError("image.html")
    if head.startswith(b"<?xml") or head.startswith(b"<svg"):
        return ImageError("image.svg")
    if head.startswith(b"%pdf"):
        return ImageError("image.pdf")
    return ImageError("image.unknown_format")


def _decode(data: bytes, max_pixels: int) -> np.ndarray:
    from PIL import ImageOps, UnidentifiedImageError

    Image = _pil()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))  # reads the header only
    except UnidentifiedImageError:
        raise _sniff_not_image(data) from None
    except Image.DecompressionBombError:  # Pillow's own hard limit (2 x MAX_IMAGE_PIXELS)
        raise ImageError("image.bomb", limit=max_pixels / 1e6) from None

    with img:
        w, h = img.size
        if w < 1 or h < 1:
            raise ImageError("image.no_pixels", width=w, height=h)
        if w * h > max_pixels:
            raise ImageError("image.too_many_pixels", width=w, height=h, megapixels=w * h / 1e6,
                             limit=max_pixels / 1e6)
        if getattr(img, "n_frames", 1) > 1:
            img.seek(0)  # animated: first frame
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                img.load()  # full decode; raises on truncated data (LOAD_TRUNCATED_IMAGES stays False)
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            msg = str(exc)
            if "truncated" in msg or isinstance(exc, EOFError) or "broken" in msg or "incomplete" in msg.lower():
                raise ImageError("image.truncated", detail=msg) from None
            raise ImageError("image.undecodable", detail=msg) from None
        try:
            oriented = ImageOps.exif_transpose(img)
        except Exception:  # a broken EXIF block must not lose the picture
            oriented = img
        return _pil_to_bgr(oriented if oriented is not None else img)


def _pil_to_bgr(img) -> np.ndarray:
    mode = img.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        a = np.asarray(img)
        if mode == "I" and a.max(initial=0) <= 255 and a.min(initial=0) >= 0:
            a = a.astype(np.uint8)
        elif mode == "I":
            a = np.clip(a, 0, 65535).astype(np.uint16)
        return array_to_bgr(a)
    if mode == "F":
        a = np.asarray(img, dtype=np.float32)
        lo, hi = float(np.nanmin(a)), float(np.nanmax(a))
        a = (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)
        return array_to_bgr(a)
    if mode == "P" or mode == "PA":
        img = img.convert("RGBA") if ("transparency" in img.info or mode == "PA") else img.convert("RGB")
        mode = img.mode
    if mode in ("1", "L"):
        return array_to_bgr(np.asarray(img.convert("L")))
    if mode in ("LA", "La"):
        a = np.asarray(img.convert("LA"))
        g = a[:, :, 0]
        return _composite_on_white(cv2.cvtColor(g, cv2.COLOR_GRAY2BGR), a[:, :, 1])
    if mode in ("RGBA", "RGBa"):
        a = np.asarray(img.convert("RGBA"))
        return _composite_on_white(a[:, :, 2::-1], a[:, :, 3])
    if mode != "RGB":
        img = img.convert("RGB")  # CMYK, YCbCr, LAB, HSV, RGBX, ...
    a = np.asarray(img)
    return np.ascontiguousarray(a[:, :, ::-1])


def _to_uint8(a: np.ndarray) -> np.ndarray:
    if a.dtype == np.uint8:
        return a
    if a.dtype == np.bool_:
        return a.astype(np.uint8) * 255
    if a.dtype == np.uint16:
        return (a >> 8).astype(np.uint8)
    if np.issubdtype(a.dtype, np.floating):
        a = np.nan_to_num(a.astype(np.float32), nan=0.0, posinf=1.0, neginf=0.0)
        if a.max(initial=0.0) > 1.0 + 1e-6:  # 0..255 floats
            return np.clip(np.rint(a), 0, 255).astype(np.uint8)
        return np.clip(np.rint(a * 255.0), 0, 255).astype(np.uint8)
    if np.issubdtype(a.dtype, np.integer):
        return np.clip(a, 0, 255).astype(np.uint8)
    raise ImageError("image.bad_array", f"unsupported pixel type {a.dtype}", detail=f"pixel type {a.dtype}")


def _composite_on_white(bgr: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    if alpha.min(initial=255) == 255:
        return np.ascontiguousarray(bgr)
    a = alpha.astype(np.float32)[:, :, None] / 255.0
    out = bgr.astype(np.float32) * a + 255.0 * (1.0 - a)
    return np.ascontiguousarray(np.clip(np.rint(out), 0, 255).astype(np.uint8))
