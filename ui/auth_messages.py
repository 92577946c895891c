"""The notice shown to the owner at sign-in after failed attempts on their account
(`emotion.throttle.LoginNotice`), in the session's language (labels ``sec_login_notice*`` in
`ui.i18n_security`). Refusals themselves are typed engine errors shown with `ui.i18n.error_text`."""
from __future__ import annotations

from ui.i18n import t


def login_notice_text(notice) -> str | None:  # noqa: ANN001 - emotion.throttle.LoginNotice
    """What to tell the owner at sign-in about failures on their account since the last one."""
    if notice is None:
        return None
    text = t("sec_login_notice", failures=notice.failures, clients=notice.clients)
    if notice.locked:
        text += " " + t("sec_login_notice_locked")
    return text
