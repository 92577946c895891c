"""Labels of the security hardening (issue 17): the notice after attacks on an account, the session
binding, and the upload queue. Merged by `ui.i18n`. The refusals themselves (throttling, look-alike
names, refused formats, busy analysis slots) are typed engine errors, labelled in `ui/i18n_errors.py`."""
from __future__ import annotations

EN: dict[str, str] = {
    # the notice at the next sign-in
    "sec_login_notice": "Since your last sign-in there were {failures} failed sign-in attempts on your account "
                        "from {clients} different addresses.",
    "sec_login_notice_locked": "Because of them your account was locked for a while. If this was not you, "
                               "choose a stronger password.",
    # session binding
    "sec_session_moved": "You were signed out: this session was opened from another browser.",
    # uploads
    "sec_analysis_waiting": "The server is busy analysing other photos: yours is number {n} in the queue…",
    "sec_prepare_png": "Prepare the annotated PNG",
}

ZH: dict[str, str] = {
    "sec_login_notice": "自您上次登录以来，您的账户有 {failures} 次失败的登录尝试，来自 {clients} 个不同的地址。",
    "sec_login_notice_locked": "因此您的账户曾被暂时锁定。如果这不是您本人，请设置更强的密码。",
    "sec_session_moved": "您已被登出：此会话在另一个浏览器中被打开。",
    "sec_analysis_waiting": "服务器正在分析其他照片：您的照片在队列中排第 {n} 位…",
    "sec_prepare_png": "生成标注后的 PNG",
}
