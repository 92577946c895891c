"""The photo detector's batched tile passes (emotion/detect/tiling.py): a batch gives what the tiles
give one by one, the tiles cover the image, and the fine tiles' size follows the image's size."""
from __future__ import annotations

import numpy as np
import pytest

from emotion.detect import blazeface

pytestmark = pytest.mark.skipif(not (blazeface.available("blazeface") and blazeface.available("blazeface_full")),
                                reason="BlazeFace weights or LiteRT not installed")


def _astronaut_bgr() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.astronaut()[:, :, ::-1])


@pytest.mark.parametrize("variant", ["blazeface", "blazeface_full"])
def test_a_batch_gives_what_each_tile_gives_alone(variant):
    from emotion.detect.blazeface import BlazeFaceDetector, letterbox
    from emotion.detect.tiling import TilePass

    det = BlazeFaceDetector(variant, min_score=0.3)
    size = det.spec.input_size
    img = _astronaut_bgr()
    # five different tiles (more than one interpreter call of `chunk` tiles), the face in some of them
    origins = [(150, 20), (170, 40), (0, 0), (300, 300), (180, 60)]
    tiles = [np.ascontiguousarray(img[y:y + 2 * size, x:x + 2 * size]) for x, y in origins]
    boxed = [letterbox(t, size) for t in tiles]
    batch = np.concatenate([t for t, _ in boxed])
    tp = TilePass(det)
    assert tp.chunk < len(tiles)
    got = tp.run_tensors(batch, det.min_score)
    assert sum(len(g[2]) > 0 for g in got) >= 2  # the test sees faces
    for tile, (_, lb), (b, k, s) in zip(tiles, boxed, got):
        b1, k1, s1 = det._single(tile)
        assert len(s) == len(s1)
        np.testing.assert_allclose(s, s1, atol=1e-3)
        np.testing.assert_allclose(lb.to_image(b.reshape(-1, 2, 2)).reshape(-1, 4), b1, atol=0.5)


def test_tiles_cover_the_image():
    from emotion.detect.blazeface import BlazeFaceDetector
    from emotion.detect.tiling import TilePass

    tp = TilePass(BlazeFaceDetector("blazeface_full"))
    scale, origins = tp.windows(1920, 1080, 432, 0.25)
    assert scale == pytest.approx(192 / 432)
    w, h = int(round(1920 * scale)), int(round(1080 * scale))
    covered = np.zeros((h, w), bool)
    for x, y in origins:
        covered[y:y + 192, x:x + 192] = True
    assert covered.all()
    xs = sorted({x for x, _ in origins})
    assert all(b - a <= 192 * 0.75 + 1 for a, b in zip(xs, xs[1:]))  # neighbours overlap by >= 1/4


def test_fine_tiles_follow_the_image_size():
    from emotion.detect.multiscale import MultiScaleBlazeFace

    det = MultiScaleBlazeFace(fine_face=0.02, fine_px=13)
    # a 2 % face of the shorter side is 13 px of model input, whatever the image's size
    for w, h in ((1280, 720), (1600, 900), (900, 1600)):
        side = det.fine_window(w, h)
        assert side == pytest.approx(0.02 * min(w, h) * 192 / 13)
        assert side < det.tile_frac * min(w, h)  # finer than the coarse tiles
    assert det.fine_window(400, 300) == 0  # small images: the whole-image passes see those faces
    assert MultiScaleBlazeFace(fine_face=0).fine_window(1280, 720) == 0
