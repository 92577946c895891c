"""The Models page's Compare tab: the user's photos in, every detector x recogniser and every emotion
classifier compared on them, on this machine; one click keeps the chosen combination.

Flow: photos (uploads, or the face thumbnails of enrolled people, padded so detectors see a whole
face) -> a person letter per photo (same letter = same person; guessed from LFW-style file names)
-> `ui.compare_jobs.CompareJob` in the background, polled by a fragment with a progress bar and a
Cancel button -> heatmaps (`ui.compare_charts`), detector timings, models that cannot run and why,
the classifiers side by side, CSV/JSON export, and "Use this combination", which goes through
`use_combination` - the only place that writes the user's settings.
"""
from __future__ import annotations

import hashlib
import re
from typing import Any

import streamlit as st

from emotion.compare import MAX_PHOTOS, MIN_PHOTOS, CompareOptions, to_csv, to_json
from ui import compare_charts as charts
from ui.compare_jobs import CompareJob
from ui.i18n import t
from ui.text import md

JOB_KEY = "compare_job"
FLASH_KEY = "compare_used"  # (detector, recogniser) just saved, shown once after the rerun
CHECKED_KEY = "compare_checked"  # digest -> (thumbnail PNG or None, error or None)
LETTERS = "ABCDEFGHIJ"
THUMB_SIDE = 160
#: enrolled face thumbnails are padded by this fraction of their side on every edge
ENROLLED_PAD = 0.5


# ----------------------------------------------------------------------------- inputs
def guess_people(names: list[str]) -> list[str]:
    """A person letter per photo: names that differ only by a trailing number (``Ann_Lee_0001.jpg``,
    ``Ann_Lee_0002.jpg``, ``bob-2.png``) share a letter; every other photo gets its own."""
    keys = [re.sub(r"[\s_\-.]*\(?\d+\)?$", "", n.rsplit(".", 1)[0]).lower() or n for n in names]
    letters: dict[str, str] = {}
    return [letters.setdefault(k, LETTERS[min(len(letters), len(LETTERS) - 1)]) for k in keys]


