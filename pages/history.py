"""History: the user's analysed faces, filtered by date range, person (incl. unknown) and source;
Plotly charts (distribution, timeline, per person), a paginated table, CSV export, the saved
annotated snapshots, and "delete my history" with confirmation.

Times are shown in the browser's time zone (``st.context.timezone``, else its offset) and the date
filter means the viewer's days; the CSV keeps UTC. The timeline's bucket follows the data's time
span until the user picks one (`emotion.history_buckets`)."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import streamlit as st

from emotion.csv_export import history_csv
from emotion.history_buckets import BUCKETS, choose_bucket, viewer_timezone
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

# ---- the viewer's time zone ------------------------------------------------------------------------
try:
    tz_name, tz_offset = st.context.timezone, st.context.timezone_offset
except Exception:  # no browser context (a script run): UTC
    tz_name, tz_offset = None, None
tz = viewer_timezone(tz_name, tz_offset)
tz_label = str(tz) if tz_name and str(tz) == tz_name else datetime.now(tz).strftime("UTC%z")

# ---- filters ---------------------------------------------------------------------------------------
today = datetime.now(tz).date()
with st.container(border=True):
    f1, f2, f3 = st.columns([2, 2, 2])
    picked = f1.date_input(t("date_range_local", tz=tz_label), value=(today - timedelta(days=30), today), max_value=today,
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
start = datetime.combine(start_d, time.min, tzinfo=tz)  # the viewer's days
end = datetime.combine(end_d + timedelta(days=1), time.min, tzinfo=tz)
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
        auto = choose_bucket(df["time"], None)
        c1, c2 = st.columns(2)
        gran = c1.selectbox(t("granularity"), ["auto", *BUCKETS],
                            format_func=lambda g: t("per_auto", bucket=t("per_" + auto)) if g == "auto" else t("per_" + g),
                            key="hist_gran")  # "auto" until the user picks one; their pick is kept
        style = c2.selectbox(t("chart_style"), ["bars", "area", "lines"], format_func=lambda s: t("style_" + s),
                             key="hist_style")
        bucket = choose_bucket(df["time"], gran)
        st.plotly_chart(charts.timeline_chart(df, bucket, style, tz, tz_label), key="hist_time_chart")
    with tab_people:
        st.plotly_chart(charts.people_chart(df, who), key="hist_people_chart")

if frame is not None and not frame.empty:
    # ---- table + CSV ---------------------------------------------------------------------------------
    st.subheader(t("history_table"))
    newest = frame.sort_values(["time", "id"], ascending=False)
    pages = max(1, -(-len(newest) // PAGE_SIZE))
    page = st.number_input(t("page_of", n=pages), min_value=1, max_value=pages, value=1, step=1, key="hist_page")
    shown = newest.iloc[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    shown = shown.assign(time=shown["time"].dt.tz_convert(tz).dt.tz_localize(None))  # local wall clock
    cols = ["time", "source", who, "dominant", "confidence", *EMOTIONS]
    if "offset_s" in shown.columns and shown["offset_s"].notna().any():  # video rows: the time in the video
        cols.insert(2, "offset_s")
    config = {e: st.column_config.ProgressColumn(labels[e], min_value=0.0, max_value=1.0, format="percent")
              for e in EMOTIONS}
    config.update({"time": st.column_config.DatetimeColumn(t("time_local", tz=tz_label), format="YYYY-MM-DD HH:mm:ss"),
                   "source": t("col_source"), who: t("col_name"), "dominant": t("col_emotion"),
                   "confidence": st.column_config.NumberColumn(t("col_confidence"), format="%.2f"),
                   "offset_s": st.column_config.NumberColumn(t("video_col_time_s"), format="%.1f")})
    st.dataframe(shown[cols], column_config=config, hide_index=True, width="stretch")
    st.download_button(t("download_csv"), data=history_csv(frame), file_name=f"emotion-history-{start_d}-{end_d}.csv",
                       mime="text/csv", icon=":material/download:", key="hist_csv", on_click="ignore",
                       help=t("csv_utc_note"))

# ---- snapshots -------------------------------------------------------------------------------------
st.subheader(t("snapshots"))
snaps = []
with outage.db_guard():
    snaps = resources.get_store().list_snapshots(uid, limit=200, start=start, end=end)
if not snaps:
    st.caption(t("no_snapshots"))
else:
    labels_by_id = {s.id: f"{s.created.astimezone(tz):%Y-%m-%d %H:%M:%S} · {s.description or '#' + str(s.id)}"
                    for s in snaps}
    sid = st.selectbox(t("snapshot_pick"), list(labels_by_id), format_func=labels_by_id.get, key="hist_snapshot")
    snap = None
    with outage.db_guard():
        snap = resources.get_store().get_snapshot(uid, sid)
    if snap is not None:
        st.image(snap.png, width=480)
        st.download_button(t("download_snapshot"), data=snap.png, file_name=f"snapshot-{snap.id}.png",
                           mime="image/png", icon=":material/download:", key="hist_snap_dl", on_click="ignore")

# ---- delete ----------------------------------------------------------------------------------------
with st.expander(t("delete_history_title"), icon=":material/delete:"):
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
