"""Compare the models on the user's own photos: detector x recogniser tables, emotion classifiers side
by side, timed on this machine.

    compare(photos, same=(), options=CompareOptions(), progress=None, cancel=None) -> CompareResult
    to_json(result) / to_csv(result)          # with machine, library versions and date
    python -m emotion compare PHOTO PHOTO [...] [--same a.jpg,b.jpg] [--json | --csv]

Modules: `engine` (the run, cache use, progress and cancel), `availability` (which model can run and
why not), `results` (typed results), `cache` (bounded LRU), `export` (JSON/CSV and machine info).
"""
from __future__ import annotations

from emotion.compare.cache import DEFAULT_CACHE, LRUCache
from emotion.compare.engine import MAX_PHOTOS, MIN_PHOTOS, CompareError, CompareOptions, compare
from emotion.compare.export import machine_info, to_csv, to_json
from emotion.compare.results import ComboResult, CompareResult, ModelStatus

__all__ = ["compare", "CompareOptions", "CompareError", "CompareResult", "ComboResult", "ModelStatus",
           "LRUCache", "DEFAULT_CACHE", "MIN_PHOTOS", "MAX_PHOTOS", "to_json", "to_csv", "machine_info"]
