"""The model comparison engine (emotion.compare) and its command line.

Photos: the astronaut (skimage), her mirror image (the same person) and a real portrait of another
person from ../shared/data/photos (skipped when absent, FAILS under CI=true). Real models only: the
Dlib recogniser and the detectors that run offline here; DeepFace's models are made unavailable on
purpose by pointing DEEPFACE_HOME at an empty folder, so the test does not depend on what is installed.
"""
from __future__ import annotations

import csv
import io
import json
import os
import threading

import numpy as np
import pytest

from emotion.compare import CompareError, CompareOptions, LRUCache, compare, to_csv
from emotion.compare.cache import size_of
from emotion.compare.export import escape_cell
from tests.photos import real_photo

PORTRAIT = "deepface_testset/img1.jpg"  # one woman's face, 1,184 x 1,600 after shrinking
DETECTORS = ("blazeface_tiled", "dlib")


@pytest.fixture(scope="module")
def portrait_path():
    return real_photo(PORTRAIT)


@pytest.fixture(scope="module")
def empty_deepface_home(tmp_path_factory):
    """DEEPFACE_HOME pointing at an empty folder: no DeepFace weights, whatever this machine has."""
    home = tmp_path_factory.mktemp("deepface_home")
    old = os.environ.get("DEEPFACE_HOME")
    os.environ["DEEPFACE_HOME"] = str(home)
    yield home
    if old is None:
        os.environ.pop("DEEPFACE_HOME", None)
    else:
        os.environ["DEEPFACE_HOME"] = old


@pytest.fixture(scope="module")
def photos(astronaut_bgr, portrait_path):
    return [("astronaut.png", astronaut_bgr), ("mirror.png", np.ascontiguousarray(astronaut_bgr[:, ::-1])),
            ("portrait.jpg", portrait_path.read_bytes())]


@pytest.fixture(scope="module")
def cache():
    return LRUCache()


@pytest.fixture(scope="module")
def result(photos, cache, empty_deepface_home):
    opts = CompareOptions(detectors=(*DETECTORS, "ssd"), recognizers=("Dlib", "VGG-Face", "ArcFace"),
                          classifiers=("fer_cnn", "deepface"))
    return compare(photos, [["astronaut.png", "mirror.png"]], opts, cache=cache)


def _pair(combo, a, b):
    return next(p for p in combo.pairs if {p.a, p.b} == {a, b})


@pytest.mark.parametrize("detector", DETECTORS)
def test_dlib_separates_the_same_person_from_another(result, detector):
    combo = result.combo(detector, "Dlib")
    assert combo.usable, combo.reason
    assert combo.threshold == pytest.approx(0.40)
    assert len(combo.pairs) == 3
    same = _pair(combo, "astronaut.png", "mirror.png")
    assert same.same is True
    assert same.distance < combo.threshold
    for other in ("astronaut.png", "mirror.png"):
        diff = _pair(combo, other, "portrait.jpg")
        assert diff.same is False
        assert diff.distance > combo.threshold
    assert (combo.n_correct, combo.n_decided) == (3, 3)
    assert combo.embeddings["astronaut.png"].shape == (128,)


def test_every_detector_times_every_photo(result):
    det = {d.name: d for d in result.detectors}
    for name in DETECTORS:
        assert [p.photo for p in det[name].photos] == ["astronaut.png", "mirror.png", "portrait.jpg"]
        assert [p.faces for p in det[name].photos] == [1, 1, 1]
        assert all(p.ms > 0 and not p.error for p in det[name].photos)


def test_unavailable_models_are_marked_with_a_reason(result, empty_deepface_home):
    weights = str(empty_deepface_home / ".deepface" / "weights")
    recs = {r.name: r for r in result.recognizers}
    assert recs["Dlib"].usable
    for name, file in (("VGG-Face", "vgg_face_weights.h5"), ("ArcFace", "arcface_weights.h5")):
        assert not recs[name].usable
        assert recs[name].reason_code == "weights_missing"
        assert (recs[name].missing_file, recs[name].place_in) == (file, weights)
        combo = result.combo("dlib", name)
        assert not combo.usable and combo.pairs == [] and combo.missing_file == file
    ssd = next(d for d in result.detectors if d.name == "ssd")
    assert not ssd.status.usable and ssd.photos == []
    assert (ssd.status.missing_file, ssd.status.place_in) == ("deploy.prototxt", weights)
    assert result.combo("ssd", "Dlib").reason_code == "detector_unusable"
    cls = {m.name: m for m in result.classifiers.models}
    assert cls["fer_cnn"].usable
    assert (cls["deepface"].usable, cls["deepface"].missing_file) == (False, "facial_expression_model_weights.h5")


