"""ICE servers for the face factor's camera: EMOTION_ICE_SERVERS (a JSON list), default none (as Live)."""
from __future__ import annotations

import json
import logging
import os

log = logging.getLogger(__name__)


def ice_servers() -> list:
    raw = os.environ.get("EMOTION_ICE_SERVERS", "").strip()
    if not raw:
        return []
    try:
        servers = json.loads(raw)
    except json.JSONDecodeError:
        log.warning("EMOTION_ICE_SERVERS is not valid JSON; using no ICE servers")
        return []
    return servers if isinstance(servers, list) else []
