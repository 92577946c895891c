"""Snapshots repository: annotated PNG images the user saved, listed without their bytes."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete, func, select

from emotion.store.limits import DESCRIPTION_MAX, PNG_MAGIC, SNAPSHOT_MAX_BYTES
from emotion.store.results import Snapshot, SnapshotInfo
from emotion.store.schema import SnapshotRow, _to_utc
from emotion.store.values import _end_bound


class SnapshotsRepository:
    # ---- snapshots --------------------------------------------------------------------------

    def save_snapshot(self, user_id: int, png: bytes, description: str | None = None, *,
                      time: datetime | None = None) -> int:
        """Store an annotated image (PNG bytes, at most 15 MiB); returns its id."""
        png = bytes(png)
        if not png.startswith(PNG_MAGIC):
            raise ValueError("A snapshot must be PNG bytes.")
        if len(png) > SNAPSHOT_MAX_BYTES:
            raise ValueError(f"The snapshot is larger than {SNAPSHOT_MAX_BYTES >> 20} MiB.")
        if description is not None:
            description = description.strip()[:DESCRIPTION_MAX] or None
        with self._session(write=True) as s:
            row = SnapshotRow(user_id=user_id, created=self._now(time), png=png, description=description)
            s.add(row)
            s.flush()
            return row.id

    def list_snapshots(self, user_id: int, *, limit: int | None = 50, offset: int = 0,
                       start: datetime | date | None = None, end: datetime | date | None = None) -> list[SnapshotInfo]:
        """The user's snapshots, newest first, without their bytes."""
        stmt = (select(SnapshotRow.id, SnapshotRow.created, SnapshotRow.description, func.length(SnapshotRow.png))
                .where(SnapshotRow.user_id == user_id)
                .order_by(SnapshotRow.created.desc(), SnapshotRow.id.desc()))
        if start is not None:
            stmt = stmt.where(SnapshotRow.created >= _to_utc(start))
        if end is not None:
            stmt = stmt.where(SnapshotRow.created < _end_bound(end))
        if limit is not None:
            stmt = stmt.limit(max(0, int(limit)))
        if offset:
            if limit is None:
                stmt = stmt.limit(2**62)
            stmt = stmt.offset(max(0, int(offset)))
        with self._session() as s:
            return [SnapshotInfo(i, c, d, int(n or 0)) for i, c, d, n in s.execute(stmt).all()]

    def get_snapshot(self, user_id: int, snapshot_id: int) -> Snapshot | None:
        with self._session() as s:
            row = s.scalar(select(SnapshotRow).where(SnapshotRow.id == snapshot_id, SnapshotRow.user_id == user_id))
            return None if row is None else Snapshot(row.id, row.created, row.description, row.png)

    def delete_snapshot(self, user_id: int, snapshot_id: int) -> bool:
        """History rows that pointed at it keep their data (snapshot_id becomes NULL)."""
        with self._session(write=True) as s:
            res = s.execute(delete(SnapshotRow).where(SnapshotRow.id == snapshot_id, SnapshotRow.user_id == user_id))
            return res.rowcount > 0

