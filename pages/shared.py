"""Helpers every page uses: the login gate, the per-process Store / Analyzer / Gallery, the user's
settings, and `db_guard` (a database outage becomes a plain message, never a traceback).

Pages stay thin: they call these helpers, the engine (`emotion.*`) and the Store, nothing heavier.
Models and the Store are built once per process (``st.cache_resource``); nothing loads per rerun.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator

import numpy as np
import streamlit as st

from pages.i18n import t

# ---------------------------------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------------------------------

#: the app's own upload limit (Streamlit's server.maxUploadSize, 25 MB, is the hard ceiling)
MAX_UPLOAD_MB = 20
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
IMAGE_TYPES = ["jpg", "jpeg", "png", "webp", "bmp"]
DEFAULT_SESSION_TIMEOUT_MIN = 30.0
RECOGNIZER = "Dlib"
CLASSIFIER = "fernet"

#: session_state keys owned by this module
USER_KEY = "auth_user"
LAST_SEEN_KEY = "auth_last_seen"
FLASH_KEY = "flash_message"
_DB_FAILED_KEY = "_db_failed_this_run"
_GATE_KEY = "_through_app"
SETTINGS_KEY = "user_settings"
#: session_state keys that survive a log-out (everything else is the user's and is dropped)
KEEP_ON_LOGOUT = ("lang",)


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


# ---------------------------------------------------------------------------------------------------
# Configuration: environment first, then .streamlit/secrets.toml (which may not exist)
# ---------------------------------------------------------------------------------------------------

def secret(*path: str, default: Any = None) -> Any:
    """``st.secrets[path[0]][path[1]]...`` or `default` when there is no secrets file or no such key."""
    try:
        node: Any = st.secrets
        for key in path:
            node = node[key]
        return node
    except Exception:  # no secrets.toml (StreamlitSecretNotFoundError), a missing key, a parse error
        return default


def database_url() -> str | None:
    """DATABASE_URL, else ``[database] url`` from st.secrets, else None (the Store's SQLite default)."""
    return os.environ.get("DATABASE_URL") or secret("database", "url") or None


def session_timeout() -> timedelta:
    """Inactivity timeout: EMOTION_SESSION_TIMEOUT_MIN (or ..._MINUTES), else
    ``[auth] session_timeout_minutes`` in st.secrets, else 30 minutes."""
    raw = (os.environ.get("EMOTION_SESSION_TIMEOUT_MIN") or os.environ.get("EMOTION_SESSION_TIMEOUT_MINUTES")
           or secret("auth", "session_timeout_minutes"))
    try:
        minutes = float(raw) if raw not in (None, "") else DEFAULT_SESSION_TIMEOUT_MIN
    except (TypeError, ValueError):
        minutes = DEFAULT_SESSION_TIMEOUT_MIN
    return timedelta(minutes=max(minutes, 0.1))


# ---------------------------------------------------------------------------------------------------
# The Store (one per process and database URL) and db_guard
# ---------------------------------------------------------------------------------------------------

@st.cache_resource(show_spinner=False)
def _store_for(url: str | None):
    from emotion.store import open_store

    return open_store(url, migrate=True)


def get_store():
    """The process-wide Store for the configured URL, migrated. Raises StoreUnavailable (not cached,
    so the next rerun tries again) when the database cannot be reached. Once it failed in a run,
    later calls in the same run fail at once instead of waiting for another connect timeout."""
    if st.session_state.get(_DB_FAILED_KEY):
        exc = _store_unavailable_type()
        raise exc() if exc is not _NeverRaised else RuntimeError("database unavailable")
    return _store_for(database_url())


def _store_unavailable_type() -> type[BaseException]:
    try:
        from emotion.store import StoreUnavailable
    except Exception:  # pragma: no cover - only while the store module is missing
        return _NeverRaised
    return StoreUnavailable


class _NeverRaised(Exception):
    pass


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
        if exc_type is not None and issubclass(exc_type, _store_unavailable_type()):
            self.failed = True
            self.error = exc
            st.session_state[_DB_FAILED_KEY] = True
            if self.show:
                show_db_error(self.message)
            return True
        return False


def show_db_error(message: str | None = None) -> None:
    """The "database is unreachable" message; shown once per run however many calls fail."""
    if message is None and st.session_state.get("_db_error_shown"):
        return
    st.session_state["_db_error_shown"] = True
    st.error(message or t("db_unreachable"), icon="🛑")


def begin_run() -> None:
    """Called once at the top of every app run (app.py)."""
    st.session_state["_db_error_shown"] = False
    st.session_state[_DB_FAILED_KEY] = False
    st.session_state[_GATE_KEY] = True


def ensure_gate() -> None:
    """Top of every page: make sure this run went through app.py's gate.

    A folder named ``pages/`` makes Streamlit start a fresh process in its old multipage mode,
    where every pages/*.py is a page of its own, until the first ``st.navigation`` call switches
    that off. So the very first visitor of a new server who opens a deep link (``/history``) would
    run the page script alone, without app.py (no login gate, no language switch). This switches
    the old mode off and reruns, so app.py routes the request like any other."""
    if st.session_state.pop(_GATE_KEY, False):
        return
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except Exception:  # pragma: no cover - a Streamlit without that switch has no old mode either
        return
    if PagesManager.uses_pages_directory:  # else: a page run on its own (require_user guards it)
        PagesManager.uses_pages_directory = False
        st.rerun()


# ---------------------------------------------------------------------------------------------------
# Users, the session and the gate
# ---------------------------------------------------------------------------------------------------

def current_user() -> dict | None:
    """``{"id": int, "name": str}`` of the signed-in user, or None."""
    user = st.session_state.get(USER_KEY)
    return dict(user) if user else None


def sign_in(user: Any) -> dict:
    """Store the authenticated user (an object with .id/.name or .username, or a dict) in the session."""
    if isinstance(user, dict):
        uid, name = user.get("id"), user.get("name") or user.get("username")
    else:
        uid = getattr(user, "id")
        name = getattr(user, "name", None) or getattr(user, "username", None)
    info = {"id": int(uid), "name": str(name)}
    # a new user starts clean: nothing of a previous user's session may leak into theirs
    _clear_session()
    st.session_state[USER_KEY] = info
    st.session_state[LAST_SEEN_KEY] = now_utc()
    return info


def _clear_session() -> None:
    for key in list(st.session_state.keys()):
        if key not in KEEP_ON_LOGOUT:
            del st.session_state[key]


def sign_out(flash: str | None = None) -> None:
    """Forget the user and everything of theirs in the session (the language choice stays)."""
    _clear_session()
    if flash:
        st.session_state[FLASH_KEY] = flash


def _expired(last_seen: datetime, now: datetime, timeout: timedelta) -> bool:
    if not isinstance(last_seen, datetime):
        return True  # something odd in the session: treat it as expired rather than trust it
    if last_seen.tzinfo is None:
        last_seen = last_seen.replace(tzinfo=timezone.utc)
    return now - last_seen > timeout


def check_session() -> dict | None:
    """The signed-in user after applying the inactivity timeout (and recording this activity), or
    None. An expired session is signed out with a message shown on the login page."""
    user = current_user()
    if user is None:
        return None
    now = now_utc()
    last_seen = st.session_state.get(LAST_SEEN_KEY) or now
    if _expired(last_seen, now, session_timeout()):
        sign_out(flash=t("session_expired"))
        return None
    st.session_state[LAST_SEEN_KEY] = now
    return user


def touch_session() -> None:
    """Record activity without a full rerun (e.g. from a fragment)."""
    if current_user() is not None:
        st.session_state[LAST_SEEN_KEY] = now_utc()


def require_user() -> dict:
    """Top of every protected page: the user, or a login prompt and ``st.stop()``.

    app.py only routes signed-in users to these pages; this covers a page script run on its own."""
    ensure_gate()
    user = check_session()
    if user is None:
        flash = st.session_state.pop(FLASH_KEY, None)
        if flash:
            st.info(flash)
        st.warning(t("login_required"), icon="🔒")
        st.stop()
    return user


def pop_flash() -> str | None:
    return st.session_state.pop(FLASH_KEY, None)


# ---------------------------------------------------------------------------------------------------
# User settings (kept in the session)
# ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Settings:
    detector: str = ""
    #: recognition distance threshold; None = the recogniser's own default
    threshold: float | None = None
    show_landmarks: bool = True
    save_history: bool = True
    recognizer: str = RECOGNIZER
    classifier: str = CLASSIFIER

    def analyzer_key(self) -> tuple[str, str, str]:
        return (self.detector, self.recognizer, self.classifier)


def detector_choices() -> list[str]:
    try:
        from emotion.detect import available_detectors

        names = list(available_detectors())
    except Exception:  # pragma: no cover - engine not there yet
        names = []
    return names


def default_detector() -> str:
    env = os.environ.get("EMOTION_DETECTOR")
    choices = detector_choices()
    if env:
        return env
    try:
        from emotion.detect import DEFAULT_DETECTOR  # type: ignore[attr-defined]

        if not choices or DEFAULT_DETECTOR in choices:
            return DEFAULT_DETECTOR
    except Exception:
        pass
    return choices[0] if choices else "opencv"


def get_settings() -> Settings:
    s = st.session_state.get(SETTINGS_KEY)
    if not isinstance(s, Settings):
        s = Settings(detector=default_detector())
        st.session_state[SETTINGS_KEY] = s
    return s


def update_settings(**changes: Any) -> Settings:
    s = replace(get_settings(), **changes)
    st.session_state[SETTINGS_KEY] = s
    return s


# ---------------------------------------------------------------------------------------------------
# Models: one Analyzer per (detector, recogniser, classifier), loaded once per process
# ---------------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------------
# Analysis shared by Photo and Live
# ---------------------------------------------------------------------------------------------------

#: photos are analysed at most this big (the engine maps boxes back to the original pixels)
ANALYZE_MAX_SIDE = 1600
#: annotated snapshots kept in the history are at most this big
SNAPSHOT_MAX_SIDE = 1280
#: how many analysed photos a session keeps (reruns of the page are free for these)
PHOTO_CACHE_SIZE = 4
PHOTO_CACHE_KEY = "photo_results"
PHOTO_SAVED_KEY = "photo_saved"


def analyze_bgr(bgr, user: dict, settings: Settings | None = None, *, landmarks: bool = True) -> list:
    """Run the cached Analyzer on a BGR image with the user's gallery. Recognition is skipped (faces
    stay "unknown") when the database is unreachable; that is reported by the caller's db_guard."""
    s = settings or get_settings()
    analyzer = get_analyzer(s)
    gallery = None
    with db_guard(show=False) as guard:
        gallery = get_gallery(user["id"], s)
    if guard.failed:
        gallery = None
        show_db_error(t("db_unreachable_no_recognition"))
    return analyzer.analyze(bgr, landmarks=landmarks, gallery=gallery, max_side=ANALYZE_MAX_SIDE)


@dataclass
class PhotoResult:
    """One analysed upload, kept in the session by file digest."""

    digest: str
    bgr: Any = None                      # the decoded image (None when it could not be read)
    faces: list = field(default_factory=list)
    error: str | None = None             # the user-facing message when the file is not a usable image
    timings: dict = field(default_factory=dict)


def analyze_upload(data: bytes, user: dict, settings: Settings | None = None) -> PhotoResult:
    """Decode and analyse uploaded bytes, cached in the session per (file digest, models, gallery).

    Reruns of the page (toggling landmarks, the save checkbox, ...) cost nothing; a change of the
    detector/threshold or of the user's people analyses again. Bad files give ``.error``."""
    from emotion.imageio import ImageError, load_image

    s = settings or get_settings()
    d = digest(data)
    key = (d, s.analyzer_key(), s.threshold, gallery_version(user["id"]))
    cache: dict = st.session_state.setdefault(PHOTO_CACHE_KEY, {})
    if key in cache:
        return cache[key]
    if len(data) > MAX_UPLOAD_BYTES:
        result = PhotoResult(d, error=t("file_too_big", mb=MAX_UPLOAD_MB))
    else:
        try:
            bgr = load_image(data, max_bytes=MAX_UPLOAD_BYTES)
        except ImageError as err:
            result = PhotoResult(d, error=str(err))
        else:
            analyzer = get_analyzer(s)
            faces = analyze_bgr(bgr, user, s, landmarks=True)
            result = PhotoResult(d, bgr=bgr, faces=faces, timings=dict(getattr(analyzer, "last_timings", {}) or {}))
    while len(cache) >= PHOTO_CACHE_SIZE:
        cache.pop(next(iter(cache)))
    cache[key] = result
    return result


def faces_table(faces: list):
    """One row per face: number, name, dominant emotion and its score, and the seven scores."""
    import pandas as pd
    from emotion.records import EMOTIONS

    rows = []
    for i, f in enumerate(faces, 1):
        row = {"face": i, "name": f.identity.name, "emotion": f.dominant or "",
               "score": f.dominant_score if f.dominant_score is not None else float("nan")}
        for e, v in zip(EMOTIONS, f.scores if f.scores is not None else [float("nan")] * len(EMOTIONS)):
            row[e] = float(v)
        rows.append(row)
    return pd.DataFrame(rows, columns=["face", "name", "emotion", "score", *EMOTIONS])


def _row_key(user_id: int, file_digest: str, index: int) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"emotion-photo:{user_id}:{file_digest}:{index}"))


