"""The store's own errors: the database is unreachable, a name is taken, a person is not the user's."""
from __future__ import annotations


class StoreError(Exception):
    """Base class of the store's own errors; ``str(e)`` is meant for humans."""


class StoreUnavailable(StoreError):
    """The database cannot be reached (down, wrong address, timeout, locked for too long).

    ``str(e)`` is a sentence for the page; ``e.detail`` the driver's message for the log."""

    def __init__(self, message: str = "The database is unreachable right now. Please try again in a moment.",
                 detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail


class NameTaken(StoreError, ValueError):
    """A user name (case-insensitive) or a person's name (per user, case-insensitive) is in use."""


class PersonNotFound(StoreError, LookupError):
    """The person does not exist or belongs to another user."""

