"""Emotion dashboard: `streamlit run app.py`.

The entry point only routes: signed-out visitors get Login and Register; signed-in users get Photo
(the default), Live, Video, Sessions, People, History, Settings and Models, and a Log out button. Sessions end after
30 minutes without activity (EMOTION_SESSION_TIMEOUT_MIN). The thin page scripts live in pages/,
their helpers in the ui/ package, every label in ui/i18n.py.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui import gate, outage, resources, text, user_settings
from ui.i18n import language_switch, t

HERE = Path(__file__).resolve().parent

st.set_page_config(page_title="Emotion dashboard", page_icon=":material/mood:", layout="wide")
gate.begin_run()
user_settings.apply_pending_language()  # the language restored at sign-in
lang = language_switch()

user = gate.check_session()

if user is None:
    pages = [
        st.Page("pages/login.py", title=t("nav_login"), icon=":material/login:", default=True),
        st.Page("pages/register.py", title=t("nav_register"), icon=":material/person_add:"),
    ]
else:
    pages = [st.Page("pages/photo.py", title=t("nav_photo"), icon=":material/photo_camera:", default=True)]
    if (HERE / "pages" / "live.py").is_file():
        pages.append(st.Page("pages/live.py", title=t("nav_live"), icon=":material/videocam:"))
    pages.append(st.Page("pages/video.py", title=t("video_nav"), icon=":material/movie:"))
    pages.append(st.Page("pages/sessions.py", title=t("sess_nav"), icon=":material/school:"))
    pages += [
        st.Page("pages/people.py", title=t("nav_people"), icon=":material/group:"),
        st.Page("pages/history.py", title=t("nav_history"), icon=":material/monitoring:"),
        st.Page("pages/settings.py", title=t("nav_settings"), icon=":material/settings:"),
        st.Page("pages/models.py", title=t("nav_models"), icon=":material/memory:"),
    ]
    if user_settings.get_settings().language != lang:  # the sidebar switch is a setting too
        with outage.db_guard(t("settings_not_saved")):
            user_settings.save_settings(resources.get_store(), user["id"], language=lang)
    flash = gate.pop_flash()  # e.g. "Face check passed." / recovery codes left, after a sign-in
    if flash:
        st.toast(flash, icon=":material/verified_user:")
    with st.sidebar:
        st.caption(t("signed_in_as", name=text.md(user["name"])))
        if st.button(t("logout"), key="logout_button", icon=":material/logout:"):
            gate.sign_out(flash=t("logged_out"))
            st.rerun()

# The database being down is said once, on every page; pages that need it carry on without it.
with outage.db_guard():
    resources.get_store()

st.navigation(pages).run()
