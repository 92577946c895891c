"""Process-wide cached resources: the Store, the Analyzer per model choice, recogniser defaults, each user's gallery.

Models and the Store are built once per process (``st.cache_resource``); nothing loads per rerun."""
from __future__ import annotations

from typing import Any

import streamlit as st

from ui.app_config import database_url
from ui.i18n import t
from ui.outage import database_failed_this_run
from ui.user_settings import RECOGNIZER, Settings, get_settings


@st.cache_resource(show_spinner=False)
def _store_for(url: str | None):
    from emotion.store import open_store

    return open_store(url, migrate=True)


def get_store():
    """The process-wide Store for the configured URL, migrated. Raises StoreUnavailable (not cached,
    so the next rerun tries again) when the database cannot be reached. Once it failed in a run,
    later calls in the same run fail at once instead of waiting for another connect timeout."""
    if database_failed_this_run():
        from emotion.store import StoreUnavailable

        raise StoreUnavailable()
    return _store_for(database_url())


@st.cache_resource(show_spinner=False, max_entries=4)
def _analyzer_for(detector: str, recognizer: str, classifier: str):
    from emotion.pipeline import Analyzer

    return Analyzer(detector=detector or None, recognizer=recognizer, classifier=classifier)


@st.cache_resource(show_spinner=False)
def _loaded_analyzers() -> set:
    return set()


def get_analyzer(settings: Settings | None = None):
    """The cached Analyzer for these settings (the user's when None). The first call in the process
    shows a spinner while the models load; later calls are free."""
    key = (settings or get_settings()).analyzer_key()
    loaded = _loaded_analyzers()
    if key in loaded:
        return _analyzer_for(*key)
    with st.spinner(t("loading_models"), show_time=True):
        analyzer = _analyzer_for(*key)
    loaded.add(key)
    return analyzer


@st.cache_resource(show_spinner=False)
def _recognizer_defaults(name: str) -> tuple[str, float]:
    """(metric, default threshold) of a recogniser, read from the engine's cached instance."""
    from emotion.registry import get_recognizer

    rec = get_recognizer(name)
    return str(rec.metric), float(rec.threshold)


def recognizer_defaults(name: str = RECOGNIZER) -> tuple[str, float] | None:
    """(metric, default threshold) or None when the recogniser cannot be loaded."""
    try:
        return _recognizer_defaults(name)
    except Exception:  # a broken model install must not take the Settings page down
        return None


# ---------------------------------------------------------------------------------------------------
# The user's gallery of known faces, cached per user and invalidated when People changes
# ---------------------------------------------------------------------------------------------------

@st.cache_resource(show_spinner=False)
def _gallery_versions() -> dict:
    return {}


def make_gallery(entries: Any, recognizer: str, threshold: float | None):
    """A `Gallery` from the store's ``(person_id, name, vector)`` entries (or a Gallery), using the
    recogniser's metric and the given threshold (its own default when None)."""
    from emotion.recognize.gallery import Gallery

    if isinstance(entries, Gallery):
        return entries.with_threshold(threshold) if threshold is not None else entries
    metric, default = _recognizer_defaults(recognizer)
    return Gallery(list(entries), metric=metric, threshold=default if threshold is None else float(threshold))


@st.cache_resource(show_spinner=False, max_entries=256)
def _gallery_for(url: str | None, user_id: int, model_name: str, threshold: float | None, version: int):
    return make_gallery(get_store().gallery(user_id, model_name), model_name, threshold)


def get_gallery(user_id: int, settings: Settings | None = None):
    """The user's Gallery for the recogniser in `settings`, with their threshold applied. Raises
    StoreUnavailable when the database cannot be reached."""
    s = settings or get_settings()
    version = _gallery_versions().get(user_id, 0)
    return _gallery_for(database_url(), int(user_id), s.recognizer, s.threshold, version)


def gallery_version(user_id: int) -> int:
    return _gallery_versions().get(user_id, 0)


def invalidate_gallery(user_id: int) -> None:
    """Call after any change to the user's people or embeddings."""
    versions = _gallery_versions()
    versions[user_id] = versions.get(user_id, 0) + 1

