"""The Compare tab's parts that need no browser: labels in both languages, the heatmaps (escaping,
colours, greyed models), the background job (progress, cancel while waiting), the person guess.

Results for the chart tests are built as data (`emotion.compare.results` dataclasses) so that each
cell's expected value is known; the engine itself is tested on real models in tests/test_compare.py.
"""
from __future__ import annotations

import math
import re
import time
from pathlib import Path

import numpy as np
import pytest

from emotion.compare import results as R

ROOT = Path(__file__).resolve().parent.parent


def _t(key: str, **fields) -> str:
    from ui.i18n_compare import EN

    return EN.get(key, key).format(**fields) if fields else EN.get(key, key)


def _result(photo_names=("ann_1.jpg", "ann_2.jpg", "<b>bob</b>&.jpg")) -> R.CompareResult:
    photos = [R.PhotoInfo(n, f"d{i}", 100, 100, person) for i, (n, person) in enumerate(zip(photo_names, (0, 0, 1)))]
    res = R.CompareResult("digest", photos, {})
    res.detectors = [R.DetectorResult(R.ModelStatus("detector", "dlib", True),
                                      [R.PhotoDetection(n, 1, 10.0) for n in photo_names]),
                     R.DetectorResult(R.ModelStatus("detector", "ssd", False, R.REASON_WEIGHTS_MISSING,
                                                    "weights file deploy.prototxt is not present",
                                                    "deploy.prototxt", "/x/.deepface/weights"))]
    res.recognizers = [R.ModelStatus("recognizer", "Dlib", True, metric="euclidean_l2", threshold=0.4),
                       R.ModelStatus("recognizer", "ArcFace", False, R.REASON_WEIGHTS_MISSING, "missing",
                                     "arcface_weights.h5", "/x/.deepface/weights")]
    a, b, c = photo_names
    res.combos = [
        R.ComboResult("dlib", "Dlib", True, metric="euclidean_l2", threshold=0.4,
                      pairs=[R.PairResult(a, b, True, 0.1), R.PairResult(a, c, False, 0.3),
                             R.PairResult(b, c, False, 0.6)]),
        R.ComboResult("dlib", "ArcFace", False, R.REASON_WEIGHTS_MISSING, "missing", "arcface_weights.h5"),
        R.ComboResult("ssd", "Dlib", False, R.REASON_DETECTOR_UNUSABLE, "detector ssd: missing"),
        R.ComboResult("ssd", "ArcFace", False, R.REASON_WEIGHTS_MISSING, "missing", "arcface_weights.h5"),
    ]
    return res


# ----------------------------------------------------------------------------- labels
def test_every_label_in_both_languages():
    from ui.i18n_compare import EN, ZH

    assert set(EN) == set(ZH)
    assert all(k.startswith("cmp_") for k in EN)
    for k in EN:  # the same fields in both languages, and a real translation
        assert set(re.findall(r"{(\w+)", EN[k])) == set(re.findall(r"{(\w+)", ZH[k])), k
    untranslated = [k for k in EN if EN[k] == ZH[k] and re.search(r"[A-Za-z]{3}", EN[k])]
    assert untranslated == []


def test_every_label_the_tab_uses_exists():
    from emotion.compare import engine
    from ui.i18n_compare import EN

    used = set()
    for f in ("ui/compare_view.py", "ui/compare_charts.py"):
        used |= set(re.findall(r"t\(\"(cmp_\w+)\"", (ROOT / f).read_text()))
    codes = {v for k, v in vars(R).items() if k.startswith("REASON_")}
    used |= {f"cmp_reason_{c}" for c in codes} | {f"cmp_stage_{s}" for s in ("detect", "embed", "classify")}
    used |= {f"cmp_role_{r}" for r in ("detector", "recognizer", "classifier")}
    errors = set(re.findall(r"CompareError\(\"(\w+)\"", (ROOT / "emotion/compare/engine.py").read_text()))
    errors |= set(re.findall(r"CompareError\(\"(\w+)\"", (ROOT / "ui/compare_jobs.py").read_text()))
    assert errors == {"photo_count", "duplicate_name", "bad_photo", "unknown_photo", "internal"}
    used |= {f"cmp_error_{c}" for c in errors}
    assert len(used) > 40 and engine.MAX_PHOTOS == 10
    assert sorted(used - set(EN)) == []


