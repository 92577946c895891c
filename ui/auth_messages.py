"""Sign-in/sign-up refusals and the post-attack notice in the session's language.

`emotion.auth` raises `AuthError` with a ``code`` and ``params``; the labels are ``sec_<code>`` in
`ui.i18n_security` (English and Simplified Chinese). An unknown code shows the English text."""
from __future__ import annotations

from ui.i18n import EN, t


def auth_error_text(err: Exception) -> str:
    code = getattr(err, "code", None)
    key = f"sec_{code}"
    if code and key in EN:
        return t(key, **dict(getattr(err, "params", {}) or {}))
    return str(err) or t("sec_auth_error")


def login_notice_text(notice) -> str | None:  # noqa: ANN001 - emotion.throttle.LoginNotice
    """What to tell the owner at sign-in about failures on their account since the last one."""
    if notice is None:
        return None
    text = t("sec_login_notice", failures=notice.failures, clients=notice.clients)
    if notice.locked:
        text += " " + t("sec_login_notice_locked")
    return text
