"""The engine's settings, read once from the environment into one frozen `AppConfig` (`CONFIG`).

Every threshold, default model and path has one source here; modules read `CONFIG` (or the path
constants below, kept for existing imports) instead of the environment.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError:
        return default


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    return int(_float(env, name, default))


@dataclass(frozen=True)
class AppConfig:
    """Paths, default models and thresholds (environment variable in brackets)."""

    #: trained weights (EMOTION_MODELS_DIR; models/)
    models_dir: Path
    #: the SQLite file and DeepFace's weight folder, git-ignored (EMOTION_DATA_DIR; data/)
    data_dir: Path
    #: FER2013 splits, Training.npz.xz / PublicTest.npz.xz (FER2013_DIR; ../shared/data/fer2013)
    fer2013_dir: Path
    #: the photo detector (EMOTION_DETECTOR); measurements behind the choice in emotion/detect/__init__.py
    detector: str = "blazeface_multi"
    #: the live camera's detector (EMOTION_FAST_DETECTOR)
    fast_detector: str = "blazeface_live"
    #: the recogniser (EMOTION_RECOGNIZER)
    recognizer: str = "Dlib"
    #: the emotion classifier (EMOTION_CLASSIFIER; "fernet" is read as "fer_cnn"): fer_vgg, round 2, beat
    #: fer_cnn on FER2013 PublicTest (64.2 vs 62.2 %) and on real photos (wild_dev 54.4 vs 53.6 %); since
    #: round 6 its photo path averages fer_vgg.onnx with fer_kd.onnx (65.0 %, wild_dev 55.2 %)
    classifier: str = "fer_vgg"
    #: Dlib recogniser's match distance (EMOTION_RECOGNITION_THRESHOLD), measured by tools/measure_threshold.py
    recognition_threshold: float = 0.40
    #: images larger than this are refused (EMOTION_MAX_PIXELS, EMOTION_MAX_BYTES)
    max_pixels: int = 40_000_000
    max_bytes: int = 25 * 1000 * 1000
    #: ONNX Runtime threads of the emotion classifier (EMOTION_ORT_THREADS)
    ort_threads: int = 1
    #: LiteRT threads of the photo detector's passes (EMOTION_DETECTOR_THREADS): 2 halves the wall time
    #: of its ~90 tile passes on the 2-core machine (the live detector keeps 1)
    detector_threads: int = 2

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AppConfig:
        env = os.environ if env is None else env
        classifier = (env.get("EMOTION_CLASSIFIER") or cls.classifier).strip().lower()
        return cls(
            models_dir=Path(env.get("EMOTION_MODELS_DIR") or PROJECT_ROOT / "models"),
            data_dir=Path(env.get("EMOTION_DATA_DIR") or PROJECT_ROOT / "data"),
            fer2013_dir=Path(env.get("FER2013_DIR") or PROJECT_ROOT.parent / "shared" / "data" / "fer2013"),
            detector=(env.get("EMOTION_DETECTOR") or cls.detector).strip().lower(),
            fast_detector=(env.get("EMOTION_FAST_DETECTOR") or cls.fast_detector).strip().lower(),
            recognizer=(env.get("EMOTION_RECOGNIZER") or cls.recognizer).strip(),
            classifier="fer_cnn" if classifier == "fernet" else classifier,
            recognition_threshold=_float(env, "EMOTION_RECOGNITION_THRESHOLD", cls.recognition_threshold),
            max_pixels=_int(env, "EMOTION_MAX_PIXELS", cls.max_pixels),
            max_bytes=_int(env, "EMOTION_MAX_BYTES", cls.max_bytes),
            ort_threads=max(1, _int(env, "EMOTION_ORT_THREADS", cls.ort_threads)),
            detector_threads=max(1, _int(env, "EMOTION_DETECTOR_THREADS", cls.detector_threads)),
        )


#: the settings of this process, read once at import
CONFIG = AppConfig.from_env()

MODELS_DIR = CONFIG.models_dir
DATA_DIR = CONFIG.data_dir
FER2013_DIR = CONFIG.fer2013_dir
