"""Login: user name + password in a form (typed values survive an error).

Wrong user name and wrong password give the same message; failures slow down the client that makes
them (exponential back-off per address) and only many failures from many addresses lock a name, for
an existing and an unknown name alike (emotion.auth / emotion.throttle, kept in the database). After
such attacks the owner is told at the next sign-in."""
from __future__ import annotations

import streamlit as st

from ui import gate, outage, resources
from ui.auth_messages import login_notice_text
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
    from emotion.auth import AccountLocked, AuthError, TooManyAttempts, login_with_notice

    from ui import faceauth_step

    user = notice = None
    with outage.db_guard():
        try:
            user, notice = login_with_notice(resources.get_store(), name, password,
                                             client=gate.client_address())
        except AccountLocked as err:
            st.error(error_text(err), icon=":material/lock:")
        except TooManyAttempts as err:
            st.error(error_text(err), icon=":material/hourglass_top:")
        except AuthError as err:
            faceauth_step.audit_password_failure(name)
            st.error(error_text(err))
    if user is not None:
        if faceauth_step.after_password(user):
            gate.begin_second_factor(user)
        else:
            gate.sign_in(user)
        notice_text = login_notice_text(notice)
        if notice_text:
            st.session_state[gate.NOTICE_KEY] = notice_text
        st.rerun()

st.caption(t("no_account_yet"))
if st.button(t("nav_register"), key="goto_register"):
    st.switch_page("pages/register.py")
