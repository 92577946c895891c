"""Plain frozen results the store hands out (no ORM object leaves the store)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from emotion.records import Box, EMOTIONS
from emotion.store.schema import _to_utc


# plain results (no ORM objects leave the store: nothing to detach, safe to cache)


@dataclass(frozen=True)
class UserInfo:
    id: int
    name: str
    created: datetime
    failed_logins: int
    locked_until: datetime | None
    last_login: datetime | None
    password_hash: str = field(repr=False)

    def locked_at(self, now: datetime) -> bool:
        return self.locked_until is not None and _to_utc(now) < self.locked_until


@dataclass(frozen=True)
class PersonInfo:
    id: int
    name: str
    created: datetime
    embedding_count: int = 0


@dataclass(frozen=True)
class EmbeddingInfo:
    id: int
    person_id: int
    model_name: str
    dim: int
    created: datetime
    thumbnail: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    time: datetime
    source: str
    person_id: int | None
    name: str
    angry: float | None
    disgust: float | None
    fear: float | None
    happy: float | None
    sad: float | None
    surprise: float | None
    neutral: float | None
    dominant: str | None
    confidence: float | None
    x: int
    y: int
    w: int
    h: int
    track_id: int | None
    snapshot_id: int | None
    row_key: str | None
    offset_s: float | None = None  #: video rows: seconds from the start of the video
    media_digest: str | None = None  #: video rows: the file's SHA-256
    session_id: int | None = None  #: a classroom session's id

    @property
    def box(self) -> Box:
        return Box(self.x, self.y, self.w, self.h)

    @property
    def scores(self) -> dict[str, float | None]:
        return {e: getattr(self, e) for e in EMOTIONS}


#: `Store.history_frame`'s columns, in order (the CSV export writes them as they are)
HISTORY_COLUMNS: tuple[str, ...] = (
    "time", "source", "person", "person_id", "dominant", *EMOTIONS, "confidence",
    "box", "x", "y", "w", "h", "track", "id", "snapshot_id", "row_key", "offset_s", "media_digest", "session_id",
)


@dataclass(frozen=True)
class SnapshotInfo:
    id: int
    created: datetime
    description: str | None
    size: int


@dataclass(frozen=True)
class Snapshot:
    id: int
    created: datetime
    description: str | None
    png: bytes = field(repr=False)


