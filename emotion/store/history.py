"""History repository: analysed faces written idempotently by row key, filtered, paged, exported as a frame."""
from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import numpy as np
from sqlalchemy import delete, false, func, insert, or_, select

from emotion.records import Box, EMOTIONS, FaceRecord, UNKNOWN
from emotion.store.engine import _is_retryable
from emotion.store.errors import StoreUnavailable
from emotion.store.limits import PERSON_NAME_MAX, SOURCES, _MYSQL_NAMES
from emotion.store.results import HISTORY_COLUMNS, HistoryEntry
from emotion.store.schema import HistoryRow, Person, SessionRow, SnapshotRow, _to_utc
from emotion.store.values import _end_bound, _is_unknown

log = logging.getLogger(__name__)


def _float_or_none(v: Any, what: str) -> float | None:
    if v is None:
        return None
    f = float(v)
    if not math.isfinite(f):
        raise ValueError(f"{what} must be a finite number, not {v!r}")
    return f


def _int_or_none(v: Any) -> int | None:
    return None if v is None else int(v)


def _scores_dict(scores: Any) -> dict[str, float | None]:
    if scores is None:
        return {e: None for e in EMOTIONS}
    if isinstance(scores, Mapping):
        unknown = set(scores) - set(EMOTIONS)
        if unknown:
            raise ValueError(f"unknown emotion(s) {sorted(unknown)}; expected {EMOTIONS}")
        return {e: _float_or_none(scores.get(e), e) for e in EMOTIONS}
    arr = np.asarray(scores, dtype=np.float64).ravel()
    if arr.shape != (len(EMOTIONS),):
        raise ValueError(f"scores must have {len(EMOTIONS)} values in the order {EMOTIONS}")
    return {e: _float_or_none(v, e) for e, v in zip(EMOTIONS, arr)}


def history_row(record: FaceRecord, *, time: datetime | None = None, row_key: str | None = None,
                snapshot_id: int | None = None, source: str | None = None) -> dict[str, Any]:
    """A `FaceRecord` as a dict for `Store.add_history` (add a `row_key` to make retries no-ops)."""
    row: dict[str, Any] = {
        "box": record.box,
        "confidence": record.confidence,
        "name": record.identity.name,
        "person_id": record.identity.person_id,
        "scores": record.scores,
        "track_id": record.track_id,
    }
    for key, value in (("time", time), ("row_key", row_key), ("snapshot_id", snapshot_id), ("source", source)):
        if value is not None:
            row[key] = value
    return row


def _check_row_key(key: Any) -> str:
    key = str(key)
    if not 1 <= len(key) <= 36:
        raise ValueError("row_key must be 1-36 characters (a uuid)")
    return key


def _normalise_history_row(row: FaceRecord | Mapping[str, Any], *, user_id: int, source: str,
                           time: datetime, snapshot_id: int | None) -> dict[str, Any]:
    if isinstance(row, FaceRecord):
        row = history_row(row)
    elif not isinstance(row, Mapping):
        raise TypeError(f"history rows are FaceRecords or dicts, not {type(row).__name__}")
    src = row.get("source", source)
    if src not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, not {src!r}")
    box = row.get("box")
    if box is None:
        x, y, w, h = (row[k] for k in ("x", "y", "w", "h"))
    elif isinstance(box, Box):
        x, y, w, h = box.as_tuple()
    elif isinstance(box, Mapping):
        x, y, w, h = (box[k] for k in ("x", "y", "w", "h"))
    else:
        x, y, w, h = box
    if "scores" in row:
        scores = _scores_dict(row["scores"])
    else:
        scores = {e: _float_or_none(row.get(e), e) for e in EMOTIONS}
    dominant = row.get("dominant", row.get("emotion"))
    if dominant is None and all(v is not None for v in scores.values()):
        dominant = max(EMOTIONS, key=lambda e: scores[e])  # first of equals, like np.argmax
    if dominant is not None and dominant not in EMOTIONS:
        raise ValueError(f"dominant emotion must be one of {EMOTIONS}, not {dominant!r}")
    name = row.get("name")
    name = UNKNOWN if name in (None, "") else str(name).strip()[:PERSON_NAME_MAX] or UNKNOWN
    row_key = row.get("row_key")
    if row_key is not None:
        row_key = _check_row_key(row_key)
    ts = row.get("time", row.get("ts", time))
    return {
        "user_id": user_id,
        "row_key": row_key,
        "source": src,
        "ts": _to_utc(ts),
        "person_id": _int_or_none(row.get("person_id")),
        "name": name,
        **scores,
        "dominant": dominant,
        "confidence": _float_or_none(row.get("confidence"), "confidence"),
        "x": int(x), "y": int(y), "w": int(w), "h": int(h),
        "track_id": _int_or_none(row.get("track_id")),
        "snapshot_id": _int_or_none(row.get("snapshot_id", snapshot_id)),
        "offset_s": _float_or_none(row.get("offset_s"), "offset_s"),
        "media_digest": _digest_or_none(row.get("media_digest")),
        "session_id": _int_or_none(row.get("session_id")),
    }


