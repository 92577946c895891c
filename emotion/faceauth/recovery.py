"""Recovery codes: ten one-time codes that replace the face step, stored only as argon2id hashes.

    codes = new_codes()                  # shown to the user once
    hashes = [hash_code(c) for c in codes]
    i = find_code(typed, hashes)         # index of the matching unused hash, or None

A code is 10 characters of Crockford's base32 (50 random bits from `secrets`), shown as
``XXXXX-XXXXX``. What the user types is normalised first: case, spaces and dashes are ignored and
the look-alikes O->0, I/L->1 are folded, so a code read off paper still works. Input longer than
`MAX_INPUT` characters is refused before any hashing.
"""
from __future__ import annotations

import secrets
from typing import Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

N_CODES = 10
CODE_CHARS = 10
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
MAX_INPUT = 64
_FOLD = str.maketrans({"O": "0", "I": "1", "L": "1"})
_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile (as passwords)


def new_codes(n: int = N_CODES) -> list[str]:
    out: set[str] = set()
    while len(out) < n:
        raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_CHARS))
        out.add(f"{raw[:5]}-{raw[5:]}")
    return sorted(out)


def normalise(code: object) -> str | None:
    """The canonical 10 characters of a typed code, or None when it cannot be one."""
    if not isinstance(code, str) or len(code) > MAX_INPUT:
        return None
    s = "".join(ch for ch in code.upper() if ch not in " -\t").translate(_FOLD)
    if len(s) != CODE_CHARS or any(ch not in ALPHABET for ch in s):
        return None
    return s


def hash_code(code: str) -> str:
    norm = normalise(code)
    if norm is None:
        raise ValueError("not a recovery code")
    return _hasher.hash(norm)


def find_code(typed: object, hashes: Sequence[str]) -> int | None:
    """Index in `hashes` of the hash `typed` matches, or None (a malformed code costs no hashing)."""
    norm = normalise(typed)
    if norm is None:
        return None
    for i, h in enumerate(hashes):
        try:
            if _hasher.verify(h, norm):
                return i
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            continue
    return None
