"""Labels of the security hardening (issue 17): sign-in/sign-up refusals by code, throttling, the
notice after attacks on an account, the session binding, and the upload queue. Merged by `ui.i18n`."""
from __future__ import annotations

EN: dict[str, str] = {
    # emotion.auth codes (AuthError.code -> "sec_" + code)
    "sec_wrong_credentials": "Wrong user name or password.",
    "sec_account_locked": "Too many failed sign-ins from many places: this account is locked for now. "
                          "Please try again in about {minutes} minutes.",
    "sec_too_many_attempts": "Too many attempts from this device. Please wait {seconds} s and try again.",
    "sec_too_many_registrations": "Too many new accounts from this device lately. Please try again in {seconds} s.",
    "sec_name_taken": "That user name is already taken.",
    "sec_name_missing": "Please enter a user name.",
    "sec_name_length": "A user name has {min} to {max} characters.",
    "sec_name_spaces": "A user name cannot contain spaces.",
    "sec_name_chars": "A user name may only contain letters, digits and _ . -",
    "sec_name_mixed_scripts": "A user name cannot mix look-alike alphabets (such as Latin with Cyrillic or Greek).",
    "sec_password_missing": "Please enter a password.",
    "sec_password_short": "The password must have at least {pmin} characters.",
    "sec_password_long": "The password can have at most {pmax} characters.",
    "sec_password_mismatch": "The two passwords do not match.",
    "sec_auth_error": "Sign-in refused.",
    # the notice at the next sign-in
    "sec_login_notice": "Since your last sign-in there were {failures} failed sign-in attempts on your account "
                        "from {clients} different addresses.",
    "sec_login_notice_locked": "Because of them your account was locked for a while. If this was not you, "
                               "choose a stronger password.",
    # session binding
    "sec_session_moved": "You were signed out: this session was opened from another browser.",
    # uploads
    "sec_analysis_waiting": "The server is busy analysing other photos: yours is number {n} in the queue…",
    "sec_analysis_busy": "The server is too busy to analyse your photo right now. Please try again in a minute.",
    "sec_prepare_png": "Prepare the annotated PNG",
}

ZH: dict[str, str] = {
    "sec_wrong_credentials": "用户名或密码错误。",
    "sec_account_locked": "来自多个地点的登录失败次数过多：此账户暂时被锁定。请在大约 {minutes} 分钟后重试。",
    "sec_too_many_attempts": "此设备的尝试次数过多。请等待 {seconds} 秒后重试。",
    "sec_too_many_registrations": "此设备最近创建的新账户过多。请在 {seconds} 秒后重试。",
    "sec_name_taken": "该用户名已被占用。",
    "sec_name_missing": "请输入用户名。",
    "sec_name_length": "用户名长度为 {min} 到 {max} 个字符。",
    "sec_name_spaces": "用户名不能包含空格。",
    "sec_name_chars": "用户名只能包含字母、数字以及 _ . -",
    "sec_name_mixed_scripts": "用户名不能混用外形相似的字母表（例如拉丁字母与西里尔字母或希腊字母）。",
    "sec_password_missing": "请输入密码。",
    "sec_password_short": "密码至少需要 {pmin} 个字符。",
    "sec_password_long": "密码最多 {pmax} 个字符。",
    "sec_password_mismatch": "两次输入的密码不一致。",
    "sec_auth_error": "登录被拒绝。",
    "sec_login_notice": "自您上次登录以来，您的账户有 {failures} 次失败的登录尝试，来自 {clients} 个不同的地址。",
    "sec_login_notice_locked": "因此您的账户曾被暂时锁定。如果这不是您本人，请设置更强的密码。",
    "sec_session_moved": "您已被登出：此会话在另一个浏览器中被打开。",
    "sec_analysis_waiting": "服务器正在分析其他照片：您的照片在队列中排第 {n} 位…",
    "sec_analysis_busy": "服务器太忙，暂时无法分析您的照片。请一分钟后重试。",
    "sec_prepare_png": "生成标注后的 PNG",
}
