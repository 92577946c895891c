"""What the UI reads from its environment: variables first, then .streamlit/secrets.toml (which may not
exist): the database URL, the session timeout, the live camera's ICE servers and history period."""
from __future__ import annotations

import json
import logging
import os
from datetime import timedelta
from typing import Any

import streamlit as st

DEFAULT_SESSION_TIMEOUT_MIN = 30.0

log = logging.getLogger(__name__)


def secret(*path: str, default: Any = None) -> Any:
    """``st.secrets[path[0]][path[1]]...`` or `default` when there is no secrets file or no such key."""
    try:
        node: Any = st.secrets
        for key in path:
            node = node[key]
        return node
    except Exception:  # no secrets.toml (StreamlitSecretNotFoundError), a missing key, a parse error
        return default


def database_url() -> str | None:
    """DATABASE_URL, else ``[database] url`` from st.secrets, else None (the Store's SQLite default)."""
    return os.environ.get("DATABASE_URL") or secret("database", "url") or None


def session_timeout() -> timedelta:
    """Inactivity timeout: EMOTION_SESSION_TIMEOUT_MIN (or ..._MINUTES), else
    ``[auth] session_timeout_minutes`` in st.secrets, else 30 minutes."""
    raw = (os.environ.get("EMOTION_SESSION_TIMEOUT_MIN") or os.environ.get("EMOTION_SESSION_TIMEOUT_MINUTES")
           or secret("auth", "session_timeout_minutes"))
    try:
        minutes = float(raw) if raw not in (None, "") else DEFAULT_SESSION_TIMEOUT_MIN
    except (TypeError, ValueError):
        minutes = DEFAULT_SESSION_TIMEOUT_MIN
    return timedelta(minutes=max(minutes, 0.1))


def ice_servers() -> list:
    """EMOTION_ICE_SERVERS: a JSON list of RTCIceServer dicts for the live camera; [] (none) by default."""
    raw = os.environ.get("EMOTION_ICE_SERVERS", "").strip()
    if not raw:
        return []
    try:
        servers = json.loads(raw)
    except json.JSONDecodeError:
        log.warning("EMOTION_ICE_SERVERS is not valid JSON; using no ICE servers")
        return []
    return servers if isinstance(servers, list) else []


def history_period() -> float:
    """Seconds between two history rows of one tracked face: EMOTION_LIVE_HISTORY_PERIOD_S, else 1."""
    try:
        return max(0.1, float(os.environ.get("EMOTION_LIVE_HISTORY_PERIOD_S", "1")))
    except ValueError:
        return 1.0
