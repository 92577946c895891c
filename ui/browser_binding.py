"""Binding a sign-in to the browser that made it (issue 17, finding 2).

Streamlit lets a client reconnect to an existing session by its id (the third entry of the
``Sec-WebSocket-Protocol`` header); the id also shows in upload URLs and so in proxy logs. The
sign-in lives in ``st.session_state``, so without a binding whoever knows the id is signed in.

What the browser holds and an attacker with the session id does not: Streamlit's own XSRF cookie
``_streamlit_xsrf``. Streamlit sets it (``server.enableXsrfProtection = true``, shipped in
``.streamlit/config.toml``) on the first page load with 16 random bytes; later loads re-mask the
same bytes (``2|mask|masked|timestamp``), so the *unmasked* bytes are stable for the browser's life
and differ between browsers. It is sent with the websocket handshake, where Streamlit itself checks
it against the token in the subprotocol, and ``st.context.cookies`` shows the cookies of the client
connected *now* (a reconnecting client replaces the old one). At sign-in we keep a hash of the
unmasked token and of the User-Agent; on every run (and every fragment run) `matches` compares the
current client with it, and the gate signs the session out when they differ.

This module is pure (no Streamlit); `ui.gate` feeds it ``st.context.cookies``/``headers``.
"""
from __future__ import annotations

import binascii
import hashlib
import hmac
from typing import Mapping

XSRF_COOKIE = "_streamlit_xsrf"


def xsrf_token_bytes(cookie_value: str | None) -> bytes | None:
    """The random bytes inside Streamlit's XSRF cookie (version 2 masked, or version 1 hex)."""
    if not cookie_value:
        return None
    value = cookie_value.strip("\"'")
    try:
        if value.startswith("2|"):
            _, mask_hex, masked_hex, _ts = value.split("|")
            mask, masked = binascii.a2b_hex(mask_hex), binascii.a2b_hex(masked_hex)
            if len(mask) != 4 or not masked:
                return None
            return bytes(b ^ mask[i % 4] for i, b in enumerate(masked))
        token = binascii.a2b_hex(value)
        return token or None
    except (binascii.Error, ValueError):
        return None


def fingerprint(cookies: Mapping[str, str] | None, headers: Mapping[str, str] | None) -> str:
    """A hash of what identifies this browser: the XSRF token's bytes and the User-Agent.
    Without a browser (no cookies at all, as in Streamlit's AppTest) it is the hash of nothing."""
    token = xsrf_token_bytes((cookies or {}).get(XSRF_COOKIE)) or b""
    agent = ((headers or {}).get("User-Agent") or (headers or {}).get("user-agent") or "").encode("utf-8")
    return hashlib.sha256(b"emotion-binding\0" + token + b"\0" + agent[:512]).hexdigest()


def matches(bound: str | None, current: str) -> bool:
    """True when the session's binding is the current browser's (constant-time compare)."""
    return isinstance(bound, str) and hmac.compare_digest(bound, current)
