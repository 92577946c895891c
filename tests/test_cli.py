"""`python -m emotion analyze` and `python -m emotion models`, run as a user would (subprocess)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "emotion", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def astronaut_png(tmp_path_factory, astronaut_bgr) -> Path:
    p = tmp_path_factory.mktemp("cli") / "astronaut.png"
    cv2.imwrite(str(p), astronaut_bgr)
    return p


def test_analyze_json_one_object_per_face(astronaut_png, tmp_path):
    out_png = tmp_path / "annotated.png"
    r = run_cli("analyze", str(astronaut_png), "--json", "--annotate", str(out_png))
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stdout.splitlines() if ln.strip()]
    assert len(lines) == 1
    face = json.loads(lines[0])
    assert set(face) >= {"box", "confidence", "landmarks", "identity", "scores", "emotion", "emotion_score"}
    assert len(face["landmarks"]) == 68 and all(len(p) == 2 for p in face["landmarks"])
    assert face["identity"]["name"] == "unknown"
    assert 60 < face["box"]["w"] < 180
    if face["scores"]:
        assert len(face["scores"]) == 7 and face["emotion"] in face["scores"]
    img = cv2.imread(str(out_png))
    assert img is not None and img.shape == (512, 512, 3)


def test_analyze_text_with_a_gallery_folder(astronaut_png, tmp_path):
    gal = tmp_path / "people"
    gal.mkdir()
    flipped = cv2.imread(str(astronaut_png))[:, ::-1]
    cv2.imwrite(str(gal / "Eileen.jpg"), flipped)
    r = run_cli("analyze", str(astronaut_png), "--gallery", str(gal), "--no-landmarks")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("face 1:") and "name=Eileen" in r.stdout and "landmarks=" not in r.stdout


def test_analyze_no_face_and_bad_input(tmp_path):
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((200, 300, 3), 255, np.uint8))
    r = run_cli("analyze", str(blank), "--detector", "opencv")
    assert r.returncode == 0 and "no face found" in r.stdout

    fake = tmp_path / "fake.jpg"
    fake.write_text("<!doctype html><html>oops</html>")
    r = run_cli("analyze", str(fake))
    assert r.returncode == 2 and "not an image" in r.stderr

    r = run_cli("analyze", str(tmp_path / "missing.jpg"))
    assert r.returncode == 2 and "not found" in r.stderr

    r = run_cli("analyze", str(blank), "--detector", "no-such-detector")
    assert r.returncode == 2 and "no-such-detector" in r.stderr


def test_models_lists_every_role():
    r = run_cli("models", "--json", timeout=120)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    roles = {row["role"] for row in rows}
    assert roles == {"detector", "landmarks", "recognizer", "classifier"}
    by = {(row["role"], row["name"]): row for row in rows}
    assert by[("recognizer", "Dlib")]["usable"] and by[("landmarks", "dlib68")]["usable"]
    assert by[("detector", "blazeface")]["usable"]
    assert ("classifier", "fer_cnn") in by and ("classifier", "deepface") in by
    for row in rows:
        assert {"weights", "origin", "usable", "note"} <= set(row)
    text = run_cli("models", timeout=120)
    assert text.returncode == 0
    for heading in ("DETECTORS", "LANDMARKS", "RECOGNIZERS", "CLASSIFIERS"):
        assert heading in text.stdout
