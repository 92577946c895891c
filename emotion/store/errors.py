"""The store's errors (defined with every other typed engine error in `emotion.errors`)."""
from __future__ import annotations

from emotion.errors import InvalidName, NameTaken, PersonNotFound, StoreError, StoreUnavailable

__all__ = ["StoreError", "StoreUnavailable", "NameTaken", "PersonNotFound", "InvalidName"]
