"""CSV cells made safe for spreadsheets (formula injection): the one implementation the exports share.

A text cell starting with ``= + - @``, a tab or a carriage return gets a leading ``'`` so that a
spreadsheet shows it as text instead of running it (names come from users). Numbers pass through (a
negative number is not text and is left alone).
"""
from __future__ import annotations

from typing import Any

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: Any) -> Any:
    """`value` made safe for a spreadsheet cell (text only; numbers pass through)."""
    if isinstance(value, str) and value.startswith(DANGEROUS_PREFIXES):
        return "'" + value
    return value
