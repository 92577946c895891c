"""A bounded, thread-safe LRU cache for the comparison's work units and whole results.

Keys are tuples of digests and model names (e.g. ``("faces", photo_digest, "dlib")``), so a rerun with
the same photos, or with one setting changed, reuses every unit that setting does not touch. Memory is
bounded twice: by the number of entries and by an estimate of their bytes (numpy arrays count their
``nbytes``); the least recently used entries are dropped first. An entry larger than the whole byte
budget is not stored at all.
"""
from __future__ import annotations

import hashlib
import os
import sys
import threading
from collections import OrderedDict
from typing import Any, Hashable

import numpy as np

#: defaults (env overrides): 2,000 entries, 128 MB
MAX_ENTRIES = int(os.environ.get("EMOTION_COMPARE_CACHE_ENTRIES", 2000))
MAX_BYTES = int(os.environ.get("EMOTION_COMPARE_CACHE_BYTES", 128 * 1000 * 1000))


def size_of(obj: Any, _depth: int = 0) -> int:
    """A rough byte size: numpy buffers, strings and containers (recursively, a few levels deep)."""
    if isinstance(obj, np.ndarray):
        return int(obj.nbytes) + 112
    if _depth > 6:
        return 64
    if isinstance(obj, (list, tuple, set, frozenset)):
        return 56 + sum(size_of(x, _depth + 1) for x in obj)
    if isinstance(obj, dict):
        return 232 + sum(size_of(k, _depth + 1) + size_of(v, _depth + 1) for k, v in obj.items())
    if hasattr(obj, "__dict__"):
        return 64 + size_of(vars(obj), _depth + 1)
    return sys.getsizeof(obj)


def digest_bytes(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for p in parts:
        b = p.encode("utf-8") if isinstance(p, str) else bytes(p)
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()


def digest_image(bgr: np.ndarray) -> str:
    """A digest of an image's pixels (shape included): the same picture under another name is the same."""
    return digest_bytes(repr(bgr.shape), np.ascontiguousarray(bgr).tobytes())


class LRUCache:
    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self.max_entries = int(max_entries)
        self.max_bytes = int(max_bytes)
        self._data: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._data)

    @property
    def nbytes(self) -> int:
        return self._bytes

    def get(self, key: Hashable, default: Any = None) -> Any:
        with self._lock:
            item = self._data.get(key)
            if item is None:
                self.misses += 1
                return default
            self._data.move_to_end(key)
            self.hits += 1
            return item[0]

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._data

    def put(self, key: Hashable, value: Any) -> None:
        size = size_of(value)
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            if size > self.max_bytes:
                return
            self._data[key] = (value, size)
            self._bytes += size
            while self._data and (len(self._data) > self.max_entries or self._bytes > self.max_bytes):
                _, (_, s) = self._data.popitem(last=False)
                self._bytes -= s

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._bytes = 0


#: the process-wide cache the comparison uses unless given another
DEFAULT_CACHE = LRUCache()
