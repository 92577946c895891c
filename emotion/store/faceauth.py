"""Face-factor repository: enrolment, the factor's own failure lock, recovery codes, sign-in audit.

Only embeddings are stored (float32, never an image). Recovery codes arrive already hashed
(`emotion.faceauth.recovery`); spending one is atomic (``UPDATE ... WHERE used_at IS NULL``), so
two sessions cannot both use it. The audit keeps the newest `AUDIT_KEEP` events per user (older ones
are pruned on insert) so it cannot grow without bound.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import delete, func, select, update

from emotion.store.faceauth_tables import (
    FACTORS,
    RESULTS,
    USER_AGENT_MAX,
    FaceEmbedding,
    FaceFactor,
    RecoveryCode,
    SignInEvent,
)

AUDIT_KEEP = 200
MAX_EMBEDDINGS = 12
MAX_FACE_FAILURES = 5
FACE_LOCK = timedelta(minutes=15)


@dataclass(frozen=True)
class FaceFactorInfo:
    user_id: int
    enabled: bool
    model_name: str
    enrolled_at: datetime
    embeddings: int
    codes_left: int
    failures: int
    locked_until: datetime | None

    def locked_at(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until


@dataclass(frozen=True)
class SignInRecord:
    time: datetime
    result: str
    failed_factor: str | None
    method: str
    user_agent: str | None


def _clean_agent(agent: object) -> str | None:
    if not isinstance(agent, str) or not agent.strip():
        return None
    printable = "".join(ch for ch in agent if ch.isprintable())
    return printable[:USER_AGENT_MAX]


class FaceAuthRepository:
    def _face_info(self, s, row: FaceFactor) -> FaceFactorInfo:  # noqa: ANN001
        n_emb = s.scalar(select(func.count()).select_from(FaceEmbedding).where(FaceEmbedding.user_id == row.user_id))
        n_codes = s.scalar(select(func.count()).select_from(RecoveryCode).where(
            RecoveryCode.user_id == row.user_id, RecoveryCode.used_at.is_(None)))
        return FaceFactorInfo(row.user_id, bool(row.enabled), row.model_name, row.enrolled_at, int(n_emb or 0),
                              int(n_codes or 0), int(row.failures or 0), row.locked_until)

    def face_factor(self, user_id: int) -> FaceFactorInfo | None:
        with self._session() as s:
            row = s.get(FaceFactor, user_id)
            return None if row is None else self._face_info(s, row)

    def face_factor_enabled(self, user_id: int) -> bool:
        with self._session() as s:
            return bool(s.scalar(select(FaceFactor.enabled).where(FaceFactor.user_id == user_id)))

    def enable_face_factor(self, user_id: int, embeddings: np.ndarray, model_name: str, code_hashes: list[str],
                           *, now: datetime | None = None) -> FaceFactorInfo:
        """Store a new enrolment (replacing any earlier embeddings and codes) and switch the factor on."""
        emb = np.asarray(embeddings, dtype="<f4")
        if emb.ndim != 2 or not 1 <= len(emb) <= MAX_EMBEDDINGS or emb.shape[1] < 1 or not np.all(np.isfinite(emb)):
            raise ValueError(f"expected 1-{MAX_EMBEDDINGS} finite embeddings, got shape {emb.shape}")
        if not code_hashes or not all(isinstance(h, str) and h.startswith("$argon2") for h in code_hashes):
            raise ValueError("recovery codes must be given as argon2 hashes")
        now = self._now(now)
        with self._session(write=True) as s:
            row = s.get(FaceFactor, user_id, with_for_update=True)
            if row is None:
                row = FaceFactor(user_id=user_id, model_name=model_name, enrolled_at=now)
                s.add(row)
            row.enabled, row.model_name, row.enrolled_at, row.failures, row.locked_until = True, model_name, now, 0, None
            s.execute(delete(FaceEmbedding).where(FaceEmbedding.user_id == user_id))
            s.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
            s.add_all([FaceEmbedding(user_id=user_id, model_name=model_name, dim=int(emb.shape[1]),
                                     vector=v.tobytes(), created=now) for v in emb])
            s.add_all([RecoveryCode(user_id=user_id, code_hash=h, created=now) for h in code_hashes])
            s.flush()
            return self._face_info(s, row)

    def set_face_factor_enabled(self, user_id: int, enabled: bool) -> bool:
        """Switch an enrolled factor on or off (False when nothing is enrolled)."""
        with self._session(write=True) as s:
            res = s.execute(update(FaceFactor).where(FaceFactor.user_id == user_id).values(enabled=bool(enabled)))
            return res.rowcount > 0

    def delete_face_data(self, user_id: int) -> bool:
        """Remove the embeddings, the recovery codes and the factor (it is off afterwards)."""
        with self._session(write=True) as s:
            n = s.execute(delete(FaceEmbedding).where(FaceEmbedding.user_id == user_id)).rowcount
            s.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
            n += s.execute(delete(FaceFactor).where(FaceFactor.user_id == user_id)).rowcount
            return n > 0

    def face_embeddings(self, user_id: int) -> np.ndarray:
        with self._session() as s:
            rows = s.execute(select(FaceEmbedding.dim, FaceEmbedding.vector).where(
                FaceEmbedding.user_id == user_id).order_by(FaceEmbedding.id)).all()
        if not rows:
            return np.zeros((0, 128), np.float32)
        return np.stack([np.frombuffer(v, dtype="<f4", count=d) for d, v in rows]).astype(np.float32)

    # ---- the factor's own failure lock ---------------------------------------------------------
    def record_face_failure(self, user_id: int, *, now: datetime | None = None,
                            max_failures: int = MAX_FACE_FAILURES, lock_for: timedelta = FACE_LOCK) -> FaceFactorInfo | None:
        """Count a failed face step; the `max_failures`-th in a row locks the face step for `lock_for`.
        (A correct password does not reset this count: only a passed face step or recovery code does.)"""
        now = self._now(now)
        with self._session(write=True) as s:
            row = s.get(FaceFactor, user_id, with_for_update=True)
            if row is None:
                return None
            if not (row.locked_until is not None and now < row.locked_until):
                count = int(row.failures or 0) + 1
                row.failures, row.locked_until = (0, now + lock_for) if count >= max_failures else (count, None)
            s.flush()
            return self._face_info(s, row)

    def record_face_success(self, user_id: int) -> None:
        with self._session(write=True) as s:
            s.execute(update(FaceFactor).where(FaceFactor.user_id == user_id).values(failures=0, locked_until=None))

    # ---- recovery codes ----------------------------------------------------------------------
    def unused_recovery_codes(self, user_id: int) -> list[tuple[int, str]]:
        """(id, hash) of the codes not spent yet."""
        with self._session() as s:
            return [(int(i), h) for i, h in s.execute(select(RecoveryCode.id, RecoveryCode.code_hash).where(
                RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)).order_by(RecoveryCode.id)).all()]

    def spend_recovery_code(self, user_id: int, code_id: int, *, now: datetime | None = None) -> int | None:
        """Mark a code used; the number of codes left, or None when it was already spent (or not theirs)."""
        now = self._now(now)
        with self._session(write=True) as s:
            res = s.execute(update(RecoveryCode).where(RecoveryCode.id == code_id, RecoveryCode.user_id == user_id,
                                                       RecoveryCode.used_at.is_(None)).values(used_at=now))
            if res.rowcount != 1:
                return None
            s.execute(update(FaceFactor).where(FaceFactor.user_id == user_id).values(failures=0, locked_until=None))
            return int(s.scalar(select(func.count()).select_from(RecoveryCode).where(
                RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))) or 0)

    def replace_recovery_codes(self, user_id: int, code_hashes: list[str], *, now: datetime | None = None) -> int:
        """Invalidate every old code and store these; the number stored."""
        if not code_hashes or not all(isinstance(h, str) and h.startswith("$argon2") for h in code_hashes):
            raise ValueError("recovery codes must be given as argon2 hashes")
        now = self._now(now)
        with self._session(write=True) as s:
            s.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
            s.add_all([RecoveryCode(user_id=user_id, code_hash=h, created=now) for h in code_hashes])
            return len(code_hashes)

    # ---- audit -------------------------------------------------------------------------------
    def add_signin_event(self, user_id: int, result: str, *, method: str, failed_factor: str | None = None,
                         user_agent: str | None = None, now: datetime | None = None) -> None:
        if result not in RESULTS:
            raise ValueError(f"result must be one of {RESULTS}")
        if failed_factor is not None and failed_factor not in FACTORS:
            raise ValueError(f"failed_factor must be one of {FACTORS}")
        now = self._now(now)
        with self._session(write=True) as s:
            s.add(SignInEvent(user_id=user_id, time=now, result=result, failed_factor=failed_factor,
                              method=str(method)[:32], user_agent=_clean_agent(user_agent)))
            s.flush()
            keep = select(SignInEvent.id).where(SignInEvent.user_id == user_id).order_by(
                SignInEvent.time.desc(), SignInEvent.id.desc()).limit(AUDIT_KEEP)
            cutoff = s.scalars(keep).all()
            if len(cutoff) == AUDIT_KEEP:
                s.execute(delete(SignInEvent).where(SignInEvent.user_id == user_id, SignInEvent.id < min(cutoff)))

    def recent_signins(self, user_id: int, limit: int = 20) -> list[SignInRecord]:
        limit = max(1, min(int(limit), AUDIT_KEEP))
        with self._session() as s:
            rows = s.execute(select(SignInEvent).where(SignInEvent.user_id == user_id).order_by(
                SignInEvent.time.desc(), SignInEvent.id.desc()).limit(limit)).scalars().all()
            return [SignInRecord(r.time, r.result, r.failed_factor, r.method, r.user_agent) for r in rows]
