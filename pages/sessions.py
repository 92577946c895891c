"""Sessions: the user's classroom sessions (name, date, duration, people seen) and a session's report,
its CSV / HTML downloads, rename and delete. The work is in `ui.sessions_report` and `emotion.sessions`."""
from __future__ import annotations

import streamlit as st

from ui import gate, outage, resources, sessions_report, text
from ui.i18n import t

user = gate.require_user()
uid = int(user["id"])
st.title(t("sess_title"))
flash = gate.pop_flash()
if flash:
    st.success(flash)

sessions = []
with outage.db_guard() as guard:
    sessions = resources.get_store().list_sessions(uid)
if guard.failed:
    st.stop()
if not sessions:
    st.info(t("sess_none"))
    st.caption(t("sess_hint"))
    st.stop()

st.dataframe(sessions_report.sessions_table(sessions), hide_index=True, key="sess_list")
by_id = {s.id: s for s in sessions}
if st.session_state.get(sessions_report.PICK_KEY) not in by_id:
    st.session_state.pop(sessions_report.PICK_KEY, None)
picked = st.selectbox(t("sess_pick"), list(by_id), key=sessions_report.PICK_KEY,
                      format_func=lambda i: f"{by_id[i].name} · {by_id[i].started:%Y-%m-%d %H:%M}")
info = by_id[picked]
st.header(f"{t('sess_report')}: {text.md(info.name)}", anchor=False)
sessions_report.show_report(uid, info)
sessions_report.manage(uid, info)