def _digest_or_none(v: Any) -> str | None:
    if v in (None, ""):
        return None
    v = str(v).strip().lower()
    if len(v) > 64 or any(c not in "0123456789abcdef" for c in v):
        raise ValueError("media_digest must be a hex digest of at most 64 characters")
    return v


def _one_of(column: Any, values: Iterable[str], allowed: Sequence[str], what: str) -> Any:
    """``column IN values`` (nothing matches an empty list); ValueError for a value not in `allowed`."""
    vals = list(values)
    bad = set(vals) - set(allowed)
    if bad:
        raise ValueError(f"unknown {what}(s) {sorted(bad)}; expected {tuple(allowed)}")
    return column.in_(vals) if vals else false()


class HistoryRepository:
    # ---- history ----------------------------------------------------------------------------

    def add_history(self, user_id: int, rows: Iterable[FaceRecord | Mapping[str, Any]], *,
                    source: str = "photo", time: datetime | None = None,
                    row_keys: Sequence[str | None] | None = None,
                    snapshot_id: int | None = None) -> int:
        """Insert analysed faces in one transaction; returns how many rows were new.

        Rows are `FaceRecord`s or dicts (see `history_row`): keys ``box`` (Box, (x, y, w, h) or
        dict) or ``x, y, w, h``; ``scores`` (7 values in EMOTIONS order or a name->score dict)
        or the seven emotion keys; optional ``name``, ``person_id``, ``dominant``,
        ``confidence``, ``track_id``, ``snapshot_id``, ``time`` (else `time`, else now),
        ``source`` (else `source`) and ``row_key`` (else ``row_keys[i]``, one per row).

        Idempotent: a row whose ``row_key`` is already stored for this user (or repeated in
        the batch) is skipped, so a batch retried after an outage is never written twice, and
        concurrent writers of the same keys write each key once (INSERT IGNORE on MySQL /
        ON CONFLICT DO NOTHING on SQLite on the (user_id, row_key) unique key; a deadlock
        between writers is retried). Rows without a key are always inserted.
        A ``person_id``/``snapshot_id`` that is not the user's (e.g. deleted meanwhile) is
        stored as NULL; the name as seen is kept."""
        default_time = self._now(time)
        rows = list(rows)
        if row_keys is not None:
            row_keys = list(row_keys)
            if len(row_keys) != len(rows):
                raise ValueError(f"row_keys has {len(row_keys)} keys for {len(rows)} rows")
        values = []
        for i, r in enumerate(rows):
            v = _normalise_history_row(r, user_id=user_id, source=source, time=default_time,
                                       snapshot_id=snapshot_id)
            if v["row_key"] is None and row_keys is not None and row_keys[i] is not None:
                v["row_key"] = _check_row_key(row_keys[i])
            values.append(v)
        # duplicates inside the batch: keep the first
        seen: set[str] = set()
        unique_values = []
        for v in values:
            if v["row_key"] is not None:
                if v["row_key"] in seen:
                    continue
                seen.add(v["row_key"])
            unique_values.append(v)
        # one order for every writer (keys first, sorted): fewer lock-order deadlocks on InnoDB
        unique_values.sort(key=lambda v: (v["row_key"] is None, v["row_key"] or ""))
        if not unique_values:
            return 0
        for attempt in range(5):
            try:
                return self._insert_history(user_id, [dict(v) for v in unique_values], seen)
            except StoreUnavailable as err:
                cause = err.__cause__
                if cause is None or not _is_retryable(cause) or attempt == 4:
                    raise
                log.info("add_history: %s; retrying", err.detail)
                import time as _time

                _time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover

    def _insert_history(self, user_id: int, values: list[dict[str, Any]], keys: set[str]) -> int:
        with self._session(write=True) as s:
            for column, table in (("person_id", Person), ("snapshot_id", SnapshotRow),
                                  ("session_id", SessionRow)):
                # an id that is not the user's (another user's, or deleted meanwhile) is stored as NULL
                ids = {v[column] for v in values if v[column] is not None}
                if ids:
                    owned = set(s.scalars(select(table.id).where(table.user_id == user_id, table.id.in_(ids))))
                    for v in values:
                        if v[column] is not None and v[column] not in owned:
                            v[column] = None
            if keys:
                # retries are settled here; the conflict clause below settles concurrent writers
                existing: set[str] = set()
                ordered = sorted(keys)
                for i in range(0, len(ordered), 500):
                    existing.update(s.scalars(select(HistoryRow.row_key).where(
                        HistoryRow.user_id == user_id, HistoryRow.row_key.in_(ordered[i:i + 500]))))
                values = [v for v in values if v["row_key"] is None or v["row_key"] not in existing]
            if not values:
                return 0
            res = s.execute(self._insert_ignore_history(), values)
            count = res.rowcount
            return len(values) if count is None or count < 0 else int(count)

    def _insert_ignore_history(self):  # noqa: ANN202
        """INSERT that skips rows whose (user_id, row_key) exists; its rowcount is the number of
        rows really inserted (INSERT IGNORE's affected rows on MySQL; not ON DUPLICATE KEY UPDATE,
        whose count PyMySQL's FOUND_ROWS flag makes include the duplicates)."""
        table = HistoryRow.__table__
        name = self.dialect
        if name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            return sqlite_insert(table).on_conflict_do_nothing(index_elements=["user_id", "row_key"])
        if name in _MYSQL_NAMES:
            # IGNORE also turns other errors into warnings: the values are validated above
            # (lengths, sources, owned person/snapshot ids), so only duplicates are left.
            return insert(table).prefix_with("IGNORE")
        if name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(table).on_conflict_do_nothing(index_elements=["user_id", "row_key"])
        return insert(table)

    @staticmethod
    def _history_filters(user_id: int, start: datetime | date | None, end: datetime | date | None,
                         person_ids: Iterable[int | None] | None, sources: Iterable[str] | None,
                         emotions: Iterable[str] | None, names: Iterable[str] | None = None, *,
                         person: int | str | None = None, source: str | None = None,
                         session_id: int | None = None) -> list[Any]:
        conds: list[Any] = [HistoryRow.user_id == user_id]
        if session_id is not None:
            conds.append(HistoryRow.session_id == int(session_id))
        if start is not None:
            conds.append(HistoryRow.time >= _to_utc(start))
        if end is not None:
            conds.append(HistoryRow.time < _end_bound(end))
        if person is not None:
            one: list[int | None] = [None] if _is_unknown(person) else [int(person)]
            person_ids = one if person_ids is None else [i for i in person_ids if i in one]
        if person_ids is not None:
            ids = list(person_ids)
            wanted = [int(i) for i in ids if i is not None and not _is_unknown(i)]
            alternatives = []
            if wanted:
                alternatives.append(HistoryRow.person_id.in_(wanted))
            if any(i is None or _is_unknown(i) for i in ids):
                alternatives.append(HistoryRow.person_id.is_(None))
            conds.append(or_(*alternatives) if alternatives else false())
        if source is not None:
            sources = [source] if sources is None else [x for x in sources if x == source]
            if source not in SOURCES:
                raise ValueError(f"unknown source {source!r}; expected {SOURCES}")
        if sources is not None:
            conds.append(_one_of(HistoryRow.source, sources, SOURCES, "source"))
        if emotions is not None:
            conds.append(_one_of(HistoryRow.dominant, emotions, EMOTIONS, "emotion"))
        if names is not None:
            nm = list(names)
            conds.append(HistoryRow.name.in_(nm) if nm else false())
        return conds

    def history(self, user_id: int, *, start: datetime | date | None = None, end: datetime | date | None = None,
                person: int | str | None = None, source: str | None = None,
                person_ids: Iterable[int | None] | None = None, sources: Iterable[str] | None = None,
                emotions: Iterable[str] | None = None, names: Iterable[str] | None = None,
                limit: int | None = None, offset: int = 0, newest_first: bool = True,
                session_id: int | None = None) -> list[HistoryEntry]:
        """The user's analysed faces, filtered and paged.

        ``start <= time < end``: datetimes (naive = UTC) or dates; a *date* as `end` includes
        that whole day (UTC). ``person``: a person id or ``"unknown"`` (faces not recognised,
        or recognised as someone since deleted); ``source``: "photo", "camera" or "video".
        The plural filters take several values: ``person_ids`` (``None`` in it = unknown),
        ``sources``, ``emotions`` (dominant), ``names`` (as seen); an empty list matches
        nothing, ``None`` means no filter. Paged with limit/offset, newest first unless told
        otherwise (ties broken by id). ``session_id``: only that classroom session's rows."""
        conds = self._history_filters(user_id, start, end, person_ids, sources, emotions, names,
                                      person=person, source=source, session_id=session_id)
        order = (HistoryRow.time.desc(), HistoryRow.id.desc()) if newest_first else (HistoryRow.time, HistoryRow.id)
        stmt = select(HistoryRow).where(*conds).order_by(*order)
        if limit is not None:
            stmt = stmt.limit(max(0, int(limit)))
        if offset:
            if limit is None:
                stmt = stmt.limit(2**62)  # MySQL needs a LIMIT with OFFSET
            stmt = stmt.offset(max(0, int(offset)))
        with self._session() as s:
            return [HistoryEntry(
                id=r.id, time=r.time, source=r.source, person_id=r.person_id, name=r.name,
                angry=r.angry, disgust=r.disgust, fear=r.fear, happy=r.happy, sad=r.sad,
                surprise=r.surprise, neutral=r.neutral, dominant=r.dominant, confidence=r.confidence,
                x=r.x, y=r.y, w=r.w, h=r.h, track_id=r.track_id, snapshot_id=r.snapshot_id,
                row_key=r.row_key, offset_s=r.offset_s, media_digest=r.media_digest,
                session_id=r.session_id) for r in s.scalars(stmt)]

    def history_count(self, user_id: int, *, start: datetime | date | None = None,
                      end: datetime | date | None = None, person: int | str | None = None,
                      source: str | None = None, person_ids: Iterable[int | None] | None = None,
                      sources: Iterable[str] | None = None, emotions: Iterable[str] | None = None,
                      names: Iterable[str] | None = None, session_id: int | None = None) -> int:
        """How many rows `history` would return without paging."""
        conds = self._history_filters(user_id, start, end, person_ids, sources, emotions, names,
                                      person=person, source=source, session_id=session_id)
        with self._session() as s:
            return int(s.scalar(select(func.count(HistoryRow.id)).where(*conds)) or 0)

    def history_frame(self, user_id: int, start: datetime | date | None = None,
                      end: datetime | date | None = None, person: int | str | None = None,
                      source: str | None = None, *, person_ids: Iterable[int | None] | None = None,
                      sources: Iterable[str] | None = None, emotions: Iterable[str] | None = None,
                      names: Iterable[str] | None = None, limit: int | None = None, offset: int = 0,
                      newest_first: bool = False, session_id: int | None = None):  # noqa: ANN201
        """`history` (same filters) as a pandas DataFrame with `HISTORY_COLUMNS`, oldest first by
        default (for charts):

        ``time`` tz-aware UTC (ms); ``source``; ``person`` the name as seen ("unknown" for a
        stranger); ``person_id`` (nullable Int64; <NA> for unknown or deleted people);
        ``dominant``; the seven scores and ``confidence`` (float64); ``box`` as text
        ``"x,y,w,h"`` plus ``x, y, w, h`` (Int64); ``track`` (Int64, camera/video only);
        ``id`` and ``snapshot_id`` (Int64), ``row_key``. Same columns, zero rows, when nothing
        matches."""
        import pandas as pd

        entries = self.history(user_id, start=start, end=end, person=person, source=source,
                               person_ids=person_ids, sources=sources, emotions=emotions, names=names,
                               limit=limit, offset=offset, newest_first=newest_first, session_id=session_id)
        cols: dict[str, list[Any]] = {
            "time": [e.time for e in entries],
            "source": [e.source for e in entries],
            "person": [e.name for e in entries],
            "person_id": [e.person_id for e in entries],
            "dominant": [e.dominant for e in entries],
            **{emo: [getattr(e, emo) for e in entries] for emo in EMOTIONS},
            "confidence": [e.confidence for e in entries],
            "box": [f"{e.x},{e.y},{e.w},{e.h}" for e in entries],
            "x": [e.x for e in entries], "y": [e.y for e in entries],
            "w": [e.w for e in entries], "h": [e.h for e in entries],
            "track": [e.track_id for e in entries],
            "id": [e.id for e in entries],
            "snapshot_id": [e.snapshot_id for e in entries],
            "row_key": [e.row_key for e in entries],
            "offset_s": [e.offset_s for e in entries],
            "media_digest": [e.media_digest for e in entries],
            "session_id": [e.session_id for e in entries],
        }
        assert tuple(cols) == HISTORY_COLUMNS
        data: dict[str, Any] = {}
        for c, values in cols.items():
            if c == "time":
                data[c] = pd.to_datetime(pd.Series(values, dtype=object), utc=True).astype("datetime64[ms, UTC]")
            elif c in ("id", "person_id", "x", "y", "w", "h", "track", "snapshot_id", "session_id"):
                data[c] = pd.array(values, dtype="Int64")
            elif c in EMOTIONS or c in ("confidence", "offset_s"):
                data[c] = pd.array([np.nan if v is None else v for v in values], dtype="float64")
            else:
                data[c] = pd.Series(values, dtype=object)
        return pd.DataFrame(data, columns=list(HISTORY_COLUMNS))

    def delete_history(self, user_id: int, *, start: datetime | date | None = None,
                       end: datetime | date | None = None, person: int | str | None = None,
                       source: str | None = None, person_ids: Iterable[int | None] | None = None,
                       sources: Iterable[str] | None = None, ids: Iterable[int] | None = None) -> int:
        """Delete the user's history (all of it, or what the filters / ids select); returns the
        number of rows deleted. Snapshots are kept (see `delete_snapshot`)."""
        conds = self._history_filters(user_id, start, end, person_ids, sources, None,
                                      person=person, source=source)
        if ids is not None:
            id_list = [int(i) for i in ids]
            conds.append(HistoryRow.id.in_(id_list) if id_list else false())
        with self._session(write=True) as s:
            return s.execute(delete(HistoryRow).where(*conds)).rowcount