# ----------------------------------------------------------------------------- charts
def test_pair_heatmap_colours_right_and_wrong_and_greys_what_cannot_run():
    from ui import compare_charts as charts

    res = _result()
    a, b, c = (p.name for p in res.photos)
    z, dist, ok = charts.pair_matrix(res, a, b)  # same person at 0.1 < 0.4: right, by 0.75 thresholds
    assert z.shape == (2, 2)
    assert z[0, 0] == pytest.approx(0.75) and ok[0][0] is True and dist[0][0] == pytest.approx(0.1)
    assert math.isnan(z[0, 1]) and math.isnan(z[1, 0]) and math.isnan(z[1, 1])
    z, _, ok = charts.pair_matrix(res, a, c)  # different people at 0.3 < 0.4: wrong
    assert z[0, 0] == pytest.approx(-0.25) and ok[0][0] is False
    z, _, ok = charts.pair_matrix(res, c, b)  # order does not matter; 0.6 > 0.4: right
    assert z[0, 0] == pytest.approx(0.5) and ok[0][0] is True

    fig = charts.pair_figure(res, a, c, _t)
    heat = fig.data[0]
    assert heat.text[0][0] == "0.300 ✗"
    assert heat.text[0][1] == "n/a" and heat.text[1][0] == "n/a"
    assert "arcface_weights.h5" in heat.customdata[0][1]
    assert list(heat.x) == ["Dlib<br>thr 0.40", "ArcFace<br>thr -"]
    assert (heat.zmin, heat.zmid, heat.zmax) == (-1.0, 0.0, 1.0)


def test_names_are_escaped_in_chart_labels():
    from ui import compare_charts as charts

    res = _result()
    a, _, c = (p.name for p in res.photos)
    title = charts.pair_figure(res, a, c, _t).layout.title.text
    assert "&lt;b&gt;bob&lt;/b&gt;&amp;.jpg" in title and "<b>bob" not in title
    res.detectors[0].status.name = "<i>det</i>"
    for combo in res.combos:
        combo.detector = "<i>det</i>" if combo.detector == "dlib" else combo.detector
    fig = charts.overview_figure(res, _t)
    assert list(fig.data[0].y) == ["&lt;i&gt;det&lt;/i&gt;", "ssd"]
    assert charts.label("x" * 100).endswith("…") and len(charts.label("x" * 100)) == charts.MAX_LABEL


def test_overview_counts_pairs_right():
    from ui import compare_charts as charts

    z, text = charts.overview_matrix(_result())
    assert z[0, 0] == pytest.approx(2 / 3) and text[0][0] == "2/3"
    assert np.isnan(z[1]).all()


def test_unavailable_rows_name_the_file_and_folder():
    from ui import compare_charts as charts

    rows = charts.unavailable_rows(_result(), _t)
    assert [(r["model"], r["file"]) for r in rows] == [("ssd", "deploy.prototxt"), ("ArcFace", "arcface_weights.h5")]
    assert rows[1]["reason"] == "weights file arcface_weights.h5 is not installed"
    assert rows[0]["folder"] == "/x/.deepface/weights"


# ----------------------------------------------------------------------------- the background job
def _poll(cond, timeout=60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.02)
    return False


def test_job_waits_for_a_slot_and_can_be_cancelled_while_waiting():
    from ui import compare_jobs

    assert compare_jobs._SLOTS.acquire(timeout=5)
    try:
        job = compare_jobs.CompareJob([("a.png", np.zeros((32, 32, 3), np.uint8))] * 2, []).start()
        assert _poll(lambda: job.waiting)
        job.cancel.set()
        assert job.wait(10)
        assert job.result is None and job.error is None and not job.waiting
    finally:
        compare_jobs._SLOTS.release()


