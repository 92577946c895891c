"""Label placement for photo annotations (emotion.label_layout): inside the image, no overlaps,
near their face, smaller for small faces; on a crowded synthetic layout and on a real group selfie."""
from __future__ import annotations

import pytest

from emotion.label_layout import Placement, Rect, overlaps, place_labels, reading_order
from tests.photos import real_photo


def _check_valid(placements: list[Placement], width: int, height: int) -> None:
    assert overlaps(placements) == []
    for p in placements:
        if p.rect is not None:
            assert p.rect.inside(width, height), p


def _gap(face: tuple[int, int, int, int], r: Rect) -> float:
    """Distance between a face box and a label rectangle (0 when they touch or overlap)."""
    x, y, w, h = face
    dx = max(0, x - r.x2, r.x - (x + w))
    dy = max(0, y - r.y2, r.y - (y + h))
    return (dx * dx + dy * dy) ** 0.5


def test_rect_intersection_is_half_open():
    a = Rect(0, 0, 10, 10)
    assert a.intersects(Rect(9, 9, 5, 5))
    assert not a.intersects(Rect(10, 0, 5, 5))  # touching edges share no pixel
    assert not a.intersects(Rect(0, 10, 5, 5))
    assert Rect(0, 0, 10, 10).inside(10, 10) and not Rect(1, 0, 10, 10).inside(10, 10)


def test_single_face_label_goes_above_at_full_size():
    [p] = place_labels([(100, 100, 80, 80)], [(90, 30)], (400, 300))
    assert p.where == "above" and p.scale == 1.0
    assert p.rect == Rect(100, 69, 90, 30)


def test_face_at_the_top_right_corner_keeps_its_label_inside():
    # the "happy 0." case: a face touching the right edge and the top of the image
    [p] = place_labels([(540, 0, 60, 60)], [(90, 30)], (600, 400))
    assert p.rect is not None and p.rect.inside(600, 400)
    assert p.where == "below" and p.rect.x2 == 600 and p.rect.y == 61


def test_small_faces_get_smaller_labels():
    big, small = place_labels([(10, 100, 200, 200), (300, 100, 20, 20)], [(120, 40), (120, 40)], (600, 400))
    assert big.scale == 1.0
    assert small.scale < 0.6
    assert small.rect.w <= 120 * 0.6


def test_neighbours_side_by_side_do_not_overlap():
    # two faces whose labels (wider than the faces) would collide when both went above-left
    boxes = [(50, 100, 60, 60), (112, 100, 60, 60)]
    ps = place_labels(boxes, [(100, 30), (100, 30)], (400, 300), max_width_ratio=2.0)
    _check_valid(ps, 400, 300)
    assert all(p.where in ("above", "below") for p in ps)
    assert {p.where for p in ps} == {"above", "below"}


def test_crowded_layout_stays_valid_and_near_the_faces():
    # a packed 6 x 5 grid of 40 px faces, 2 px apart, with labels three times wider than a face
    width, height = 320, 260
    boxes = [(12 + c * 42, 20 + r * 42, 40, 40) for r in range(5) for c in range(6)]
    sizes = [(120, 36)] * len(boxes)
    ps = place_labels(boxes, sizes, (width, height))
    assert len(ps) == len(boxes)
    _check_valid(ps, width, height)
    shown = [(b, p) for b, p in zip(boxes, ps) if p.rect is not None]
    assert len(shown) >= 25  # space for nearly all of them at a smaller scale
    assert all(p.scale <= 0.6 for _, p in shown)
    assert sum(_gap(b, p.rect) <= 42 for b, p in shown) >= 25


def test_no_room_at_all_hides_instead_of_overlapping():
    # an image just big enough for one label: the second one must be hidden, never drawn over it
    ps = place_labels([(0, 10, 30, 30), (60, 10, 30, 30)], [(100, 20), (100, 20)], (100, 40), min_scale=1.0,
                      floor_scale=1.0, max_width_ratio=10)
    _check_valid(ps, 100, 40)
    assert [p.rect is None for p in ps].count(True) == 1


def test_reserved_areas_are_avoided():
    info = Rect(0, 0, 200, 30)
    [p] = place_labels([(20, 40, 80, 80)], [(90, 30)], (400, 300), reserved=[info])
    assert p.rect is not None and not p.rect.intersects(info)
    assert p.where == "below" or p.where == "inside"


def test_measure_callback_is_used_for_the_size():
    calls = []

    def measure(i, s):
        calls.append((i, s))
        return (int(50 * s) + 3, 17)

    [p] = place_labels([(100, 100, 80, 80)], [(50, 17)], (400, 300), measure=measure)
    assert calls[0] == (0, 1.0)
    assert (p.rect.w, p.rect.h) == (53, 17)


def test_mismatched_lengths_are_rejected():
    with pytest.raises(ValueError):
        place_labels([(0, 0, 10, 10)], [], (100, 100))


def test_reading_order_rows_then_columns():
    boxes = [(300, 12, 50, 50), (10, 0, 50, 50), (150, 200, 50, 50), (20, 190, 50, 50)]
    assert reading_order(boxes) == [1, 0, 3, 2]


def test_group_selfie_through_the_engine():
    """The real group selfie: every face's two-line label inside the image, none overlapping, each
    one next to its face."""
    path = real_photo("deepface_testset/selfie-many-people.jpg")
    import cv2

    from emotion.pipeline import get_analyzer
    from emotion.draw import annotate, layout_labels

    bgr = cv2.imread(str(path))
    height, width = bgr.shape[:2]
    faces = get_analyzer().analyze(bgr)
    assert len(faces) >= 4
    boxes = [f.box.as_tuple() for f in faces]
    ps = layout_labels(bgr.shape, faces)
    _check_valid(ps, width, height)
    assert all(p.rect is not None for p in ps)
    assert all(_gap(b, p.rect) <= 2 for b, p in zip(boxes, ps))
    # and what annotate draws is there: each label's top-left pixel changed, the info-free corner not
    out = annotate(bgr, faces, landmarks=False)
    for p in ps:
        assert (out[p.rect.y + 1, p.rect.x + 1] != bgr[p.rect.y + 1, p.rect.x + 1]).any()