def unique_names(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        n = n or "photo"
        if n in seen:
            seen[n] += 1
            stem, dot, ext = n.rpartition(".")
            n = f"{stem} ({seen[n]}).{ext}" if dot else f"{n} ({seen[n]})"
        seen.setdefault(n, 1)
        out.append(n)
    return out


def _check(data: bytes) -> tuple[bytes | None, str | None]:
    """(a small PNG thumbnail, None) or (None, the user-facing error), once per file content."""
    cache: dict = st.session_state.setdefault(CHECKED_KEY, {})
    key = hashlib.sha256(data).hexdigest()
    if key not in cache:
        import cv2

        from emotion.imageio import ImageError, downscale_for_analysis, load_image
        from ui.uploads import MAX_UPLOAD_BYTES, MAX_UPLOAD_MB

        try:
            if len(data) > MAX_UPLOAD_BYTES:
                raise ImageError(t("file_too_big", mb=MAX_UPLOAD_MB))
            small, _ = downscale_for_analysis(load_image(data, max_bytes=MAX_UPLOAD_BYTES), THUMB_SIDE)
            cache[key] = (cv2.imencode(".png", small)[1].tobytes(), None)
        except ImageError as err:
            cache[key] = (None, str(err))
        while len(cache) > 2 * MAX_PHOTOS:  # bounded: oldest first
            cache.pop(next(iter(cache)))
    return cache[key]


def _pad_thumbnail(data: bytes) -> bytes:
    import cv2
    import numpy as np

    from emotion.imageio import load_image

    bgr = load_image(data)
    p = int(round(max(bgr.shape[:2]) * ENROLLED_PAD))
    padded = cv2.copyMakeBorder(bgr, p, p, p, p, cv2.BORDER_CONSTANT, value=(128, 128, 128))
    return cv2.imencode(".png", np.ascontiguousarray(padded))[1].tobytes()


def _enrolled_photos(user: dict) -> list[tuple[str, bytes]]:
    from ui.outage import db_guard
    from ui.resources import get_store

    options: dict[str, tuple[bytes, str]] = {}
    with db_guard() as guard:
        store = get_store()
        for person in store.list_people(user["id"]):
            thumbs = [e.thumbnail for e in store.list_embeddings(user["id"], person.id) if e.thumbnail]
            for n, thumb in enumerate(thumbs[:MAX_PHOTOS], start=1):
                options[t("cmp_enrolled_face", name=person.name, n=n)] = (thumb, person.name)
    if guard.failed:
        return []
    if not options:
        st.caption(t("cmp_enrolled_none"))
        return []
    picked = st.multiselect(t("cmp_enrolled"), list(options), key="cmp_enrolled", max_selections=MAX_PHOTOS)
    return [(f"{name}.png", _pad_thumbnail(options[name][0])) for name in picked]


def _photos(user: dict) -> list[tuple[str, bytes]]:
    from ui.uploads import IMAGE_TYPES, MAX_UPLOAD_MB

    files = st.file_uploader(t("cmp_upload", mb=MAX_UPLOAD_MB), type=IMAGE_TYPES, accept_multiple_files=True,
                             key="cmp_upload") or []
    photos = [(f.name, f.getvalue()) for f in files]
    with st.expander(t("cmp_enrolled")):
        photos += _enrolled_photos(user)
    if len(photos) > MAX_PHOTOS:
        st.warning(t("cmp_too_many", n=MAX_PHOTOS))
        photos = photos[:MAX_PHOTOS]
    good = []
    for name, data in zip(unique_names([n for n, _ in photos]), (d for _, d in photos)):
        thumb, error = _check(data)
        if error:
            st.error(t("cmp_bad_photo", name=md(name), error=md(error)))
        else:
            good.append((name, data, thumb))
    return good


def _mark_people(photos: list[tuple[str, bytes, bytes]]) -> list[list[str]]:
    """Thumbnails with a person letter each; returns the same-person groups (names)."""
    st.caption(t("cmp_same_hint"))
    guesses = guess_people([n for n, _, _ in photos])
    cols = st.columns(min(len(photos), 5) or 1)
    letters = []
    for k, ((name, data, thumb), guess) in enumerate(zip(photos, guesses)):
        with cols[k % len(cols)]:
            st.image(thumb, caption=name, width=120)
            key = "cmp_person_" + hashlib.sha1(f"{name}\0{len(data)}".encode()).hexdigest()[:12]
            letters.append(st.selectbox(t("cmp_person"), list(LETTERS[:len(photos)]), key=key,
                                        index=LETTERS.index(guess) if guess in LETTERS[:len(photos)] else k,
                                        format_func=lambda x: t("cmp_person_label", label=x)))
    groups: dict[str, list[str]] = {}
    for (name, _, _), letter in zip(photos, letters):
        groups.setdefault(letter, []).append(name)
    return [g for g in groups.values() if len(g) > 1]


def _options() -> CompareOptions:
    from emotion.compare import availability

    c1, c2, c3 = st.columns(3)
    dets = c1.multiselect(t("cmp_detectors"), availability.detector_names(), key="cmp_detectors",
                          default=availability.detector_names())
    recs = c2.multiselect(t("cmp_recognizers"), availability.recognizer_names(), key="cmp_recognizers",
                          default=availability.recognizer_names())
    clss = c3.multiselect(t("cmp_classifiers"), availability.classifier_names(), key="cmp_classifiers",
                          default=availability.classifier_names())
    return CompareOptions(detectors=tuple(dets) or None, recognizers=tuple(recs) or None,
                          classifiers=tuple(clss) or None)


# ----------------------------------------------------------------------------- progress
@st.fragment(run_every=0.5)
def _progress(job: CompareJob) -> None:
    if job.finished.is_set():
        st.rerun()
    if job.waiting:
        st.info(t("cmp_waiting"))
    stage = t(f"cmp_stage_{job.stage}") if job.stage else ""
    st.progress(job.fraction(), text=t("cmp_progress", done=job.done, total=job.total or "?", stage=stage,
                                       label=md(job.label)))
    if st.button(t("cmp_cancel"), key="cmp_cancel", disabled=job.cancel.is_set()):
        job.cancel.set()


# ----------------------------------------------------------------------------- results
def error_text(err: Any) -> str:
    params = {k: md(v) for k, v in (getattr(err, "params", None) or {}).items()}
    text = t(f"cmp_error_{getattr(err, 'code', 'internal')}", **params)
    return text if not text.startswith("cmp_error_") else t("cmp_error_internal", detail=md(err))


def use_combination(user: dict, detector: str, recognizer: str) -> bool:
    """The one place the Compare tab changes the user's settings: detector and recogniser for photos
    and the live camera, saved to the user's account (`ui.user_settings.save_settings`); the
    threshold goes back to the new recogniser's own. False when the database could not save it (the
    session keeps the change)."""
    from ui import outage, resources, user_settings

    with outage.db_guard(show=False) as guard:
        user_settings.save_settings(resources.get_store(), user["id"], detector=detector, recognizer=recognizer,
                                    threshold=None)
    return not guard.failed


def _use_section(result, user: dict) -> None:
    usable = [c for c in result.combos if c.usable]
    if not usable:
        return
    st.subheader(t("cmp_use_title"))
    best = result.best() or usable[0]
    if result.best() is not None:
        st.markdown(t("cmp_best", detector=md(best.detector), recognizer=md(best.recognizer),
                      right=best.n_correct, pairs=len(best.pairs)))
    dets = list(dict.fromkeys(c.detector for c in usable))
    c1, c2, c3 = st.columns([2, 2, 1.4], vertical_alignment="bottom")
    det = c1.selectbox(t("cmp_use_detector"), dets, index=dets.index(best.detector), key="cmp_use_det")
    recs = [c.recognizer for c in usable if c.detector == det]
    rec = c2.selectbox(t("cmp_use_recognizer"), recs, key="cmp_use_rec",
                       index=recs.index(best.recognizer) if best.recognizer in recs else 0)
    if c3.button(t("cmp_use_button"), key="cmp_use", type="primary"):
        saved = use_combination(user, det, rec)
        st.session_state[FLASH_KEY] = (det, rec, saved)
        st.rerun()  # the whole page (the Models tab's "in use" table too) shows the new settings
    done = st.session_state.pop(FLASH_KEY, None)
    if done:
        st.success(t("cmp_use_done", detector=md(done[0]), recognizer=md(done[1])))
        if not done[2]:
            st.warning(t("settings_not_saved"))
        st.caption(t("cmp_use_enrolled_hint", recognizer=md(done[1])))


def _results(result, user: dict) -> None:
    if result.cancelled:
        st.warning(t("cmp_cancelled"))
    if result.computed == 0 or result.cached:
        st.caption(t("cmp_from_cache", cached=result.cached, computed=result.computed, seconds=result.seconds))
    st.plotly_chart(charts.overview_figure(result, t), key="cmp_overview", width="stretch")
    pairs = charts.pairs_of(result)
    if len(pairs) > 3:
        pick = st.selectbox(t("cmp_pair_pick"), range(len(pairs)), key="cmp_pair",
                            format_func=lambda i: f"{pairs[i][0]} · {pairs[i][1]}")
        shown = [pairs[pick]]
    else:
        shown = pairs
    for k, (a, b) in enumerate(shown):
        st.plotly_chart(charts.pair_figure(result, a, b, t), key=f"cmp_pair_fig_{k}", width="stretch")
    _use_section(result, user)
    st.subheader(t("cmp_detector_times"))
    st.dataframe(charts.detector_rows(result), hide_index=True, column_config={
        "detector": t("cmp_col_detector"), "photo": t("cmp_col_photo"), "faces": t("cmp_col_faces"),
        "ms": t("cmp_col_ms")})
    _classifier_section(result)
    st.subheader(t("cmp_unavailable_title"))
    rows = charts.unavailable_rows(result, t)
    for row in rows:  # plain text: short, selectable (file names to copy), read by screen readers
        line = t("cmp_unavailable_line", model=md(row["model"]), role=md(row["role"]), reason=md(row["reason"]))
        if row["file"]:
            line += " " + t("cmp_place_file", file=md(row["file"]), folder=md(row["folder"]))
        st.markdown("- " + line)
    if not rows:
        st.caption(t("cmp_unavailable_none"))
    st.caption(t("cmp_export_note"))
    c1, c2 = st.columns(2)
    c1.download_button(t("cmp_export_csv"), to_csv(result), file_name="model-comparison.csv", mime="text/csv",
                       key="cmp_csv")
    c2.download_button(t("cmp_export_json"), to_json(result), file_name="model-comparison.json",
                       mime="application/json", key="cmp_json")


def _classifier_section(result) -> None:
    from ui.charts import emotion_labels

    comp = result.classifiers
    if comp is None or not comp.faces:
        return
    st.subheader(t("cmp_classifiers_title", detector=md(comp.detector)))
    rows, names = charts.classifier_rows(result)
    labels = emotion_labels()
    for row in rows:
        for n in names:
            emo, _, score = str(row[n]).partition(" ")
            row[n] = f"{labels.get(emo, emo)} {score}".strip()
    st.caption(" · ".join(t("cmp_ms_per_face", name=md(n), ms=f"{comp.ms_per_face.get(n) or 0:.1f}")
                          for n in names))
    st.dataframe(rows, hide_index=True, column_config={"photo": t("cmp_col_photo"), "face": t("cmp_col_face"),
                                                        "agree": st.column_config.CheckboxColumn(t("cmp_col_agree"))})
    if comp.agreement is None:
        st.caption(t("cmp_one_classifier"))
    else:
        st.caption(t("cmp_agreement", value=f"{comp.agreement:.0%}"))


# ----------------------------------------------------------------------------- the tab
def render(user: dict) -> None:
    st.caption(t("cmp_intro"))
    photos = _photos(user)
    same = _mark_people(photos) if photos else []
    options = _options()
    job: CompareJob | None = st.session_state.get(JOB_KEY)
    running = job is not None and job.running
    if len(photos) < MIN_PHOTOS:
        st.info(t("cmp_too_few", n=MIN_PHOTOS))
    if st.button(t("cmp_start"), key="cmp_start", type="primary", disabled=running or len(photos) < MIN_PHOTOS):
        job = CompareJob([(n, d) for n, d, _ in photos], same, options).start()
        st.session_state[JOB_KEY] = job
        running = True
    if job is None:
        return
    if running:
        _progress(job)
        return
    if job.error is not None:
        st.error(error_text(job.error))
    elif job.result is not None:
        _results(job.result, user)
    else:
        st.warning(t("cmp_cancelled"))
