"""Issue 17: the pieces of the session binding (ui.browser_binding) and the shipped Streamlit
configuration (no stack traces to users; XSRF protection on, which the binding relies on). The
end-to-end takeover test is tests/e2e/test_session_binding.py."""
from __future__ import annotations

import binascii
import os
import subprocess
import sys
from pathlib import Path

from ui import browser_binding as bb

ROOT = Path(__file__).resolve().parents[1]
TOKEN = bytes(range(16))


def _cookie(token: bytes, mask: bytes, ts: int = 1764460800) -> str:
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(token))
    return f"2|{binascii.b2a_hex(mask).decode()}|{binascii.b2a_hex(masked).decode()}|{ts}"


def test_xsrf_cookie_is_unmasked_to_the_same_token_whatever_the_mask():
    a, b = _cookie(TOKEN, b"\x01\x02\x03\x04"), _cookie(TOKEN, b"\xaa\xbb\xcc\xdd", 1764460999)
    assert a != b
    assert bb.xsrf_token_bytes(a) == bb.xsrf_token_bytes(b) == TOKEN
    assert bb.xsrf_token_bytes("garbage|x") is None and bb.xsrf_token_bytes(None) is None


def test_fingerprint_tells_browsers_apart():
    ua = {"User-Agent": "Mozilla/5.0 test"}
    mine = bb.fingerprint({bb.XSRF_COOKIE: _cookie(TOKEN, b"\x01\x02\x03\x04")}, ua)
    same_browser_reloaded = bb.fingerprint({bb.XSRF_COOKIE: _cookie(TOKEN, b"\x09\x09\x09\x09")}, ua)
    other_browser = bb.fingerprint({bb.XSRF_COOKIE: _cookie(bytes(16), b"\x01\x02\x03\x04")}, ua)
    no_cookie = bb.fingerprint({}, ua)
    assert bb.matches(mine, same_browser_reloaded)
    assert not bb.matches(mine, other_browser) and not bb.matches(mine, no_cookie)
    assert not bb.matches(mine, bb.fingerprint({bb.XSRF_COOKIE: _cookie(TOKEN, b"\x01\x02\x03\x04")},
                                               {"User-Agent": "curl/8"}))
    assert not bb.matches(None, mine)


def _option(name: str) -> str:
    code = ("from streamlit import config; config.get_config_options(force_reparse=True); "
            f"print(config.get_option({name!r}))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


def test_shipped_config_shows_no_error_details_and_keeps_xsrf_on():
    assert _option("client.showErrorDetails") == "none"
    assert _option("server.enableXsrfProtection") == "True"