def shrink(bgr, max_side: int):
    import cv2

    h, w = bgr.shape[:2]
    scale = max_side / max(h, w)
    if scale >= 1:
        return bgr
    return cv2.resize(bgr, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)


def save_photo_history(user: dict, result: PhotoResult, annotated=None, *, filename: str = "") -> int:
    """Save an analysed photo's faces (and its annotated image as a snapshot) once per file.

    Idempotent: each face's row_key is derived from the user, the file digest and the face's index,
    so saving the same upload again (a rerun, a reload, a second tab) writes nothing. Returns the
    number of new rows. Raises StoreUnavailable."""
    from emotion.store import history_row

    if not result.faces:
        return 0
    saved: set = st.session_state.setdefault(PHOTO_SAVED_KEY, set())
    if result.digest in saved:
        return 0
    store = get_store()
    uid = user["id"]
    when = now_utc()
    snapshot_id = None
    if annotated is not None:
        from emotion.draw import to_png

        try:
            snapshot_id = store.save_snapshot(uid, to_png(shrink(annotated, SNAPSHOT_MAX_SIDE)),
                                              description=(filename or "")[:200] or None, time=when)
        except ValueError:  # too big / not PNG: keep the rows, skip the picture
            snapshot_id = None
    rows = [history_row(f, row_key=_row_key(uid, result.digest, i), snapshot_id=snapshot_id)
            for i, f in enumerate(result.faces)]
    new = store.add_history(uid, rows, source="photo", time=when)
    if new == 0 and snapshot_id is not None:
        store.delete_snapshot(uid, snapshot_id)  # this photo was saved before: no second picture
    saved.add(result.digest)
    return new


