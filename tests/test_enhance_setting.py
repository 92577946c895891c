"""The low-light enhancement mode is a per-user setting (auto / on / off, default off) that reaches the
detector of the Photo page's analysis (issue 10)."""
from __future__ import annotations

import numpy as np
import pytest

from emotion.records import Box, Detection


class RecordingDetector:
    """A detector that remembers the image it was given; `takes_enhance` as the photo default."""

    name = "recording"

    def __init__(self, takes_enhance: bool) -> None:
        self.takes_enhance = takes_enhance
        self.images: list[np.ndarray] = []
        self.modes: list[str | None] = []

    def detect(self, bgr, enhance=None):
        self.images.append(bgr.copy())
        self.modes.append(enhance)
        return [Detection(Box(10, 10, 40, 40), 0.9)]


def _analyzer_with(detector):
    from emotion.pipeline import Analyzer

    analyzer = Analyzer.__new__(Analyzer)  # only the detection stage is used here
    analyzer.detector = detector
    return analyzer


def _dark(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 40, (120, 160, 3), dtype=np.uint8)  # mean luminance ~20 of 255: dark


def test_default_is_off(monkeypatch):
    monkeypatch.delenv("EMOTION_ENHANCE", raising=False)
    from ui.user_settings import Settings, defaults

    assert Settings().enhance == "off"
    assert defaults().enhance == "off"


@pytest.mark.parametrize("saved, expected", [({"enhance": "auto"}, "auto"), ({"enhance": "on"}, "on"),
                                             ({"enhance": "off"}, "off"), ({"enhance": "bright"}, "off"),
                                             ({"enhance": 1}, "off"), ({}, "off")])
def test_saved_mode_is_restored_and_nonsense_falls_back(monkeypatch, saved, expected):
    monkeypatch.delenv("EMOTION_ENHANCE", raising=False)
    from ui.user_settings import from_saved

    assert from_saved(saved).enhance == expected


def test_a_detector_that_enhances_itself_gets_the_mode():
    det = RecordingDetector(takes_enhance=True)
    analyzer = _analyzer_with(det)
    img = _dark()
    analyzer.detect(img, enhance="on")
    analyzer.detect(img)
    assert det.modes == ["on", None]
    assert np.array_equal(det.images[0], img)  # it enhances its own copy


def test_other_detectors_see_the_enhanced_copy():
    from emotion import enhance

    det = RecordingDetector(takes_enhance=False)
    analyzer = _analyzer_with(det)
    img = _dark()
    analyzer.detect(img, enhance="on")
    analyzer.detect(img, enhance="off")
    assert np.array_equal(det.images[0], enhance.enhance(img))
    assert det.images[0].mean() > img.mean() + 20
    assert np.array_equal(det.images[1], img)
    with pytest.raises(ValueError):
        analyzer.detect(img, enhance="bright")


def test_the_photo_default_detector_applies_the_per_call_mode(monkeypatch):
    from emotion import enhance
    from emotion.detect import multiscale

    det = multiscale.MultiScaleBlazeFace(enhance="off")
    img = _dark()
    seen = []

    def passes(bgr, prepared=False):
        seen.append(bgr.copy())
        return [("none", np.zeros((0, 4), np.float32), np.zeros((0, 6, 2), np.float32), np.zeros(0, np.float32))]

    monkeypatch.setattr(det, "passes", passes)
    assert det.detect(img, enhance="on") == []
    assert det.detect(img) == []
    assert np.array_equal(seen[0], enhance.enhance(img))
    assert np.array_equal(seen[1], img)  # its own mode: off


def test_the_photo_page_analysis_passes_the_users_setting(monkeypatch):
    from ui import uploads
    from ui.user_settings import Settings

    calls = []

    class FakeAnalyzer:
        def analyze(self, bgr, **kw):
            calls.append(kw)
            return []

    monkeypatch.setattr(uploads, "get_analyzer", lambda s: FakeAnalyzer())
    monkeypatch.setattr(uploads, "get_gallery", lambda user_id, s: None)
    for mode in ("auto", "on", "off"):
        uploads.analyze_bgr(_dark(), {"id": 1}, Settings(detector="blazeface_multi", enhance=mode))
    assert [c["enhance"] for c in calls] == ["auto", "on", "off"]