def test_job_reports_bad_input_as_an_error_code():
    from ui import compare_jobs

    job = compare_jobs.CompareJob([("a.png", b"not an image"), ("b.png", b"nor this")], []).start()
    assert job.wait(30)
    assert job.error is not None and job.error.code == "bad_photo" and job.error.params["name"] == "a.png"


def test_job_runs_the_comparison_with_progress(astronaut_bgr):
    from emotion.compare import CompareOptions
    from ui import compare_jobs

    seen = []
    job = compare_jobs.CompareJob([("a.png", astronaut_bgr), ("m.png", np.ascontiguousarray(astronaut_bgr[:, ::-1]))],
                                  [["a.png", "m.png"]], CompareOptions(detectors=("dlib",), recognizers=("Dlib",),
                                                                       classifiers=("fer_cnn",)))
    orig = job._progress
    job._progress = lambda *a: (seen.append(a[:3]), orig(*a))
    job.start()
    assert job.wait(120)
    assert job.error is None
    combo = job.result.combo("dlib", "Dlib")
    assert combo.pairs[0].correct(combo.threshold) is True
    assert seen[-1][:2] == (2 + 1 + 2, 5) and job.fraction() == 1.0
    assert job._photos is None  # the uploads are released


# ----------------------------------------------------------------------------- the tab's helpers
@pytest.mark.parametrize("names, letters", [
    (["Ann_Lee_0001.jpg", "Ann_Lee_0002.jpg", "Bob_0001.jpg"], ["A", "A", "B"]),
    (["x.png", "y.png"], ["A", "B"]),
    (["me (1).jpg", "me (2).jpg", "me-3.jpg", "you.jpg"], ["A", "A", "A", "B"]),
])
def test_guess_people_from_file_names(names, letters):
    from ui.compare_view import guess_people

    assert guess_people(names) == letters


def test_unique_names():
    from ui.compare_view import unique_names

    assert unique_names(["a.jpg", "a.jpg", "b", "b"]) == ["a.jpg", "a (2).jpg", "b", "b (2)"]



def test_job_cancel_reaches_the_comparison_process(astronaut_bgr):
    from emotion.compare import CompareOptions
    from ui import compare_jobs

    photos = [(f"{k}.png", np.ascontiguousarray(np.roll(astronaut_bgr, 7 * k, axis=1))) for k in range(4)]  # uncached
    job = compare_jobs.CompareJob(photos, [], CompareOptions(detectors=("dlib", "opencv"), recognizers=("Dlib",),
                                                             classifiers=("fer_cnn",))).start()
    assert _poll(lambda: job.done >= 1, timeout=120)
    job.cancel.set()
    assert job.wait(120)
    assert job.error is None and job.result.cancelled
    assert [c.reason_code for c in job.result.combos] == ["not_run", "not_run"]
    assert len(job.result.detectors[0].photos) < 4 or job.result.detectors[1].photos == []


def test_classifier_agreement_and_rows():
    from ui import compare_charts as charts

    happy, sad = np.eye(7, dtype=np.float32)[3], np.eye(7, dtype=np.float32)[4]
    res = _result()
    res.classifiers = R.ClassifierComparison("dlib", [R.ModelStatus("classifier", "fer_cnn", True),
                                                      R.ModelStatus("classifier", "deepface", True)])
    res.classifiers.faces = [R.FaceScores("ann_1.jpg", 0, (0, 0, 9, 9), {"fer_cnn": happy, "deepface": happy}),
                             R.FaceScores("ann_2.jpg", 0, (0, 0, 9, 9), {"fer_cnn": happy, "deepface": sad})]
    assert [f.agree for f in res.classifiers.faces] == [True, False]
    assert res.classifiers.agreement == pytest.approx(0.5)
    rows, names = charts.classifier_rows(res)
    assert names == ["fer_cnn", "deepface"]
    assert [(r["fer_cnn"], r["deepface"], r["agree"]) for r in rows] == [("happy 1.00", "happy 1.00", True),
                                                                        ("happy 1.00", "sad 1.00", False)]
