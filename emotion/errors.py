"""Typed engine errors: every error a user may see has a stable ``code`` and its ``params``; the UI
translates the code (``ui.i18n.error_text``), the command line and the logs use the English text.

Codes are dotted: ``auth.*`` (sign-up and sign-in), ``store.*`` (database and names), ``image.*``
(unusable uploads). `MESSAGES` holds the English text of each code; a raise site may pass a more
specific English sentence, but the code and params alone must say the same thing.
"""
from __future__ import annotations

from typing import Any

__all__ = ["EngineError", "AuthError", "AccountLocked", "StoreError", "StoreUnavailable", "NameTaken",
           "PersonNotFound", "InvalidName", "ImageError", "MESSAGES"]

MESSAGES: dict[str, str] = {
    "auth.username_missing": "Please enter a user name.",
    "auth.username_length": "A user name has {min} to {max} characters.",
    "auth.username_spaces": "A user name cannot contain spaces.",
    "auth.username_chars": "A user name may only contain letters, digits and _ . -",
    "auth.password_missing": "Please enter a password.",
    "auth.password_short": "The password must have at least {min} characters.",
    "auth.password_long": "The password can have at most {max} characters.",
    "auth.password_mismatch": "The two passwords do not match.",
    "auth.name_taken": "That user name is already taken.",
    "auth.wrong_credentials": "Wrong user name or password.",
    "auth.locked": "Too many failed sign-ins: this account is locked for now. Please try again in about "
                   "{minutes} minute(s).",
    "auth.locked_later": "Too many failed sign-ins: this account is locked for now. Please try again later.",
    "store.unavailable": "The database is unreachable right now. Please try again in a moment.",
    "store.busy": "The database is busy with an upgrade; please try again in a minute.",
    "store.user_name_taken": "That user name is already taken.",
    "store.person_name_taken": "You already have someone called {name!r}.",
    "store.person_not_found": "That person does not exist (any more).",
    "store.no_user": "No user with id {user_id}.",
    "store.name_not_text": "A name must be text.",
    "store.name_empty": "A name cannot be empty.",
    "store.name_too_long": "A name can have at most {max} characters.",
    "store.name_control": "A name cannot contain control characters (tabs, line breaks...).",
    "image.none": "no image given",
    "image.empty": "the file is empty",
    "image.too_big_file": "the file is too large: {mb:.1f} MB (limit {limit_mb:.0f} MB)",
    "image.too_big_memory": "the image is too large to decode in the available memory",
    "image.too_many_pixels": "the image is too large: {width}x{height} = {megapixels:.1f} megapixels "
                             "(limit {limit:.0f} megapixels); resize it and try again",
    "image.bomb": "the image has too many pixels (over the {limit:.0f}-megapixel limit; a possible decompression bomb)",
    "image.no_pixels": "the image has no pixels ({width}x{height})",
    "image.html": "not an image: this is an HTML page (was a web page saved under an image name?)",
    "image.svg": "SVG/XML files are not supported; upload a JPEG, PNG, WebP, BMP or GIF",
    "image.pdf": "not an image: this is a PDF document",
    "image.unknown_format": "not an image: the file is not in a recognised image format (use JPEG, PNG, WebP, BMP or GIF)",
    "image.truncated": "the image file is truncated or corrupt ({detail})",
    "image.undecodable": "could not decode the image ({detail})",
    "image.not_found": "file not found: {name}",
    "image.not_a_file": "not a file: {name}",
    "image.unreadable": "cannot read {name}: {detail}",
    "image.bad_source": "unsupported image source: {detail}",
    "image.bad_array": "not an image array ({detail})",
}


class EngineError(Exception):
    """An error with a `code` (a key of `MESSAGES`) and the `params` its message needs.

    ``str(e)`` is the English sentence (`message`, else the code's text filled with `params`)."""

    def __init__(self, code: str, message: str | None = None, /, **params: Any) -> None:
        self.code = code
        self.params = params
        if message is None:
            template = MESSAGES.get(code, code)
            try:
                message = template.format(**params)
            except (KeyError, IndexError, ValueError):
                message = template
        super().__init__(message)


# ---- accounts ------------------------------------------------------------------------------------

class AuthError(EngineError):
    """Sign-up or sign-in refused (``auth.*``)."""


class AccountLocked(AuthError):
    """Too many failed sign-ins: the account is locked until `until` (aware UTC); ``params["minutes"]``
    is the time left, rounded up (code ``auth.locked``; ``auth.locked_later`` when unknown)."""

    def __init__(self, until: Any, now: Any = None) -> None:
        import math
        from datetime import datetime, timezone

        self.until = until
        if until is None:
            super().__init__("auth.locked_later")
            return
        left = (until - (now or datetime.now(timezone.utc))).total_seconds()
        minutes = max(1, math.ceil(left / 60))
        super().__init__("auth.locked", "Too many failed sign-ins: this account is locked for now. Please try again "
                         f"in about {minutes} minute{'s' if minutes != 1 else ''}.", minutes=minutes)


# ---- the store -----------------------------------------------------------------------------------

class StoreError(EngineError):
    """Base class of the store's own errors (``store.*``)."""


class StoreUnavailable(StoreError):
    """The database cannot be reached (down, wrong address, timeout, locked for too long).

    ``e.detail`` is the driver's message, for the log only."""

    def __init__(self, message: str | None = None, detail: str | None = None, *,
                 code: str = "store.unavailable") -> None:
        super().__init__(code, message)
        self.detail = detail


class NameTaken(StoreError, ValueError):
    """A user name (case-insensitive) or a person's name (per user, case-insensitive) is in use."""


class PersonNotFound(StoreError, LookupError):
    """The person does not exist or belongs to another user."""


class InvalidName(StoreError, ValueError):
    """A person's name cannot be stored as given (empty, too long, control characters)."""


# ---- images --------------------------------------------------------------------------------------

class ImageError(EngineError, ValueError):
    """The input cannot be used as an image (``image.*``); ``str(e)`` is the English sentence."""
