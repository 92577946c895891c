"""Register: user name, password and its confirmation in a form; emotion.auth's rules and
messages. A new account is signed in at once and lands on the Photo page."""
from __future__ import annotations

import streamlit as st

from ui import gate, outage, resources, text
from ui.i18n import error_text, t

gate.ensure_gate()
st.title(t("register_title"))
st.caption(t("register_rules"))

with st.form("register_form", enter_to_submit=True):
    name = st.text_input(t("username"), key="register_name", max_chars=64, autocomplete="username")
    password = st.text_input(t("password"), type="password", key="register_password", max_chars=256,
                             autocomplete="new-password")
    confirm = st.text_input(t("password_confirm"), type="password", key="register_confirm", max_chars=256,
                            autocomplete="new-password")
    submitted = st.form_submit_button(t("register_button"), type="primary")

if submitted:
    from emotion.auth import AuthError, register

    user = None
    with outage.db_guard():
        try:
            user = register(resources.get_store(), name, password, confirm)
        except AuthError as err:
            st.error(error_text(err))
    if user is not None:
        gate.sign_in(user)
        st.session_state[gate.FLASH_KEY] = t("welcome_new", name=text.md(user.name))
        st.rerun()

st.caption(t("have_account"))
if st.button(t("nav_login"), key="goto_login"):
    st.switch_page("pages/login.py")
