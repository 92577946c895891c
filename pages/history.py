"""History: the user's analysed faces, filtered by date range, person (incl. unknown) and source;
Plotly charts (distribution, timeline, per person), a paginated table, CSV export, the saved
annotated snapshots, and "delete my history" with confirmation."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import streamlit as st

from ui import charts, gate, outage, resources, uploads
from ui.i18n import t

PAGE_SIZE = 50

user = gate.require_user()
uid = user["id"]
st.title(t("history_title"))
flash = gate.pop_flash()
if flash:
    st.success(flash)

from emotion.records import EMOTIONS  # noqa: E402

SOURCES = ("photo", "camera", "video")
people = []
with outage.db_guard() as guard:
    people = resources.get_store().list_people(uid)
    total = resources.get_store().history_count(uid)
if guard.failed:
    st.stop()
if total == 0:
    st.info(t("history_empty"))
    st.stop()

# ---- filters ---------------------------------------------------------------------------------------
today = datetime.now(timezone.utc).date()
with st.container(border=True):
    f1, f2, f3 = st.columns([2, 2, 2])
    picked = f1.date_input(t("date_range"), value=(today - timedelta(days=30), today), max_value=today,
                           key="hist_dates")
    unknown_label = t("unknown")
    person_options = [None] + [p.id for p in people]
    names = {None: unknown_label, **{p.id: p.name for p in people}}
    chosen_people = f2.multiselect(t("filter_people"), person_options, format_func=lambda i: names.get(i, "?"),
                                   placeholder=t("everyone"), key="hist_people")
    chosen_sources = f3.multiselect(t("filter_source"), SOURCES, format_func=lambda s: t("source_" + s),
                                    placeholder=t("all_sources"), key="hist_sources")

if isinstance(picked, (tuple, list)):
    start_d = picked[0] if len(picked) > 0 else today - timedelta(days=30)
    end_d = picked[1] if len(picked) > 1 else start_d
else:
    start_d = end_d = picked
start = datetime.combine(start_d, time.min, tzinfo=timezone.utc)
end = datetime.combine(end_d, time.min, tzinfo=timezone.utc) + timedelta(days=1)
filters = dict(start=start, end=end, person_ids=chosen_people or None, sources=chosen_sources or None)

frame = None
with outage.db_guard() as guard:
    frame = resources.get_store().history_frame(uid, **filters)
if guard.failed or frame is None:
    st.stop()

labels = charts.emotion_labels()
who = "person" if "person" in frame.columns else "name"  # the name as seen at the time
df = None
if frame.empty:
    st.info(t("history_no_match"))
else:
    st.metric(t("faces_in_range"), len(frame))
    df = charts.with_emotion_category(frame)
    if df.empty:
        st.info(t("history_no_emotions"))
        df = None

if df is not None:
    tab_dist, tab_time, tab_people = st.tabs([t("chart_distribution"), t("chart_timeline"), t("chart_people")])
    with tab_dist:
        kind = st.radio(t("chart_kind"), ["bar", "pie"], format_func=lambda k: t("chart_" + k), horizontal=True,
                        key="hist_dist_kind")
        st.plotly_chart(charts.distribution_chart(df, kind), key="hist_dist_chart")
    with tab_time:
        c1, c2 = st.columns(2)
        gran = c1.radio(t("granularity"), list(charts.FREQS), index=1, format_func=lambda g: t("per_" + g),
                        horizontal=True, key="hist_gran")
        style = c2.radio(t("chart_style"), ["area", "lines"], format_func=lambda s: t("style_" + s),
                         horizontal=True, key="hist_style")
        st.plotly_chart(charts.timeline_chart(df, gran, style), key="hist_time_chart")
    with tab_people:
        st.plotly_chart(charts.people_chart(df, who), key="hist_people_chart")

if frame is not None and not frame.empty:
    # ---- table + CSV ---------------------------------------------------------------------------------
    st.subheader(t("history_table"))
    newest = frame.sort_values(["time", "id"], ascending=False)
    pages = max(1, -(-len(newest) // PAGE_SIZE))
    page = st.number_input(t("page_of", n=pages), min_value=1, max_value=pages, value=1, step=1, key="hist_page")
    shown = newest.iloc[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    cols = ["time", "source", who, "dominant", "confidence", *EMOTIONS]
    if "offset_s" in shown.columns and shown["offset_s"].notna().any():  # video rows: the time in the video
        cols.insert(2, "offset_s")
    config = {e: st.column_config.ProgressColumn(labels[e], min_value=0.0, max_value=1.0, format="percent")
              for e in EMOTIONS}
    config.update({"time": st.column_config.DatetimeColumn(t("time_utc"), format="YYYY-MM-DD HH:mm:ss"),
                   "source": t("col_source"), who: t("col_name"), "dominant": t("col_emotion"),
                   "confidence": st.column_config.NumberColumn(t("col_confidence"), format="%.2f"),
                   "offset_s": st.column_config.NumberColumn(t("video_col_time_s"), format="%.1f")})
    st.dataframe(shown[cols], column_config=config, hide_index=True, width="stretch")
    csv = frame.to_csv(index=False).encode("utf-8")
    st.download_button(t("download_csv"), data=csv, file_name=f"emotion-history-{start_d}-{end_d}.csv",
                       mime="text/csv", icon="⬇️", key="hist_csv", on_click="ignore")

# ---- snapshots -------------------------------------------------------------------------------------
st.subheader(t("snapshots"))
snaps = []
with outage.db_guard():
    snaps = resources.get_store().list_snapshots(uid, limit=200, start=start, end=end)
if not snaps:
    st.caption(t("no_snapshots"))
else:
    labels_by_id = {s.id: f"{s.created:%Y-%m-%d %H:%M:%S} UTC · {s.description or '#' + str(s.id)}" for s in snaps}
    sid = st.selectbox(t("snapshot_pick"), list(labels_by_id), format_func=labels_by_id.get, key="hist_snapshot")
    snap = None
    with outage.db_guard():
        snap = resources.get_store().get_snapshot(uid, sid)
    if snap is not None:
        st.image(snap.png, width=480)
        st.download_button(t("download_snapshot"), data=snap.png, file_name=f"snapshot-{snap.id}.png",
                           mime="image/png", icon="⬇️", key="hist_snap_dl", on_click="ignore")

# ---- delete ----------------------------------------------------------------------------------------
with st.expander(t("delete_history_title"), icon="🗑️"):
    st.warning(t("delete_history_warning"))
    sure = st.checkbox(t("delete_history_confirm"), key="hist_delete_ok")
    if st.button(t("delete_history"), key="hist_delete", disabled=not sure, type="primary"):
        with outage.db_guard():
            store = resources.get_store()
            n = store.delete_history(uid)
            for s in store.list_snapshots(uid, limit=None):
                store.delete_snapshot(uid, s.id)
            st.session_state.pop(uploads.PHOTO_SAVED_KEY, None)
            st.session_state[gate.FLASH_KEY] = t("history_deleted", n=n)
            st.rerun()
