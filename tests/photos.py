"""The real photos the tests read in place (never copied into the repository): ../shared/data/photos
beside the checkout, EMOTION_PHOTOS_DIR overrides. A missing photo skips the test, or fails it under
CI=true, where the data set is part of the test environment."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from emotion.config import PROJECT_ROOT

PHOTOS = Path(os.environ.get("EMOTION_PHOTOS_DIR", PROJECT_ROOT.parent / "shared" / "data" / "photos"))


def under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def missing(msg: str) -> None:
    """Skip the test, or fail it under CI=true (where the photos must be present)."""
    if under_ci():
        pytest.fail(f"{msg}; CI=true: the shared photos must be present")
    pytest.skip(msg)


def real_photo(rel: str) -> Path:
    """The path of a real photo, `rel` below the photos folder; skips/fails (see `missing`) without it."""
    path = PHOTOS / rel
    if not path.is_file():
        missing(f"real photo {path} missing (../shared/data/photos; set EMOTION_PHOTOS_DIR)")
    return path
