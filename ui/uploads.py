"""Uploaded photos: size limits, decoding, cached analysis, saving to history once, enrolment
embeddings and their thumbnails."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import streamlit as st

from ui.gate import now_utc
from ui.i18n import error_text, t
from ui.outage import db_guard, show_db_error
from ui.resources import gallery_version, get_analyzer, get_gallery, get_store
from ui.user_settings import Settings, get_settings

#: the app's own upload limit (Streamlit's server.maxUploadSize, 500 MB for videos, is the hard ceiling)
MAX_UPLOAD_MB = 20
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
IMAGE_TYPES = ["jpg", "jpeg", "png", "webp", "bmp"]


#: photos are decoded and analysed at most this big (the session keeps only this size)
ANALYZE_MAX_SIDE = 1600
#: annotated snapshots kept in the history are at most this big
SNAPSHOT_MAX_SIDE = 1280
#: the session keeps the last analysed photo only (at the analysed size; reruns of the page are free)
PHOTO_CACHE_SIZE = 1
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
    return analyzer.analyze(bgr, landmarks=landmarks, gallery=gallery, max_side=ANALYZE_MAX_SIDE,
                            enhance=s.enhance)


@dataclass
class PhotoResult:
    """One analysed upload, kept in the session by file digest: the image at the analysed size
    (at most `ANALYZE_MAX_SIDE`), never the full-size upload."""

    digest: str
    bgr: Any = None                      # the decoded image, analysed size (None when it could not be read)
    faces: list = field(default_factory=list)
    error: Exception | None = None       # ImageError, or AnalysisBusy (typed: ui.i18n.error_text)
    timings: dict = field(default_factory=dict)


def analyze_upload(data: bytes, user: dict, settings: Settings | None = None) -> PhotoResult:
    """Decode (at the analysed size) and analyse uploaded bytes, cached in the session per (file
    digest, models, gallery); only the last result is kept.

    At most `emotion.limits.ANALYSIS_SLOTS` analyses run at once in the process: while waiting for
    a slot the page says so, and a wait that times out is a message, not a hang. Reruns of the
    page (toggling landmarks, the save checkbox, ...) cost nothing; a change of the detector/
    threshold or of the user's people analyses again. Bad files give ``.error``."""
    from emotion.imageio import ImageError, load_image
    from emotion.limits import ANALYSIS_SLOTS, AnalysisBusy

    s = settings or get_settings()
    d = digest(data)
    key = (d, s.analyzer_key(), s.threshold, s.enhance, gallery_version(user["id"]))
    cache: dict = st.session_state.setdefault(PHOTO_CACHE_KEY, {})
    if key in cache:
        return cache[key]
    cache.clear()  # the previous photo goes before this one is decoded
    if len(data) > MAX_UPLOAD_BYTES:
        result = PhotoResult(d, error=ImageError("image.too_big_file", mb=len(data) / 2**20, limit_mb=MAX_UPLOAD_MB))
    else:
        analyzer = get_analyzer(s)
        waiting = st.empty()
        try:
            with ANALYSIS_SLOTS.hold(on_wait=lambda n: waiting.info(t("sec_analysis_waiting", n=n),
                                                               icon=":material/hourglass_top:")):
                waiting.empty()
                bgr = load_image(data, max_bytes=MAX_UPLOAD_BYTES, max_side=ANALYZE_MAX_SIDE)
                faces = analyze_bgr(bgr, user, s, landmarks=True)
        except ImageError as err:
            result = PhotoResult(d, error=err)
        except AnalysisBusy as err:
            waiting.empty()
            return PhotoResult(d, error=err)  # not cached: the next rerun tries again
        else:
            result = PhotoResult(d, bgr=bgr, faces=faces, timings=dict(getattr(analyzer, "last_timings", {}) or {}))
    cache[key] = result
    return result


def _row_key(user_id: int, file_digest: str, index: int) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"emotion-photo:{user_id}:{file_digest}:{index}"))


def shrink(bgr, max_side: int):
    """`bgr` at most `max_side` px on its longer side (the engine's one downscale)."""
    from emotion.detect.base import downscale

    return downscale(bgr, max_side)[0]


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


def digest(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def embed_uploads(settings: Settings, files: Any) -> tuple[list[tuple], list[str]]:
    """(items for Store.add_embeddings, error messages) for uploaded photos: one embedding (and a
    JPEG thumbnail) per photo, from its largest face; photos without a face are rejected. Each photo
    is decoded at the analysed size inside an analysis slot, like `analyze_upload`."""
    from emotion.imageio import ImageError, load_image
    from emotion.limits import ANALYSIS_SLOTS, AnalysisBusy

    analyzer = get_analyzer(settings)
    items, errors = [], []
    waiting = st.empty()
    for f in files:
        data = f.getvalue()
        if len(data) > MAX_UPLOAD_BYTES:
            errors.append(t("file_rejected", file=f.name, error=t("file_too_big", mb=MAX_UPLOAD_MB)))
            continue
        try:  # bounded memory: decoded at the analysed size, in one of the process's analysis slots
            with ANALYSIS_SLOTS.hold(on_wait=lambda n: waiting.info(t("sec_analysis_waiting", n=n),
                                                               icon=":material/hourglass_top:")):
                waiting.empty()
                bgr = load_image(data, max_bytes=MAX_UPLOAD_BYTES, max_side=ANALYZE_MAX_SIDE)
                faces = [r for r in analyzer.embed_faces(bgr) if r.embedding is not None]
        except (ImageError, AnalysisBusy) as err:
            waiting.empty()
            errors.append(t("file_rejected", file=f.name, error=error_text(err)))
            continue
        if not faces:
            errors.append(t("file_no_face", file=f.name))
            continue
        face = faces[0]  # the engine returns the largest face first
        items.append((settings.recognizer, face.embedding, face_thumbnail(bgr, face.box)))
    return items, errors
