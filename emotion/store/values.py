"""Input normalisation shared by the repositories: name keys, person names, date bounds."""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from typing import Any

from emotion.records import UNKNOWN
from emotion.store.errors import InvalidName
from emotion.store.limits import PERSON_NAME_MAX
from emotion.store.schema import _to_utc


def _end_bound(end: datetime | date) -> datetime:
    """Exclusive upper bound: a datetime as is; a plain date includes that whole (UTC) day."""
    if not isinstance(end, datetime):
        return _to_utc(end) + timedelta(days=1)
    return _to_utc(end)


def _is_unknown(person: Any) -> bool:
    return isinstance(person, str) and person.strip().casefold() == UNKNOWN.casefold()


def _name_key(name: str) -> str:
    return unicodedata.normalize("NFC", name).casefold()


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _clean_person_name(name: str) -> str:
    if not isinstance(name, str):
        raise InvalidName("store.name_not_text")
    name = unicodedata.normalize("NFC", name).strip()
    if not name:
        raise InvalidName("store.name_empty")
    if len(name) > PERSON_NAME_MAX:
        raise InvalidName("store.name_too_long", max=PERSON_NAME_MAX)
    if _CONTROL.search(name):
        raise InvalidName("store.name_control")
    return name

