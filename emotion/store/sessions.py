"""Sessions repository: classroom sessions (start, pause, resume, end, rename, delete, list), owner-scoped.

Every query filters by the owner's ``user_id``: another user's session is `SessionNotFound`, exactly
as a session that does not exist (nobody learns which ids are taken). Deleting a session deletes its
history rows in the same transaction (and the foreign key cascades as well).

State: ``running`` (no end, not paused), ``paused`` (``paused_at`` set) or ``ended``. The duration
leaves pauses out: ``(ended or now) - started - paused_s - (now - paused_at while paused)``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select

from emotion.records import UNKNOWN
from emotion.store.errors import StoreError
from emotion.store.limits import SESSION_NAME_MAX
from emotion.store.schema import HistoryRow, SessionRow, _to_utc

STATES = ("running", "paused", "ended")


class SessionNotFound(StoreError, LookupError):
    """The session does not exist or belongs to another user."""


class SessionEnded(StoreError, ValueError):
    """The session has ended: it cannot be paused or resumed any more."""


@dataclass(frozen=True)
class SessionInfo:
    id: int
    user_id: int
    name: str
    started: datetime
    ended: datetime | None
    paused_at: datetime | None
    paused_s: float
    rows: int = 0          #: history rows in the session
    people: int = 0        #: people seen: recognised people + unknown faces counted per track

    @property
    def state(self) -> str:
        if self.ended is not None:
            return "ended"
        return "paused" if self.paused_at is not None else "running"

    def duration_s(self, now: datetime) -> float:
        """Seconds the session ran, pauses left out (up to `now` while it runs)."""
        end = self.ended or _to_utc(now)
        paused = self.paused_s
        if self.paused_at is not None:
            paused += max(0.0, ((self.ended or _to_utc(now)) - self.paused_at).total_seconds())
        return max(0.0, (end - self.started).total_seconds() - paused)


def check_session_name(name: Any) -> str:
    """The name trimmed; ValueError when empty or longer than SESSION_NAME_MAX."""
    text = " ".join(str(name or "").split())
    if not text:
        raise ValueError("a session needs a name")
    if len(text) > SESSION_NAME_MAX:
        raise ValueError(f"a session name has at most {SESSION_NAME_MAX} characters")
    return text


def _info(r: SessionRow, rows: int = 0, people: int = 0) -> SessionInfo:
    return SessionInfo(id=r.id, user_id=r.user_id, name=r.name, started=r.started, ended=r.ended,
                       paused_at=r.paused_at, paused_s=float(r.paused_s or 0.0), rows=rows, people=people)


def _people(pairs: Any) -> dict[int, int]:
    """{session_id: people seen} from distinct (session_id, person_id, name, source, media_digest,
    track_id) tuples, counted as the report counts them (`emotion.sessions.report.prepare`): a
    recognised person once, an unknown face once per track, unless that track was recognised too."""
    known: dict[int, set] = {}
    named_tracks: dict[int, set] = {}
    unknown_tracks: dict[int, set] = {}
    for sid, pid, name, source, digest, track in pairs:
        where = (source, digest or "", track)
        if pid is not None or (name and name != UNKNOWN):
            # by name, as the report does (a person deleted since keeps the name as seen)
            known.setdefault(sid, set()).add(name)
            named_tracks.setdefault(sid, set()).add(where)
        else:
            unknown_tracks.setdefault(sid, set()).add(where)
    sids = set(known) | set(unknown_tracks)
    return {sid: len(known.get(sid, ())) + len(unknown_tracks.get(sid, set()) - named_tracks.get(sid, set()))
            for sid in sids}


class SessionsRepository:
    # ---- sessions ---------------------------------------------------------------------------

    def start_session(self, user_id: int, name: str, *, time: datetime | None = None) -> SessionInfo:
        name = check_session_name(name)
        with self._session(write=True) as s:
            row = SessionRow(user_id=int(user_id), name=name, started=self._now(time), paused_s=0.0)
            s.add(row)
            s.flush()
            return _info(row)

    def _owned(self, s: Any, user_id: int, session_id: Any) -> SessionRow:
        try:
            sid = int(session_id)
        except (TypeError, ValueError):
            raise SessionNotFound("no such session") from None
        row = s.scalar(select(SessionRow).where(SessionRow.id == sid, SessionRow.user_id == int(user_id)))
        if row is None:
            raise SessionNotFound("no such session")
        return row

    def get_session(self, user_id: int, session_id: int) -> SessionInfo:
        """The user's session with its row and people counts; SessionNotFound otherwise."""
        with self._session() as s:
            row = self._owned(s, user_id, session_id)
            n = int(s.scalar(select(func.count(HistoryRow.id)).where(
                HistoryRow.user_id == int(user_id), HistoryRow.session_id == row.id)) or 0)
            pairs = s.execute(select(HistoryRow.session_id, HistoryRow.person_id, HistoryRow.name, HistoryRow.source,
                                     HistoryRow.media_digest, HistoryRow.track_id).distinct().where(
                HistoryRow.user_id == int(user_id), HistoryRow.session_id == row.id)).all()
            return _info(row, n, _people(pairs).get(row.id, 0))

    def list_sessions(self, user_id: int) -> list[SessionInfo]:
        """The user's sessions, newest first, with their row and people counts."""
        uid = int(user_id)
        with self._session() as s:
            rows = list(s.scalars(select(SessionRow).where(SessionRow.user_id == uid)
                                  .order_by(SessionRow.started.desc(), SessionRow.id.desc())))
            counts = dict(s.execute(select(HistoryRow.session_id, func.count(HistoryRow.id)).where(
                HistoryRow.user_id == uid, HistoryRow.session_id.is_not(None))
                .group_by(HistoryRow.session_id)).all())
            pairs = s.execute(select(HistoryRow.session_id, HistoryRow.person_id, HistoryRow.name, HistoryRow.source,
                                     HistoryRow.media_digest, HistoryRow.track_id).distinct().where(
                HistoryRow.user_id == uid, HistoryRow.session_id.is_not(None))).all()
            people = _people(pairs)
            return [_info(r, int(counts.get(r.id, 0)), people.get(r.id, 0)) for r in rows]

    def pause_session(self, user_id: int, session_id: int, *, time: datetime | None = None) -> SessionInfo:
        """Pause a running session (a paused one stays as it is)."""
        with self._session(write=True) as s:
            row = self._owned(s, user_id, session_id)
            if row.ended is not None:
                raise SessionEnded("the session has ended")
            if row.paused_at is None:
                row.paused_at = self._now(time)
            return _info(row)

    def resume_session(self, user_id: int, session_id: int, *, time: datetime | None = None) -> SessionInfo:
        """Resume a paused session (a running one stays as it is)."""
        with self._session(write=True) as s:
            row = self._owned(s, user_id, session_id)
            if row.ended is not None:
                raise SessionEnded("the session has ended")
            if row.paused_at is not None:
                now = self._now(time)
                row.paused_s = float(row.paused_s or 0.0) + max(0.0, (now - row.paused_at).total_seconds())
                row.paused_at = None
            return _info(row)

    def end_session(self, user_id: int, session_id: int, *, time: datetime | None = None) -> SessionInfo:
        """End the session (a pause in progress is closed first); ending twice keeps the first end."""
        with self._session(write=True) as s:
            row = self._owned(s, user_id, session_id)
            if row.ended is None:
                now = self._now(time)
                if row.paused_at is not None:
                    row.paused_s = float(row.paused_s or 0.0) + max(0.0, (now - row.paused_at).total_seconds())
                    row.paused_at = None
                row.ended = now
            return _info(row)

    def rename_session(self, user_id: int, session_id: int, name: str) -> SessionInfo:
        name = check_session_name(name)
        with self._session(write=True) as s:
            row = self._owned(s, user_id, session_id)
            row.name = name
            return _info(row)

    def delete_session(self, user_id: int, session_id: int) -> int:
        """Delete the session and its history rows; returns the number of rows deleted."""
        with self._session(write=True) as s:
            row = self._owned(s, user_id, session_id)
            n = s.execute(delete(HistoryRow).where(HistoryRow.user_id == int(user_id),
                                                   HistoryRow.session_id == row.id)).rowcount
            s.delete(row)
            return int(n or 0)

    def session_frame(self, user_id: int, session_id: int):  # noqa: ANN201 -> pandas.DataFrame
        """The session's history rows as `history_frame` gives them (oldest first); SessionNotFound
        for a session that is not the user's."""
        self.get_session(user_id, session_id)
        return self.history_frame(user_id, session_id=int(session_id))
