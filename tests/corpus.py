"""A corpus of awkward and broken image files, generated at test time (nothing is committed).

Each entry is ``(file name, bytes, expect)`` where ``expect`` is
  * ``"face"``  - a valid image with the astronaut's face in it: it must be analysed and the face found;
  * ``"image"`` - a valid image (no face needed): analysed without error, any number of faces;
  * ``"error"`` - not a usable image: the engine raises ImageError with a message, the page shows it.

Used by tests/test_bad_input.py (the engine, in a subprocess so a crash or hang is caught) and by the
browser test of the upload page.
"""
from __future__ import annotations

import io
import struct
import zlib

import cv2
import numpy as np
from PIL import Image

EXPECTATIONS = ("face", "image", "error")


def _astronaut_rgb() -> np.ndarray:
    from skimage import data

    return data.astronaut()


def _pil_bytes(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _png_header_only(width: int, height: int, bit_depth: int = 8, color_type: int = 2) -> bytes:
    """A syntactically valid PNG whose header claims width x height, with one tiny compressed row block:
    a decompression bomb as far as any decoder that trusts the header is concerned."""
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 4096, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _bomb_png(side: int) -> bytes:
    """A real, complete PNG of side x side black pixels: tiny on disk (zlib of zeros), huge decoded."""
    row = b"\x00" + b"\x00" * side  # filter byte + grayscale row
    comp = zlib.compressobj(9)
    data = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def _exif_rotated_jpeg(rgb: np.ndarray, orientation: int) -> bytes:
    """Pixels stored transformed so that applying EXIF `orientation` restores the upright photo."""
    img = Image.fromarray(rgb)
    # the inverse of what a viewer applies for each orientation
    inverse = {1: None, 2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
               4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_90,
               7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_270}[orientation]
    stored = img.transpose(inverse) if inverse is not None else img
    exif = Image.Exif()
    exif[0x0112] = orientation
    return _pil_bytes(stored, "JPEG", quality=90, exif=exif.tobytes())


#: a tiny valid EPS: opening it with Pillow's EPS plugin would run Ghostscript
EPS_BYTES = (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 16 16\n"
             b"newpath 0 0 moveto 16 16 lineto stroke\nshowpage\n%%EOF\n")


def build() -> list[tuple[str, bytes, str]]:
    rgb = _astronaut_rgb()
    pil = Image.fromarray(rgb)
    jpeg = _pil_bytes(pil, "JPEG", quality=90)
    png = _pil_bytes(pil, "PNG")
    webp = _pil_bytes(pil, "WEBP", quality=85)
    bmp = _pil_bytes(pil, "BMP")
    gray = pil.convert("L")
    out: list[tuple[str, bytes, str]] = [
        # valid images holding the face
        ("astronaut.jpg", jpeg, "face"),
        ("astronaut.png", png, "face"),
        ("astronaut.webp", webp, "face"),
        ("astronaut.bmp", bmp, "face"),
        ("astronaut_progressive.jpg", _pil_bytes(pil, "JPEG", quality=80, progressive=True), "face"),
        ("grayscale.jpg", _pil_bytes(gray, "JPEG", quality=90), "face"),
        ("grayscale.png", _pil_bytes(gray, "PNG"), "face"),
        ("rgba.png", _pil_bytes(pil.convert("RGBA"), "PNG"), "face"),
        ("la.png", _pil_bytes(gray.convert("LA"), "PNG"), "face"),
        ("palette.png", _pil_bytes(pil.convert("P", palette=Image.Palette.ADAPTIVE, colors=256), "PNG"), "face"),
        ("palette_transparency.png",
         _pil_bytes(pil.convert("P", palette=Image.Palette.ADAPTIVE, colors=64), "PNG", transparency=0), "face"),
        ("sixteen_bit.png", cv2.imencode(".png", (cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR).astype(np.uint16) * 257))[1]
         .tobytes(), "face"),
        ("sixteen_bit_gray.png", _pil_bytes(Image.fromarray((np.asarray(gray).astype(np.uint16) * 257)), "PNG"),
         "face"),
        ("cmyk.jpg", _pil_bytes(pil.convert("CMYK"), "JPEG", quality=90), "face"),
        ("animated.webp", _pil_bytes(pil, "WEBP", save_all=True,
                                     append_images=[pil.transpose(Image.Transpose.FLIP_LEFT_RIGHT)],
                                     duration=100, loop=0, quality=85), "face"),
        ("rgba.webp", _pil_bytes(pil.convert("RGBA"), "WEBP", quality=85), "face"),
        ("upscaled_2500.jpg", _pil_bytes(pil.resize((2500, 2500)), "JPEG", quality=85), "face"),
        ("wide_jpeg_named.png", jpeg, "face"),  # wrong extension, right content
    ]
    out += [(f"exif_orientation_{o}.jpg", _exif_rotated_jpeg(rgb, o), "face") for o in range(1, 9)]
    # valid images without a (findable) face
    out += [
        ("one_pixel.png", _pil_bytes(Image.new("RGB", (1, 1), (200, 10, 10)), "PNG"), "image"),
        ("one_pixel.jpg", _pil_bytes(Image.new("RGB", (1, 1), (10, 200, 10)), "JPEG"), "image"),
        ("two_by_three.bmp", _pil_bytes(Image.new("RGB", (2, 3), (0, 0, 0)), "BMP"), "image"),
        ("blank_white.png", _pil_bytes(Image.new("RGB", (640, 480), (255, 255, 255)), "PNG"), "image"),
        ("noise.png", _pil_bytes(Image.fromarray(np.random.default_rng(0).integers(0, 256, (300, 400, 3),
                                                                                   dtype=np.uint8)), "PNG"), "image"),
        ("fully_transparent.png", _pil_bytes(Image.new("RGBA", (64, 64), (0, 0, 0, 0)), "PNG"), "image"),
        ("thin_strip.png", _pil_bytes(Image.new("RGB", (4000, 2), (128, 128, 128)), "PNG"), "image"),
        ("one_bit.png", _pil_bytes(gray.convert("1"), "PNG"), "image"),
    ]
    # broken or hostile files
    out += [
        ("empty.jpg", b"", "error"),
        ("empty.png", b"", "error"),
        ("zero_bytes.webp", b"", "error"),
        ("html_renamed.jpg", b"<!doctype html><html><body><img src=x onerror=alert(1)></body></html>", "error"),
        ("text_renamed.png", "just some text, not a picture\n".encode() * 20, "error"),
        ("json_renamed.jpg", b'{"image": "no"}', "error"),
        ("svg_renamed.png", b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', "error"),
        ("pdf_renamed.jpg", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "error"),
        ("zip_renamed.png", b"PK\x03\x04" + b"\x00" * 100, "error"),
        ("random_bytes.jpg", np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8).tobytes(), "error"),
        ("jpeg_header_only.jpg", jpeg[:200], "error"),
        ("png_signature_only.png", png[:8], "error"),
        ("png_truncated_ihdr.png", png[:20], "error"),
        ("webp_header_only.webp", webp[:30], "error"),
        ("gif_header_only.gif", b"GIF89a\x10\x00\x10\x00", "error"),
        # formats the page does not name are refused, whatever the extension (issue 17)
        ("gif_renamed.png", _pil_bytes(pil.convert("P"), "GIF"), "error"),
        ("tiff_renamed.png", _pil_bytes(pil, "TIFF"), "error"),
        ("eps_renamed.png", EPS_BYTES, "error"),
        ("png_bad_crc.png", png[:29] + bytes([png[29] ^ 0xFF]) + png[30:], "error"),
        ("bomb_header_60000.png", _png_header_only(60000, 60000), "error"),
        ("bomb_header_1e9_wide.png", _png_header_only(1_000_000_000, 1), "error"),
        ("bomb_real_20000.png", _bomb_png(20000), "error"),
        ("huge_10000.png", _pil_bytes(Image.new("L", (10000, 10000), 0), "PNG"), "error"),
    ]
    # truncated files: a decoder may recover the top part (then it is an image) or refuse; never crash
    out += [
        ("jpeg_truncated_half.jpg", jpeg[: len(jpeg) // 2], "error"),
        ("jpeg_truncated_90.jpg", jpeg[: int(len(jpeg) * 0.9)], "error"),
        ("png_truncated_half.png", png[: len(png) // 2], "error"),
        ("webp_truncated_half.webp", webp[: len(webp) // 2], "error"),
        ("jpeg_garbage_middle.jpg", jpeg[:2000] + b"\xff" * 3000 + jpeg[5000:], "image_or_error"),
    ]
    return out


def expectation_ok(expect: str, outcome: str, faces: int) -> bool:
    """outcome: "ok" (analysed) or "error" (a clear ImageError)."""
    if expect == "face":
        return outcome == "ok" and faces >= 1
    if expect == "image":
        return outcome == "ok"
    if expect == "error":
        return outcome == "error"
    return outcome in ("ok", "error")  # image_or_error