def test_unknown_model_names_are_reported_not_raised(photos, cache):
    r = compare(photos, [], CompareOptions(detectors=("dlib", "nosuchdetector"), recognizers=("Dlib", "NoSuchNet"),
                                           classifiers=("fer_cnn",)), cache=cache)
    assert [d.status.reason_code for d in r.detectors] == ["", "unknown_model"]
    assert [x.reason_code for x in r.recognizers] == ["", "unknown_model"]
    assert r.combo("dlib", "Dlib").usable


def test_classifiers_score_the_same_faces(result):
    comp = result.classifiers
    assert comp.detector == "blazeface_tiled"
    assert [(f.photo, f.index) for f in comp.faces] == [("astronaut.png", 0), ("mirror.png", 0), ("portrait.jpg", 0)]
    assert all(list(f.scores) == ["fer_cnn"] for f in comp.faces)
    assert comp.faces[0].top() == {"fer_cnn": "happy"}  # the astronaut smiles
    assert comp.ms_per_face["fer_cnn"] > 0
    assert comp.agreement is None  # one usable classifier: nothing to agree with


def test_rerun_with_other_groups_recomputes_nothing(photos, cache, result, empty_deepface_home):
    opts = CompareOptions(detectors=(*DETECTORS, "ssd"), recognizers=("Dlib", "VGG-Face", "ArcFace"),
                          classifiers=("fer_cnn", "deepface"))
    again = compare(photos, [], opts, cache=cache)  # now nobody is marked the same person
    assert again.computed == 0 and again.cached > 0
    combo = again.combo("dlib", "Dlib")
    pair = _pair(combo, "astronaut.png", "mirror.png")
    assert pair.same is False and pair.correct(combo.threshold) is False
    assert (combo.n_correct, combo.n_decided) == (2, 3)
    whole = compare(photos, [], opts, cache=cache)  # the same photos and options: the whole result
    assert whole.digest == again.digest and whole.computed == 0


def test_cancel_returns_what_was_done(photos, empty_deepface_home):
    stop = threading.Event()
    seen: list[tuple[int, int, str]] = []

    def progress(done, total, stage, label):
        seen.append((done, total, stage))
        stop.set()

    r = compare(photos, [], CompareOptions(detectors=DETECTORS, recognizers=("Dlib",), classifiers=("fer_cnn",)),
                progress=progress, cancel=stop, cache=LRUCache())
    assert r.cancelled
    assert seen == [(1, 2 * 3 + 2 + 3, "detect")]  # 6 detections + 2 combinations + 3 classifications
    assert [len(d.photos) for d in r.detectors] == [1, 0]
    assert [c.reason_code for c in r.combos] == ["not_run", "not_run"]


@pytest.mark.parametrize("photos_in, same, code", [
    ([("a.png", np.zeros((64, 64, 3), np.uint8))], [], "photo_count"),
    ([(f"{i}.png", np.zeros((64, 64, 3), np.uint8)) for i in range(11)], [], "photo_count"),
    ([("a.png", b"<html>not an image</html>"), ("b.png", np.zeros((64, 64, 3), np.uint8))], [], "bad_photo"),
    ([("a.png", np.zeros((64, 64, 3), np.uint8))] * 2, [], "duplicate_name"),
    ([("a.png", np.zeros((64, 64, 3), np.uint8)), ("b.png", np.zeros((64, 64, 3), np.uint8))], [["a.png", "c.png"]],
     "unknown_photo"),
])
def test_bad_input_is_a_clear_error(photos_in, same, code):
    with pytest.raises(CompareError) as info:
        compare(photos_in, same, CompareOptions(detectors=("dlib",), recognizers=("Dlib",)), cache=LRUCache())
    assert info.value.code == code


