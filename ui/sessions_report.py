"""The Sessions page's parts: the list of the user's sessions, a session's report (Plotly charts built
by `emotion.sessions.figures` from `emotion.sessions.report`), its CSV / HTML downloads, rename and
delete. Every store call passes the signed-in user's id, so another user's session is "not found"."""
from __future__ import annotations

from typing import Any, Callable

import streamlit as st

from emotion.records import EMOTIONS
from emotion.store import SessionInfo, SessionNotFound
from emotion.store.limits import SESSION_NAME_MAX
from ui import gate, outage, resources, text
from ui.i18n import current_language, t

PICK_KEY = "sess_pick"


def _label(e: str) -> str:
    return t("emo_" + e)


def _clock(seconds: float) -> str:
    from emotion.sessions.export import clock

    return clock(seconds)


def sessions_table(sessions: list[SessionInfo]) -> list[dict[str, Any]]:
    now = gate.now_utc()
    return [{t("sess_col_name"): s.name, t("sess_col_date"): s.started.strftime("%Y-%m-%d %H:%M"),
             t("sess_col_duration"): _clock(s.duration_s(now)), t("sess_col_people"): s.people,
             t("sess_col_state"): t("sess_state_" + s.state), t("sess_col_rows"): s.rows} for s in sessions]


def html_labels():
    from emotion.sessions.export import HtmlLabels

    return HtmlLabels(title=t("sess_report_title"), started=t("sess_started"), duration=t("sess_duration"),
                      people=t("sess_people"), shares=t("sess_shares"), timelines=t("sess_timelines"),
                      class_title=t("sess_class"), changes=t("sess_changes"), change=t("sess_change"),
                      distribution=t("sess_distribution"), seconds=t("sess_seconds"), score=t("sess_score"),
                      share=t("sess_share"), too_small=t("sess_too_small"), person=t("sess_person"),
                      seen=t("sess_seen"), shift=t("sess_shift"), empty=t("sess_empty"))


def load_report(uid: int, info: SessionInfo):
    """The session's rows and report; None when the database is down (the guard says so)."""
    from emotion.sessions import build_report

    with outage.db_guard():
        frame = resources.get_store().session_frame(uid, info.id)
        return build_report(frame, started=info.started, duration_s=info.duration_s(gate.now_utc()),
                            unknown_label=t("unknown"))
    return None


def html_download(report, info: SessionInfo, now) -> Callable[[], bytes]:
    """The one-file HTML report, made when called (the download button calls it on a click, never
    on a render: plotly.js alone is some 4 MB); labels and language are read now, in the page's run."""
    from emotion.sessions.export import html_report

    labels, lang = html_labels(), current_language()
    names = {e: _label(e) for e in EMOTIONS}
    duration = info.duration_s(now)

    def make() -> bytes:
        return html_report(report, name=info.name, started=info.started, duration_s=duration, labels=labels,
                           emotion_label=lambda e: names.get(e, e), lang=lang).encode("utf-8")

    return make


def show_report(uid: int, info: SessionInfo) -> None:
    from emotion.sessions import figures
    from emotion.sessions.export import csv_bytes

    report = load_report(uid, info)
    if report is None:
        return
    now = gate.now_utc()
    st.caption(t("sess_summary", started=info.started.strftime("%Y-%m-%d %H:%M UTC"),
                 duration=_clock(info.duration_s(now)), people=len(report.people), rows=len(report.rows)))
    stem = "".join(c if c.isalnum() else "-" for c in info.name)[:60].strip("-") or "session"
    c1, c2 = st.columns(2)
    # both files are made only when their button is clicked (on a thread of their own, where the
    # page's translations cannot be read: the labels are resolved here)
    c1.download_button(t("sess_download_csv"), data=lambda: csv_bytes(report, info.name), file_name=f"{stem}.csv",
                       mime="text/csv", icon="⬇️", key="sess_csv", on_click="ignore")
    c2.download_button(t("sess_download_html"), mime="text/html", icon="⬇️", key="sess_html", on_click="ignore",
                       data=html_download(report, info, now), file_name=f"{stem}.html")
    if report.rows.empty:
        st.info(t("sess_empty"))
        return
    st.subheader(t("sess_shares"))
    st.plotly_chart(figures.shares_figure(report, label=_label, x_title=t("sess_share")), key="sess_shares_chart")
    small = report.shares["too_small_s"]
    if float(small.sum()) > 0:
        st.caption(", ".join(f"{text.md(w)}: {_clock(s)} {t('sess_too_small')}" for w, s in small.items() if s > 0))

    st.subheader(t("sess_class"))
    st.caption(t("sess_bin", n=f"{report.bin_s:g}"))
    st.plotly_chart(figures.class_figure(report, label=_label, time_title=t("sess_seconds"),
                                         score_title=t("sess_score"), change_label=t("sess_change")),
                    key="sess_class_chart")
    st.markdown(f"**{t('sess_changes')}**")
    if report.changes:
        st.markdown("\n".join(
            f"{i}. " + t("sess_change_line", start=_clock(c.start_s - report.bin_s), end=_clock(c.end_s),
                         before=_label(c.before), after=_label(c.after), shift=f"{c.shift:.2f}")
            for i, c in enumerate(report.changes, 1)))
    else:
        st.caption(t("sess_no_changes"))

    st.subheader(t("sess_distribution"))
    st.plotly_chart(figures.distribution_figure(report, label=_label, time_title=t("sess_seconds"),
                                                y_title=t("sess_share")), key="sess_dist_chart")

    st.subheader(t("sess_timelines"))
    who = st.selectbox(t("sess_person"), report.people, key="sess_person_pick")
    if who is not None:
        st.plotly_chart(figures.person_timeline_figure(report, who, label=_label, time_title=t("sess_seconds"),
                                                       score_title=t("sess_score")), key="sess_person_chart")
    st.dataframe([{t("sess_person"): w, **{_label(e): r[e] for e in EMOTIONS},
                   t("sess_seen"): _clock(r["seen_s"])} for w, r in report.shares.iterrows()],
                 column_config={_label(e): st.column_config.ProgressColumn(_label(e), min_value=0.0, max_value=1.0,
                                                                           format="percent") for e in EMOTIONS},
                 hide_index=True)


def manage(uid: int, info: SessionInfo) -> None:
    """Rename and delete (the store checks the owner: another user's id is "not found")."""
    with st.expander(t("sess_manage")):
        c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
        new = c1.text_input(t("sess_rename"), value=info.name, max_chars=SESSION_NAME_MAX, key=f"sess_rename_{info.id}")
        if c2.button(t("sess_rename_button"), key="sess_rename_button"):
            if not " ".join((new or "").split()):
                st.error(t("sess_name_needed"))
            else:
                try:
                    with outage.db_guard() as guard:
                        resources.get_store().rename_session(uid, info.id, new)
                    if not guard.failed:
                        st.session_state[gate.FLASH_KEY] = t("sess_renamed")
                        st.rerun()
                except SessionNotFound:
                    st.error(t("sess_not_found"))
        confirm = st.checkbox(t("sess_delete_confirm", rows=info.rows), key=f"sess_delete_ok_{info.id}")
        if st.button(t("sess_delete"), key="sess_delete", icon="🗑️", disabled=not confirm, type="primary"):
            try:
                with outage.db_guard() as guard:
                    n = resources.get_store().delete_session(uid, info.id)
                if not guard.failed:
                    st.session_state.pop(PICK_KEY, None)
                    st.session_state[gate.FLASH_KEY] = t("sess_deleted", rows=n)
                    st.rerun()
            except SessionNotFound:
                st.error(t("sess_not_found"))
