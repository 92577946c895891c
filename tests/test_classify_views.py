"""Test-time views of a face crop (emotion.classify.views): the crop, its mirror image and two zooms."""
from __future__ import annotations

import numpy as np
import pytest

from emotion.classify.views import VIEWS, mean_over_views, view_batch, view_set, views_name


def _square(side: int = 16) -> np.ndarray:
    """One 48x48 crop: a bright centred square on grey, a dark dot left of centre (to tell mirrors)."""
    crop = np.full((48, 48), 80, np.uint8)
    lo = 24 - side // 2
    crop[lo:lo + side, lo:lo + side] = 220
    crop[23:25, 6:8] = 0
    return crop


def test_each_view_set_starts_with_the_crop_itself_and_mirrors_come_in_pairs():
    for name, views in VIEWS.items():
        assert views[0] == (False, 1.0), name
        assert sorted(z for m, z in views if m) == sorted(z for m, z in views if not m) or len(views) == 1
        assert views_name(views) == name
    assert views_name(((False, 1.2),)) == "1 views"
    with pytest.raises(ValueError):
        view_set("ten_crop")


def test_views_mirror_and_zoom_about_the_centre_view_by_view():
    crops = np.stack([_square(), _square(10)])
    out = view_batch(crops, VIEWS["mirror_zoom"])
    assert out.shape == (12, 48, 48) and out.dtype == np.uint8
    by_view = out.reshape(6, 2, 48, 48)
    np.testing.assert_array_equal(by_view[0], crops)
    np.testing.assert_array_equal(by_view[3], crops[:, :, ::-1])  # view 3: (mirrored, 1.0)
    # (view, crop): the bright square's mass above the grey background
    bright = np.clip(by_view.astype(np.float64) - 80, 0, None).sum(axis=(2, 3))
    assert (bright[1] > bright[0]).all() and (bright[2] < bright[0]).all()  # 1.08 closer, 0.93 farther
    np.testing.assert_allclose(bright[1] / bright[0], 1.08 ** 2, rtol=0.05)
    np.testing.assert_allclose(bright[2] / bright[0], 0.93 ** 2, rtol=0.05)
    # zoomed views stay centred: the square's centre of mass does not move
    ys, xs = np.nonzero(by_view[1, 0] > 150)
    assert abs(ys.mean() - 23.5) < 0.6 and abs(xs.mean() - 23.5) < 0.6
    # the dark dot moves to the right in the mirrored views, also zoomed
    for v in (3, 4, 5):
        assert by_view[v, 0, 22:26, 40:44].min() < 40 and by_view[v, 0, 22:26, 4:9].min() > 40
    # borders are reflected, not filled with black, when zooming out
    assert by_view[2, 0].min() < 40 and (by_view[2, 0][[0, -1]] >= 60).all() and (by_view[2, 0][:, [0, -1]] >= 60).all()


def test_mean_over_views_undoes_the_view_order():
    views = VIEWS["mirror_zoom"]
    n = 3
    probs = np.zeros((len(views) * n, 7), np.float32)
    for v in range(len(views)):
        for i in range(n):
            probs[v * n + i, i] = v + 1  # face i: (1 + 2 + ... + 6) / 6 = 3.5 on its own class
    mean = mean_over_views(probs, len(views))
    np.testing.assert_allclose(mean, np.eye(n, 7) * 3.5)
    assert mean_over_views(probs[:n], 1).shape == (n, 7)