def save_history(user: dict, faces: list, source: str, when: datetime | None = None) -> int:
    """Append one row per face to the user's history; returns the number of rows written.
    Raises StoreUnavailable."""
    if not faces:
        return 0
    return get_store().add_history(user["id"], faces, source=source, time=when or now_utc())


# ---------------------------------------------------------------------------------------------------
# People: face thumbnails
# ---------------------------------------------------------------------------------------------------

THUMB_SIDE = 112


def displayable(bgr, max_aspect: float = 8.0):
    """A copy fit for st.image: extreme strips (4000x2 px) are padded with grey to at most
    `max_aspect`:1, since Streamlit's own resizing would round their short side to 0 px."""
    import cv2

    h, w = bgr.shape[:2]
    pad_y = max(0, int(np.ceil(w / max_aspect)) - h)
    pad_x = max(0, int(np.ceil(h / max_aspect)) - w)
    if not (pad_x or pad_y):
        return bgr
    return cv2.copyMakeBorder(bgr, pad_y // 2, pad_y - pad_y // 2, pad_x // 2, pad_x - pad_x // 2,
                              cv2.BORDER_CONSTANT, value=(128, 128, 128))


def face_thumbnail(bgr, box, *, side: int = THUMB_SIDE) -> bytes:
    """A square JPEG crop around `box` (with a margin), `side` pixels, for the People page."""
    import cv2

    h, w = bgr.shape[:2]
    cx, cy = box.x + box.w / 2.0, box.y + box.h / 2.0
    half = max(box.w, box.h) * 0.7
    x1, y1 = max(0, int(cx - half)), max(0, int(cy - half))
    x2, y2 = min(w, int(cx + half)), min(h, int(cy + half))
    crop = bgr[y1:y2, x1:x2] if x2 > x1 and y2 > y1 else bgr
    crop = cv2.resize(crop, (side, side), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:  # pragma: no cover - OpenCV always encodes a small uint8 image
        raise ValueError("could not encode the thumbnail")
    return buf.tobytes()


# ---------------------------------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------------------------------

_MD_SPECIAL = set("\\`*_{}[]()#+-.!|<>~$:")


def md(text: Any) -> str:
    """`text` with every Markdown special character escaped, for labels that render Markdown
    (st.markdown, st.caption, expander labels). User data never goes through unsafe_allow_html."""
    return "".join("\\" + c if c in _MD_SPECIAL else c for c in str(text))


def digest(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()
