"""What is known about the models in use: each one's measured figure (read from what the
measurement wrote, never typed in here) and the command that measures it.

`models_in_use(detector, recognizer, classifier)` -> one `ModelInUse` per role. A figure is None
when nothing measured was recorded for that model; the UI then says "not measured".
`classifier_paths(classifier)` -> what the photo path and the live path (camera and videos) run.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: the command that prints each role's figures (tools/ holds the developer-only measurements)
COMMANDS: dict[str, str] = {
    "detector": "python -m tools.measure_detectors",
    "landmarks": "python -m emotion bench",
    "recognizer": "python -m tools.measure_threshold",
    "classifier": "python -m emotion evaluate ../shared/data/fer2013/PublicTest.npz.xz",
}
LANDMARKS = "dlib68"
_OWN_CLASSIFIERS = {"fer_cnn": "fer_cnn", "fernet": "fer_cnn", "fer_vgg": "fer_vgg", "fer_vgg_int8": "fer_vgg"}


@dataclass(frozen=True)
class Figure:
    """A measured figure: `metric` names it (the UI translates it), `value` is a fraction for
    accuracies, `n` the number of test items."""

    metric: str
    value: float
    n: int | None = None


@dataclass(frozen=True)
class ModelInUse:
    role: str
    name: str
    figure: Figure | None
    command: str | None


def _classifier_metadata(name: str) -> dict[str, Any]:
    """The project-trained classifier's metadata (models/<name>.json), {} for any other."""
    module = _OWN_CLASSIFIERS.get(name.lower())
    if module is None:
        return {}
    if module == "fer_vgg":  # what each path runs: the pair's figure when its partner file is shipped
        from emotion.classify.fer_vgg import publictest_figures

        return {"publictest": publictest_figures(int8=name.lower() == "fer_vgg_int8")}
    try:
        mod = __import__(f"emotion.classify.{module}", fromlist=["read_metadata"])
        meta = mod.read_metadata()
    except Exception:  # noqa: BLE001 - a broken metadata file means "not measured", not a crash
        return {}
    return meta if isinstance(meta, dict) else {}


def classifier_figure(name: str) -> Figure | None:
    """FER2013 PublicTest accuracy as recorded by `python -m emotion evaluate` / training."""
    test = _classifier_metadata(name).get("publictest")
    if not isinstance(test, dict):
        return None
    acc = test.get("accuracy")
    if not isinstance(acc, (int, float)) or isinstance(acc, bool) or not 0 <= acc <= 100:
        return None
    n = test.get("n")
    return Figure("accuracy_fer2013", float(acc) / 100 if acc > 1 else float(acc),
                  int(n) if isinstance(n, int) and not isinstance(n, bool) else None)


def models_in_use(detector: str, recognizer: str, classifier: str) -> list[ModelInUse]:
    """The detector, landmark model, recogniser and emotion classifier of these settings."""
    return [
        ModelInUse("detector", detector, None, COMMANDS["detector"]),
        ModelInUse("landmarks", LANDMARKS, None, COMMANDS["landmarks"]),
        ModelInUse("recognizer", recognizer, None, COMMANDS["recognizer"]),
        ModelInUse("classifier", classifier, classifier_figure(classifier),
                   COMMANDS["classifier"] if classifier.lower() in _OWN_CLASSIFIERS else None),
    ]


@dataclass(frozen=True)
class ClassifierPath:
    """What one path runs: ``role`` "photo" or "live" (the camera and videos), the weight ``files`` and
    the ``weights`` their probabilities are averaged with, and the recorded figure of exactly that set-up
    (None when the record is of another one)."""

    role: str
    files: tuple[str, ...]
    figure: Figure | None
    weights: tuple[float, ...] = ()
    #: the test-time views each crop is scored in (a name of emotion.classify.views.VIEWS)
    views: str = "one"


def classifier_paths(classifier: Any) -> list[ClassifierPath]:
    """The photo path runs ``classifier`` as built (in its test-time views); the live path its plain twin
    (`emotion.live.smoothing.plain_twin`: one pass a frame, e.g. the int8 files), or the classifier
    itself when it has no TTA to spread."""
    from emotion.classify.views import recorded_views, views_name
    from emotion.live.smoothing import plain_twin

    twin = plain_twin(classifier)
    out = []
    for role, clf in (("photo", classifier), ("live", twin or classifier)):
        paths = list(getattr(clf, "member_paths", None) or [])
        weights = list(getattr(clf, "member_weights", None) or [])
        if not paths and getattr(clf, "path", None) is not None:
            paths = [clf.path]
        if len(weights) != len(paths):
            weights = [1.0] * len(paths)
        name = str(getattr(clf, "name", ""))
        meta = _classifier_metadata(name)
        test = meta.get("publictest")
        # a record without "views" or "tta" was measured as the model ships (its metadata's tta_flip, on
        # by default): the crop and its mirror image
        recorded = recorded_views(test, meta.get("tta_flip", True)) if isinstance(test, dict) else None
        views = getattr(clf, "views", None)
        running = views_name(views) if views else ("mirror" if getattr(clf, "tta", False) else "one")
        out.append(ClassifierPath(role, tuple(Path(p).name for p in paths),
                                  classifier_figure(name) if recorded == running else None, tuple(weights),
                                  running))
    return out
