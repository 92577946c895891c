"""Login: user name + password in a form (typed values survive an error).

Wrong user name and wrong password give the same message; after 5 failures the account is locked
for 15 minutes (kept in the database by emotion.auth, so it holds across sessions)."""
from __future__ import annotations

import streamlit as st

from ui import gate, outage, resources
from ui.i18n import error_text, t

gate.ensure_gate()
st.title(t("login_title"))

flash = gate.pop_flash()
if flash:
    st.info(flash)

pending = gate.pending_second_factor()
if pending is not None:  # password checked; the face step decides (ui.faceauth_step)
    from ui import faceauth_step

    faceauth_step.render(pending)
    st.stop()

with st.form("login_form", enter_to_submit=True):
    name = st.text_input(t("username"), key="login_name", max_chars=64, autocomplete="username")
    password = st.text_input(t("password"), type="password", key="login_password", max_chars=256,
                             autocomplete="current-password")
    submitted = st.form_submit_button(t("login_button"), type="primary")

if submitted:
    from emotion.auth import AccountLocked, AuthError, login

    from ui import faceauth_step

    user = None
    with outage.db_guard():
        try:
            user = login(resources.get_store(), name, password)
        except AccountLocked as err:
            st.error(error_text(err), icon=":material/lock:")
        except AuthError as err:
            faceauth_step.audit_password_failure(name)
            st.error(error_text(err))
    if user is not None:
        if faceauth_step.after_password(user):
            gate.begin_second_factor(user)
        else:
            gate.sign_in(user)
        st.rerun()

st.caption(t("no_account_yet"))
if st.button(t("nav_register"), key="goto_register"):
    st.switch_page("pages/register.py")
