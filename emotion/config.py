"""Paths and settings shared by the engine. Everything can be overridden by environment variables."""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = Path(os.environ.get("EMOTION_MODELS_DIR", PROJECT_ROOT / "models"))
#: where the app keeps its SQLite file and DeepFace's weight folder (git-ignored)
DATA_DIR = Path(os.environ.get("EMOTION_DATA_DIR", PROJECT_ROOT / "data"))
#: FER2013 splits (Training.npz.xz, PublicTest.npz.xz); the sibling shared/ folder by default
FER2013_DIR = Path(os.environ.get("FER2013_DIR", PROJECT_ROOT.parent / "shared" / "data" / "fer2013"))
