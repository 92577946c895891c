"""emotion.imageio: every kind of upload becomes BGR uint8 (H, W, 3) or one clear ImageError."""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from emotion.imageio import ImageError, downscale_for_analysis, load_image


def _png(img: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", **kw)
    return buf.getvalue()


def _jpeg(img: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", **kw)
    return buf.getvalue()


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height (8-bit RGB) - what a decompression bomb looks like."""
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (1 + 3 * 16))  # one short row: the rest is "missing"
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def rgb_small(astronaut_bgr) -> np.ndarray:
    return np.ascontiguousarray(astronaut_bgr[::4, ::4, ::-1])  # 128x128 RGB


def _check_bgr(a: np.ndarray, h: int, w: int) -> None:
    assert isinstance(a, np.ndarray) and a.dtype == np.uint8 and a.shape == (h, w, 3)
    assert a.flags.c_contiguous


def test_sources_path_bytes_filelike_array_agree(tmp_path, rgb_small):
    data = _png(Image.fromarray(rgb_small))
    p = tmp_path / "a.png"
    p.write_bytes(data)
    expected = rgb_small[:, :, ::-1]
    for src in (p, str(p), data, bytearray(data), io.BytesIO(data), expected.copy()):
        out = load_image(src)
        _check_bgr(out, 128, 128)
        assert np.array_equal(out, expected), type(src)


@pytest.mark.parametrize("payload, words", [
    (b"<!DOCTYPE html><html><body>404 not found</body></html>", "not an image"),
    (b"just some text, renamed to photo.jpg\n" * 10, "not an image"),
    (b"", "empty"),
])
def test_not_images(tmp_path, payload, words):
    p = tmp_path / "photo.jpg"
    p.write_bytes(payload)
    with pytest.raises(ImageError) as err:
        load_image(p)
    assert words in str(err.value).lower()


def test_truncated_jpeg(rgb_small):
    data = _jpeg(Image.fromarray(rgb_small), quality=90)
    with pytest.raises(ImageError) as err:
        load_image(data[: len(data) // 2])
    assert "truncated" in str(err.value) or "corrupt" in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(ImageError, match="not found"):
        load_image(tmp_path / "nope.png")


def test_one_pixel():
    out = load_image(_png(Image.new("RGB", (1, 1), (10, 20, 30))))
    _check_bgr(out, 1, 1)
    assert out[0, 0].tolist() == [30, 20, 10]


def test_too_many_pixels_is_refused_from_the_header():
    data = _png_claiming(10000, 10000)
    assert len(data) < 200  # nothing to decode: the size check must come from the header
    with pytest.raises(ImageError) as err:
        load_image(data)
    msg = str(err.value)
    assert "megapixel" in msg and ("too many pixels" in msg or "too large" in msg)
    # below Pillow's own bomb guard (2x the limit) our header check gives the size
    with pytest.raises(ImageError, match="7000x7000"):
        load_image(_png_claiming(7000, 7000))


def test_jpeg_header_claiming_a_huge_size(rgb_small):
    data = bytearray(_jpeg(Image.fromarray(rgb_small)))
    sof = data.find(b"\xff\xc0")
    assert sof > 0
    data[sof + 5:sof + 9] = struct.pack(">HH", 20000, 20000)  # height, width in the SOF0 segment
    with pytest.raises(ImageError, match="megapixel"):
        load_image(bytes(data))


def test_pixel_and_byte_limits(rgb_small):
    data = _png(Image.fromarray(rgb_small))
    with pytest.raises(ImageError, match="too large"):
        load_image(data, max_pixels=100)
    with pytest.raises(ImageError, match="too large"):
        load_image(data, max_bytes=100)
    _check_bgr(load_image(data, max_pixels=128 * 128), 128, 128)


def test_grayscale_16bit_palette_cmyk(rgb_small):
    gray = Image.fromarray(rgb_small).convert("L")
    out = load_image(_png(gray))
    _check_bgr(out, 128, 128)
    assert np.array_equal(out[:, :, 0], np.asarray(gray)) and np.array_equal(out[:, :, 1], out[:, :, 2])

    g16 = (np.asarray(gray).astype(np.uint16) * 257)
    out16 = load_image(_png(Image.fromarray(g16)))
    _check_bgr(out16, 128, 128)
    assert np.abs(out16[:, :, 0].astype(int) - np.asarray(gray).astype(int)).max() <= 1

    pal = Image.fromarray(rgb_small).convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
    outp = load_image(_png(pal))
    _check_bgr(outp, 128, 128)
    assert np.abs(outp.astype(int) - np.asarray(pal.convert("RGB"))[:, :, ::-1].astype(int)).max() == 0

    cmyk = Image.fromarray(rgb_small).convert("CMYK")
    outc = load_image(_jpeg(cmyk, quality=95))
    _check_bgr(outc, 128, 128)
    assert np.abs(outc.astype(int) - rgb_small[:, :, ::-1].astype(int)).mean() < 12


def test_rgba_is_composited_on_white():
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 255  # red
    rgba[0, 0, 3] = 255  # opaque
    rgba[0, 1, 3] = 0    # transparent -> white
    rgba[0, 2, 3] = 128  # half -> pink
    out = load_image(_png(Image.fromarray(rgba, "RGBA")))
    _check_bgr(out, 4, 4)
    assert out[0, 0].tolist() == [0, 0, 255]
    assert out[0, 1].tolist() == [255, 255, 255]
    assert out[0, 2, 2] == 255 and 120 <= out[0, 2, 0] <= 135


def test_animated_gif_is_refused_by_name():
    frames = [Image.new("RGB", (8, 6), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    with pytest.raises(ImageError, match="GIF files are not accepted"):
        load_image(buf.getvalue())


def test_animated_webp_first_frame():
    frames = [Image.new("RGB", (8, 6), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    buf = io.BytesIO()
    frames[0].save(buf, "WEBP", save_all=True, append_images=frames[1:], duration=50, loop=0, lossless=True)
    out = load_image(buf.getvalue())
    _check_bgr(out, 6, 8)
    b, g, r = out[3, 4].tolist()
    assert r > 200 and g < 50 and b < 50


def test_exif_orientation_is_applied():
    # a 40x20 image: left half black, right half white; orientation 6 = "rotate 90 clockwise to view"
    a = np.zeros((20, 40, 3), np.uint8)
    a[:, 20:] = 255
    img = Image.fromarray(a)
    exif = Image.Exif()
    exif[0x0112] = 6
    out = load_image(_jpeg(img, quality=95, exif=exif.tobytes()))
    _check_bgr(out, 40, 20)  # portrait now
    assert out[:15].mean() < 40 and out[25:].mean() > 215  # left half went to the top


def test_array_inputs():
    _check_bgr(load_image(np.zeros((5, 7), np.uint8)), 5, 7)
    _check_bgr(load_image(np.zeros((5, 7, 4), np.uint8)), 5, 7)
    f = load_image(np.full((3, 3, 3), 0.5, np.float32))
    assert f.dtype == np.uint8 and int(f[0, 0, 0]) in (127, 128)
    with pytest.raises(ImageError):
        load_image(np.zeros((0, 3, 3), np.uint8))
    with pytest.raises(ImageError):
        load_image(np.zeros((4, 4, 2), np.uint8))
    with pytest.raises(ImageError):
        load_image(None)


def test_downscale_for_analysis():
    img = np.zeros((3000, 4000, 3), np.uint8)
    small, scale = downscale_for_analysis(img, 1000)
    assert max(small.shape[:2]) == 1000 and small.shape[:2] == (750, 1000)
    assert scale == pytest.approx(0.25, abs=1e-3)
    same, s1 = downscale_for_analysis(img[:100, :100], 1000)
    assert s1 == 1.0 and same.shape == (100, 100, 3)
    assert downscale_for_analysis(img, None)[1] == 1.0
