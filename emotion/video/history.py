"""A video's analysis as history rows: source ``video``, one row per person per second of video.

`history_rows(result, user_id=..., digest=..., started_at=...)` buckets the per-sample rows into
`interval_s` (1 s) stretches per track, with the bucket's mean scores, and gives each row:

* ``time``: `started_at` (when the video was analysed) plus the offset, so the History page's time
  filters and charts work as for the camera;
* ``offset_s``: seconds from the start of the video (the column comes with migration 0005);
* ``media_digest``: the file's SHA-256, the video's key;
* ``row_key``: a uuid derived from (user, digest, track, bucket), so saving the same video twice, from
  a rerun or a second tab, writes nothing new (the store skips keys it has);
* ``name`` / ``person_id``: the track's resolved name (`VideoResult.person_names`), so samples before
  the recognition are credited to the person too.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import numpy as np

from emotion.records import EMOTIONS, UNKNOWN

_NAMESPACE = uuid.UUID("5b0f0f3e-7d1a-4d8e-9a39-3c6f1e2b7a13")


def row_key(user_id: int, digest: str, track: int, bucket: int, session_id: int | None = None) -> str:
    suffix = "" if session_id is None else f":s{int(session_id)}"
    return str(uuid.uuid5(_NAMESPACE, f"{user_id}:{digest}:{track}:{bucket}{suffix}"))


def history_rows(result, *, user_id: int, digest: str, started_at: datetime | None = None,
                 interval_s: float = 1.0, session_id: int | None = None) -> list[dict]:
    started_at = started_at or datetime.now(timezone.utc)
    names = result.person_names()
    ids: dict[int, int | None] = {}
    for r in result.rows:
        if r.person_id is not None and r.name == names.get(r.track):
            ids.setdefault(r.track, r.person_id)
    buckets: dict[tuple[int, int], list] = {}
    for r in result.rows:
        buckets.setdefault((r.track, int(r.time_s // interval_s)), []).append(r)
    out = []
    for (track, b), rows in sorted(buckets.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        first = rows[0]
        scored = [x.scores for x in rows if x.scores]
        scores = [float(v) for v in np.mean(np.asarray(scored, np.float64), axis=0)] if scored else None
        name = names.get(track, UNKNOWN)
        out.append({
            "row_key": row_key(user_id, digest, track, b, session_id),
            "time": started_at + timedelta(seconds=first.time_s),
            "source": "video",
            "offset_s": round(first.time_s, 3),
            "media_digest": digest,
            "track_id": track,
            "name": UNKNOWN if name.startswith(UNKNOWN) else name,
            "person_id": ids.get(track),
            "box": first.box,
            "confidence": None,
            "scores": scores,
            "dominant": None if scores is None else EMOTIONS[int(np.argmax(scores))],
            "session_id": session_id,
        })
    return out
