"""Settings repository: each user's settings as one small JSON object of key -> value.

The store knows nothing about which settings exist (the UI's `ui.user_settings` does, with the
defaults from `emotion.config.AppConfig`): it keeps a flat object of string keys and plain JSON
values (str, int, float, bool, None), at most `SETTINGS_MAX_KEYS` keys and `SETTINGS_MAX_BYTES`
bytes, so later features add keys without a migration. A malformed stored value reads as {}.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from emotion.store.schema import UserSettingsRow

SETTINGS_MAX_BYTES = 16 * 1024
SETTINGS_MAX_KEYS = 100
SETTINGS_KEY_MAX = 64
_SCALARS = (str, int, float, bool, type(None))


def clean_settings(values: Mapping[str, Any]) -> dict[str, Any]:
    """The settings as a JSON-safe dict; ValueError for anything else (nested values, NaN, long
    keys, too many keys, too many bytes)."""
    if not isinstance(values, Mapping):
        raise ValueError("Settings must be a mapping of names to values.")
    if len(values) > SETTINGS_MAX_KEYS:
        raise ValueError(f"At most {SETTINGS_MAX_KEYS} settings.")
    out: dict[str, Any] = {}
    for key, value in values.items():
        if not isinstance(key, str) or not key or len(key) > SETTINGS_KEY_MAX:
            raise ValueError(f"A setting's name must be 1 to {SETTINGS_KEY_MAX} characters.")
        if not isinstance(value, _SCALARS):
            raise ValueError(f"The setting {key!r} must be a string, number, true/false or empty.")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"The setting {key!r} must be a finite number.")
        out[key] = value
    if len(_dump(out).encode("utf-8")) > SETTINGS_MAX_BYTES:
        raise ValueError(f"The settings are larger than {SETTINGS_MAX_BYTES // 1024} KiB.")
    return out


def _dump(values: Mapping[str, Any]) -> str:
    return json.dumps(values, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _load(text: str | None) -> dict[str, Any]:
    try:
        data = json.loads(text or "{}")
    except (TypeError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    try:
        return clean_settings(data)
    except ValueError:
        return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, _SCALARS)}


class SettingsRepository:
    # ---- user settings ----------------------------------------------------------------------

    def get_settings(self, user_id: int) -> dict[str, Any]:
        """The user's saved settings ({} when none were saved)."""
        with self._session() as s:
            text = s.scalar(select(UserSettingsRow.data).where(UserSettingsRow.user_id == user_id))
        return _load(text)

    def save_settings(self, user_id: int, values: Mapping[str, Any], *, merge: bool = True) -> dict[str, Any]:
        """Save the user's settings (merged into what is saved unless `merge=False`, where they
        replace it); returns what is now saved. ValueError for malformed settings."""
        values = clean_settings(values)
        for attempt in (1, 2):
            try:
                with self._session(write=True) as s:
                    row = s.get(UserSettingsRow, user_id)
                    current = _load(row.data) if (row is not None and merge) else {}
                    current.update(values)
                    data = _dump(clean_settings(current))
                    if row is None:
                        s.add(UserSettingsRow(user_id=user_id, data=data, updated=self._now()))
                    else:
                        row.data = data
                        row.updated = self._now()
                return _load(data)
            except IntegrityError:
                if attempt == 2:  # pragma: no cover - only a concurrent first save can get here twice
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def clear_settings(self, user_id: int) -> bool:
        """Forget the user's settings (back to the defaults); True when there were some."""
        with self._session(write=True) as s:
            row = s.get(UserSettingsRow, user_id)
            if row is None:
                return False
            s.delete(row)
            return True
