"""What is known about the models in use: each one's measured figure (read from what the
measurement wrote, never typed in here) and the command that measures it.

`models_in_use(detector, recognizer, classifier)` -> one `ModelInUse` per role. A figure is None
when nothing measured was recorded for that model; the UI then says "not measured".
"""
from __future__ import annotations

from dataclasses import dataclass
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
    try:
        mod = __import__(f"emotion.classify.{module}", fromlist=["read_metadata"])
        meta = mod.read_metadata()
    except Exception:  # noqa: BLE001 - a broken metadata file means "not measured", not a crash
        return {}
    if name.lower() == "fer_vgg" and isinstance(meta, dict) and isinstance(meta.get("photo_path"), dict):
        # the photo path averages fer_vgg.onnx with its partner file when that is shipped: the pair's figure
        from emotion.classify.fer_vgg import PARTNER_FILE, model_path

        if (model_path().parent / PARTNER_FILE).is_file():
            meta = {**meta, "publictest": meta["photo_path"].get("publictest")}
    if name.lower() == "fer_vgg_int8":  # the live path's int8 file: its own, single-pass figure
        meta = {"publictest": (meta.get("int8") or {}).get("publictest_no_tta")} if isinstance(meta, dict) else {}
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
