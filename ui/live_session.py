"""This session's live-camera analyser: built with the cached Analyzer, the user's gallery refreshed in
the background and a history writer to the store, rebuilt when the user or the models change."""
from __future__ import annotations

import streamlit as st

from ui import app_config, outage, resources, user_settings
from ui.i18n import t

STREAM_KEY = "live_stream"
STREAM_ID_KEY = "live_stream_id"


class _StoreRef:
    """The Store for the background threads (history writer, gallery refresh): the page's cached
    one, or, when the database was down when the page ran, one built on first use there. Calls no
    Streamlit function, so it is safe off the script thread."""

    def __init__(self, url: str | None, store=None) -> None:
        self.url = url
        self.store = store

    def __call__(self):
        if self.store is None:
            from emotion.store import Store

            self.store = Store(self.url)
        return self.store


def _build_stream(user: dict, settings: user_settings.Settings, analyzer):
    from emotion.recognize.gallery import Gallery
    from emotion.live import HistoryWriter, RefreshingGallery, StreamingAnalyzer, store_sink

    store = None
    with outage.db_guard(show=False):
        store = resources.get_store()
    ref = _StoreRef(app_config.database_url(), store)
    uid = int(user["id"])
    defaults = resources.recognizer_defaults(settings.recognizer) or ("euclidean_l2", 0.4)
    metric = defaults[0]
    threshold = settings.threshold if settings.threshold is not None else defaults[1]

    def load_gallery():  # background thread: no Streamlit calls
        entries = ref().gallery(uid, settings.recognizer)
        if isinstance(entries, Gallery):
            return entries.with_threshold(threshold)
        return Gallery(list(entries), metric=metric, threshold=threshold)

    gallery = RefreshingGallery(load_gallery, ttl=2.0)
    gallery.refresh()
    writer = HistoryWriter(store_sink(ref, uid, source="camera"))
    # recognition in a worker process: dlib's ResNet holds the GIL, a thread would stall the video
    return StreamingAnalyzer(analyzer, mode="fast", gallery_provider=gallery, history_sink=writer,
                             landmarks=settings.show_landmarks, recognition="process",
                             row_interval_s=app_config.history_period())


def session_stream(user: dict, settings: user_settings.Settings):
    """This session's StreamingAnalyzer, rebuilt when the user or the models change."""
    ident = (user["id"], settings.analyzer_key(), settings.threshold)
    stream = st.session_state.get(STREAM_KEY)
    if stream is not None and st.session_state.get(STREAM_ID_KEY) == ident:
        return stream
    analyzer = resources.get_analyzer(settings)
    if stream is not None:
        stream.stop(timeout=2.0)
    with st.spinner(t("loading_models"), show_time=True):
        stream = _build_stream(user, settings, analyzer)
    st.session_state[STREAM_KEY] = stream
    st.session_state[STREAM_ID_KEY] = ident
    return stream
