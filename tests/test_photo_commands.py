"""evaluate-photos / verify-pairs on small folders made here, face numbers, low-light enhancement, and
the Analyzer skipping the embedding for an empty gallery (issue 10)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from emotion import cli


@pytest.fixture(scope="module")
def astronaut():
    from skimage import data

    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


@pytest.fixture()
def photo_dir(tmp_path, astronaut):
    cv2.imwrite(str(tmp_path / "Eileen_Collins_0001.jpg"), astronaut)
    cv2.imwrite(str(tmp_path / "Eileen_Collins_0002.jpg"), astronaut[:, ::-1])
    cv2.imwrite(str(tmp_path / "Blank_Wall_0001.jpg"), np.full((200, 300, 3), 128, np.uint8))
    return tmp_path


def test_evaluate_photos_prints_figures_and_last_line(photo_dir, capsys):
    (photo_dir / "labels.csv").write_text(
        "image,emotion\nEileen_Collins_0001.jpg,happy\nEileen_Collins_0002.jpg,happy\nBlank_Wall_0001.jpg,neutral\n")
    assert cli.main(["evaluate-photos", str(photo_dir)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert "photos: 3" in out
    assert "no face: 1 (33.3%)" in out
    # the astronaut smiles: the engine calls both copies happy, the blank wall is a miss
    assert out[-1] == "accuracy=0.6667 no_face=0.3333"
    row = next(line for line in out if line.strip().startswith("neutral") and line.split()[1].isdigit())
    assert row.split()[-1] == "1"  # the blank wall in the no-face column


def test_evaluate_photos_people_split_and_limit(photo_dir, capsys):
    (photo_dir / "labels.csv").write_text(
        "image,emotion\nEileen_Collins_0001.jpg,happy\nEileen_Collins_0002.jpg,happy\nBlank_Wall_0001.jpg,neutral\n")
    # people sorted: Blank_Wall, Eileen_Collins -> first half is the wall only
    assert cli.main(["evaluate-photos", str(photo_dir), "--people", "first-half"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "accuracy=0.0000 no_face=1.0000"
    assert cli.main(["evaluate-photos", str(photo_dir), "--people", "second-half", "--limit", "1"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert "photos: 1" in out and out[-1] == "accuracy=1.0000 no_face=0.0000"


@pytest.mark.parametrize("labels, message", [
    (None, "not found"),
    ("file,label\na.jpg,happy\n", "image,emotion"),
    ("image,emotion\nEileen_Collins_0001.jpg,joyful\n", "unknown emotion"),
    ("image,emotion\n../secret.jpg,happy\n", "outside the folder"),
])
def test_evaluate_photos_bad_input_is_a_message(photo_dir, capsys, labels, message):
    if labels is not None:
        (photo_dir / "labels.csv").write_text(labels)
    assert cli.main(["evaluate-photos", str(photo_dir)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_verify_pairs_both_layouts(photo_dir, capsys):
    pairs = photo_dir / "pairs.csv"
    pairs.write_text("a,b,same\nEileen_Collins_0001.jpg,Eileen_Collins_0002.jpg,1\n"
                     "Eileen_Collins_0001.jpg,Blank_Wall_0001.jpg,0\n")
    assert cli.main(["verify-pairs", str(photo_dir), "--pairs", str(pairs)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert "pairs: 2 (1 same, 1 different)" in out
    assert "pairs without a face (counted wrong): 1" in out
    assert out[-1] == "accuracy=0.5000"  # the mirror pair is accepted, the no-face pair is wrong
    pairs.write_text("file_x,file_y,Decision\nEileen_Collins_0001.jpg,Eileen_Collins_0002.jpg,Yes\n")
    assert cli.main(["verify-pairs", str(photo_dir), "--pairs", str(pairs), "--threshold", "0.0"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "accuracy=0.0000"  # threshold 0 rejects


def test_best_threshold_and_rates():
    from emotion.commands.verify_pairs import accuracy_at, best_threshold, rates

    dist = np.array([0.2, 0.3, 0.5, 0.6, np.nan])
    same = np.array([True, True, False, False, True])
    t, acc = best_threshold(dist, same)
    assert 0.3 < t < 0.5 and acc == pytest.approx(0.8)
    assert accuracy_at(dist, same, 0.55) == pytest.approx(0.6)
    assert rates(dist, same, 0.55) == (1.0, 0.5)


def test_face_numbers_left_to_right():
    from emotion.draw import _label_blocks, face_numbers
    from emotion.records import Box, FaceRecord

    faces = [FaceRecord(box=Box(300, 10, 50, 50), confidence=0.9), FaceRecord(box=Box(20, 80, 40, 40), confidence=0.8),
             FaceRecord(box=Box(150, 40, 60, 60), confidence=0.7)]
    assert face_numbers(faces) == [3, 1, 2]
    # the drawn label starts with the same number
    assert [block[0][0] for block in _label_blocks(faces)] == ["3 unknown", "1 unknown", "2 unknown"]


def test_enhance_auto_only_touches_dark_images(astronaut):
    from emotion import enhance
    from emotion.commands.photo_data import darken

    assert enhance.apply(astronaut, "auto") is astronaut
    dark = darken(astronaut, "gamma", seed=1)
    assert enhance.is_dark(dark) and not enhance.is_dark(astronaut)
    lifted = enhance.apply(dark, "auto")
    assert lifted.mean() > dark.mean() + 30
    assert enhance.apply(dark, "off") is dark
    with pytest.raises(ValueError):
        enhance.apply(dark, "sometimes")


def test_darken_variants_are_dark_and_deterministic(astronaut):
    from emotion.commands.photo_data import darken

    a, b = darken(astronaut, "gamma", 5), darken(astronaut, "gamma", 5)
    assert np.array_equal(a, b) and a.mean() < 0.3 * astronaut.mean()
    cast = darken(astronaut, "cast").reshape(-1, 3).mean(0)
    assert cast[2] > 1.8 * cast[0]  # red far above blue


def test_no_embedding_when_the_gallery_is_empty(astronaut):
    from emotion import pipeline
    from emotion.recognize.gallery import Gallery

    analyzer = pipeline.get_analyzer()
    empty = Gallery([], analyzer.recognizer.metric, analyzer.recognizer.threshold)
    faces = analyzer.analyze(astronaut, gallery=empty)
    assert len(faces) == 1 and faces[0].embedding is None and analyzer.last_timings["embed"] == 0.0
    enrolled = analyzer.analyze(astronaut, gallery=None)  # enrolment: embeddings wanted
    assert enrolled[0].embedding.shape == (128,)
    one = Gallery([(1, "Eileen", enrolled[0].embedding)], analyzer.recognizer.metric, analyzer.recognizer.threshold)
    named = analyzer.analyze(astronaut, gallery=one)
    assert named[0].identity.name == "Eileen"


def test_progress_bar_silent_when_not_a_terminal(capsys):
    from emotion.commands.photo_data import progress

    progress(1, 10, "x")
    assert capsys.readouterr().err == ""


def test_tile_windows_cover_the_image():
    from emotion.detect.multiscale import tile_windows

    wins = tile_windows(1920, 1080, 0.4, 0.25)
    assert all(w == h == 432 for _, _, w, h in wins)
    covered = np.zeros((1080, 1920), bool)
    for x, y, w, h in wins:
        covered[y:y + h, x:x + w] = True
    assert covered.all()
    assert tile_windows(240, 240, 0.4, 0.25) == []  # one tile would cover >= 3/4 of the image


def test_enhancement_default_is_off_and_settable(monkeypatch):
    from emotion import enhance
    from emotion.detect.multiscale import MultiScaleBlazeFace

    monkeypatch.delenv("EMOTION_ENHANCE", raising=False)
    assert enhance.default_mode() == "off"
    monkeypatch.setenv("EMOTION_ENHANCE", "auto")
    assert enhance.default_mode() == "auto"
    assert MultiScaleBlazeFace().enhance == "auto"
    with pytest.raises(ValueError):
        MultiScaleBlazeFace(enhance="bright")