def _csv_tables(text: str) -> dict[str, list[list[str]]]:
    tables, name = {}, None
    for row in csv.reader(io.StringIO(text)):
        if len(row) == 1 and row[0].startswith("[") and row[0].endswith("]"):
            name = row[0][1:-1]
            tables[name] = []
        elif row and name:
            tables[name].append(row)
    return tables


def test_csv_export_has_machine_and_escapes_formulas(photos, cache, empty_deepface_home):
    evil = [("=HYPERLINK(\"http://x\").png", photos[0][1]), ("@SUM(1).png", photos[1][1]), ("-2+3.jpg", photos[2][1])]
    r = compare(evil, [[evil[0][0], evil[1][0]]], CompareOptions(detectors=("dlib",), recognizers=("Dlib",),
                                                                 classifiers=("fer_cnn",)), cache=cache)
    tables = _csv_tables(to_csv(r))
    meta = dict(tables["meta"][1:])
    assert meta["machine.cores"] == str(os.cpu_count())
    assert meta["machine.cpu"] and meta["machine.cpu"] != "unknown"
    assert meta["library.numpy"] == np.__version__
    assert meta["date"][:4].isdigit() and "T" in meta["date"]
    photos_col = [row[0] for row in tables["photos"][1:]]
    assert photos_col == ["'=HYPERLINK(\"http://x\").png", "'@SUM(1).png", "'-2+3.jpg"]
    pairs = tables["pairs"]
    assert pairs[0][:6] == ["detector", "recognizer", "photo_a", "photo_b", "same_person", "distance"]
    assert [row[2][0] for row in pairs[1:]] == ["'", "'", "'"]
    assert [row[8] for row in pairs[1:]] == ["yes", "yes", "yes"]  # correct


@pytest.mark.parametrize("value, cell", [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@A1", "'@A1"),
                                         ("\tx", "'\tx"), ("\rx", "'\rx"), ("a=b", "a=b"), (0.25, 0.25),
                                         (None, ""), (True, "yes")])
def test_escape_cell(value, cell):
    assert escape_cell(value) == cell


def test_cache_is_bounded_by_entries_and_bytes():
    c = LRUCache(max_entries=3, max_bytes=10_000)
    for k in range(5):
        c.put(k, k)
    assert len(c) == 3 and c.get(0) is None and c.get(4) == 4
    big = np.zeros(4_000, np.uint8)
    c.put("a", big)
    c.put("b", big)
    c.put("c", big)  # 3 x 4 kB > 10 kB: the least recently used go
    assert c.nbytes <= 10_000 and "c" in c and "b" in c and "a" not in c
    c.put("huge", np.zeros(20_000, np.uint8))
    assert "huge" not in c
    assert size_of(big) >= 4_000


def test_cli_json(photos, portrait_path, tmp_path, capsys, empty_deepface_home):
    import cv2

    from emotion.cli import main

    a, m = tmp_path / "a.png", tmp_path / "m.png"
    cv2.imwrite(str(a), photos[0][1])
    cv2.imwrite(str(m), photos[1][1])
    rc = main(["compare", str(a), str(m), str(portrait_path), "--same", "a.png,m.png", "--detectors", "dlib",
               "--recognizers", "Dlib", "ArcFace", "--classifiers", "fer_cnn", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert out["meta"]["machine"]["cores"] == os.cpu_count()
    assert [p["name"] for p in out["photos"]] == ["a.png", "m.png", "img1.jpg"]
    combos = {(c["detector"], c["recognizer"]): c for c in out["combinations"]}
    assert combos[("dlib", "Dlib")]["correct"] == 3
    assert combos[("dlib", "ArcFace")]["missing_file"] == "arcface_weights.h5"
    assert out["best"] == {"detector": "dlib", "recognizer": "Dlib"}


def test_cli_bad_input_exits_2(tmp_path, capsys):
    from emotion.cli import main

    bad, good = tmp_path / "x.jpg", tmp_path / "y.png"
    bad.write_text("not an image")
    good.write_bytes(b"\x89PNG\r\n\x1a\n")  # a PNG signature and nothing else
    rc = main(["compare", str(bad), str(good), "--detectors", "dlib", "--recognizers", "Dlib"])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("error: x.jpg:") and "Traceback" not in err
