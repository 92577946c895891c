"""The database-outage guard: `db_guard` turns StoreUnavailable into one plain message and the page carries on."""
from __future__ import annotations

import contextlib

import streamlit as st

from emotion.store import StoreUnavailable
from ui.i18n import t


_DB_FAILED_KEY = "_db_failed_this_run"
_DB_ERROR_SHOWN_KEY = "_db_error_shown"


def reset_outage() -> None:
    """Start of a run: the database gets a new chance, and its error may be shown again."""
    st.session_state[_DB_ERROR_SHOWN_KEY] = False
    st.session_state[_DB_FAILED_KEY] = False


def database_failed_this_run() -> bool:
    """True once a database call failed in this run (later calls then fail at once)."""
    return bool(st.session_state.get(_DB_FAILED_KEY))


class db_guard(contextlib.ContextDecorator):
    """Turns StoreUnavailable into one plain ``st.error`` and lets the page carry on rendering.

        with db_guard() as guard:
            people = get_store().list_people(user["id"])
        if guard.failed:
            people = []

    As a decorator the wrapped function returns None when the database is unreachable. Widget values
    live in session_state and are never cleared here, so what the user typed is still there."""

    def __init__(self, message: str | None = None, *, show: bool = True):
        self.message = message
        self.show = show
        self.failed = False
        self.error: BaseException | None = None

    def __enter__(self) -> "db_guard":
        self.failed = False
        self.error = None
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None and issubclass(exc_type, StoreUnavailable):
            self.failed = True
            self.error = exc
            st.session_state[_DB_FAILED_KEY] = True
            if self.show:
                show_db_error(self.message)
            return True
        return False


def show_db_error(message: str | None = None) -> None:
    """The "database is unreachable" message; shown once per run however many calls fail."""
    if message is None and st.session_state.get(_DB_ERROR_SHOWN_KEY):
        return
    st.session_state[_DB_ERROR_SHOWN_KEY] = True
    st.error(message or t("db_unreachable"), icon=":material/cloud_off:")

