"""The Video page's results: info, per-person timeline (click a point: that moment of the video),
segments table, overall distribution, CSV and annotated MP4 downloads, saving to the history.

Everything here reads a finished `emotion.video.analyse.VideoResult`; nothing analyses. People's
names are escaped for Markdown (`ui.text.md`) and HTML (Plotly, `ui.video_charts.esc`); the CSV is
escaped against formula injection by the engine (`emotion.video.export`).
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from emotion.records import EMOTIONS
from ui import text
from ui.i18n import t

SAVED_KEY = "video_saved"
JOB_SESSION_KEY = "video_job_session"   # job id -> the classroom session chosen when it started
MAX_PEOPLE = 8


def clock(seconds: float | None) -> str:
    """m:ss (h:mm:ss past an hour)."""
    if seconds is None:
        return "?"
    s = int(round(max(0.0, float(seconds))))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def error_text(code: str | None, params: dict | None, failure: str | None = None) -> str:
    """The user's message for a failed job: the typed code translated, else the failure."""
    if code:
        p = dict(params or {})
        p["name"] = text.md(p.get("name", ""))
        if "duration_s" in p:
            p["duration"] = clock(p["duration_s"])
        if "limit_s" in p:
            p["limit"] = clock(p["limit_s"])
        return t("verr_" + code, **p)
    return t("video_failed", error=text.md(failure or "?"))


def show_result(result: Any, *, digest: str, file_stem: str) -> None:
    from emotion.video.export import csv_bytes
    from emotion.video.summary import distribution, person_summary, segments, timelines
    from ui.video_charts import distribution_figure, timeline_figure

    info = result.info
    st.caption(t("video_info", w=info.width, h=info.height, dur=clock(info.duration_s),
                 fps=f"{info.fps:.3g}" if info.fps else "?", codec=text.md(info.codec)))
    if result.cancelled:
        st.warning(t("video_cancelled", pos=clock(result.video_time_s)), icon="⏹️")
    if result.truncated:
        st.warning(t("video_truncated"), icon="⚠️")
    names = result.person_names()
    label = lambda e: t("emo_" + e)  # noqa: E731
    if not result.rows:
        st.info(t("video_no_faces"))
    else:
        st.subheader(t("video_timeline"))
        lines = timelines(result.rows, names)
        fig, shown = timeline_figure(lines, label=label, max_people=MAX_PEOPLE, time_title=t("video_col_time_s"),
                                     score_title=t("col_score"))
        if len(lines) > len(shown):
            st.caption(t("video_too_many_people", n=len(shown)))
        st.caption(t("video_timeline_hint"))
        event = st.plotly_chart(fig, key=f"video_timeline_{digest[:16]}", on_select="rerun",
                                selection_mode="points", width="stretch")
        _show_clicked_frame(result, event)

        st.subheader(t("video_people"))
        people = person_summary(result.rows, names, result.rate)
        st.dataframe([{t("video_col_person"): p["person"], t("video_col_from"): p["first_s"],
                       t("video_col_to"): p["last_s"], t("video_col_seen"): p["seen_s"],
                       t("col_emotion"): label(p["dominant"]) if p["dominant"] else "–"} for p in people],
                     hide_index=True, width="stretch")

        st.subheader(t("video_segments"))
        segs = segments(result.rows, names, result.rate)
        table = [{t("video_col_person"): s.person, t("video_col_from"): s.start_s, t("video_col_to"): s.end_s,
                  t("col_emotion"): label(s.dominant) if s.dominant else "–",
                  **{label(e): s.mean[e] for e in EMOTIONS}} for s in segs]
        config = {label(e): st.column_config.ProgressColumn(label(e), min_value=0.0, max_value=1.0, format="percent")
                  for e in EMOTIONS}
        st.dataframe(table, column_config=config, hide_index=True, width="stretch")

        st.subheader(t("video_distribution"))
        st.plotly_chart(distribution_figure(distribution(result.rows)["share"], label=label),
                        key=f"video_dist_{digest[:16]}", width="stretch")

    c1, c2 = st.columns(2)
    c1.download_button(t("video_download_csv"), data=lambda: csv_bytes(result),  # made on click
                       file_name=f"{file_stem}-emotions.csv", mime="text/csv", icon="⬇️", key="video_csv",
                       on_click="ignore")
    if result.annotated_path:
        try:
            with open(result.annotated_path, "rb") as fh:
                mp4 = fh.read()
        except OSError:
            mp4 = None
        if mp4:
            c2.download_button(t("video_download_mp4"), data=mp4, file_name=f"{file_stem}-annotated.mp4",
                               mime="video/mp4", icon="⬇️", key="video_mp4", on_click="ignore")
            with st.expander(t("video_annotated")):
                st.video(mp4, format="video/mp4")


def _show_clicked_frame(result: Any, event: Any) -> None:
    try:
        points = event.selection.points if event is not None else []
    except AttributeError:
        points = (event or {}).get("selection", {}).get("points", [])
    if not points or result.thumbnails is None:
        return
    try:
        when = float(points[0]["x"])
    except (KeyError, TypeError, ValueError):
        return
    hit = result.thumbnails.nearest(when)
    if hit is not None:
        st.image(hit[1], caption=t("video_frame_at", pos=clock(hit[0])), width=480)


def session_choice(uid: int) -> int | None:
    """The "save into a classroom session" choice, offered before the analysis when the user has a
    session that has not ended (None: no session, none open, or the database is down)."""
    from ui import outage, resources

    open_sessions = []
    with outage.db_guard(show=False):
        open_sessions = [s for s in resources.get_store().list_sessions(uid) if s.state != "ended"]
    if not open_sessions:
        return None
    names = {None: t("sess_video_none"), **{s.id: s.name for s in open_sessions}}
    if st.session_state.get("video_session") not in names:
        st.session_state.pop("video_session", None)
    return st.selectbox(t("sess_video_choice"), list(names), format_func=names.get, key="video_session",
                        help=t("sess_video_choice_help"))


def remember_session(job_id: str, session_id: int | None) -> None:
    """The session chosen when job `job_id` started: its rows go there, whatever is chosen later."""
    st.session_state.setdefault(JOB_SESSION_KEY, {})[job_id] = session_id


def job_session(job_id: str, chosen: int | None) -> int | None:
    """The session job `job_id`'s rows are saved into: the one chosen when it started; `chosen` (the
    current choice) for a job this browser session did not start."""
    started: dict = st.session_state.get(JOB_SESSION_KEY, {})
    return started[job_id] if job_id in started else chosen


def save_history(user: dict, result: Any, digest: str, session_id: int | None = None) -> int | None:
    """Save once per (user, file, classroom session): rows keyed by the digest and the session (the
    store skips keys it already has). Returns the number of new rows, None when this session had saved
    it already."""
    from emotion.video.history import history_rows
    from ui.resources import get_store

    saved: set = st.session_state.setdefault(SAVED_KEY, set())
    key = digest if session_id is None else f"{digest}:{int(session_id)}"
    if key in saved or not result.rows:
        return None
    rows = history_rows(result, user_id=int(user["id"]), digest=digest, session_id=session_id)
    n = get_store().add_history(int(user["id"]), rows, source="video")
    saved.add(key)
    return int(n or 0)
