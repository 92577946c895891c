"""People repository: the user's people and their stored face vectors (the recognition gallery)."""
from __future__ import annotations

import logging

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import and_, delete, exc as sa_exc, func, select
from sqlalchemy.orm import Session

from emotion.store.errors import NameTaken, PersonNotFound, StoreError
from emotion.store.limits import JPEG_MAGIC, MODEL_NAME_MAX, PNG_MAGIC, THUMBNAIL_MAX_BYTES
from emotion.store.results import EmbeddingInfo, PersonInfo
from emotion.store.schema import Embedding, Person
from emotion.store.values import _clean_person_name, _name_key

log = logging.getLogger(__name__)


class PeopleRepository:
    # ---- people and embeddings --------------------------------------------------------------

    def _owned_person(self, s: Session, user_id: int, person_id: int, *, lock: bool = False) -> Person | None:
        stmt = select(Person).where(Person.id == person_id, Person.user_id == user_id)
        if lock:
            stmt = stmt.with_for_update()
        return s.scalar(stmt)

    def _name_in_use(self, s: Session, user_id: int, key: str, *, other_than: int | None = None) -> bool:
        stmt = select(Person.id).where(Person.user_id == user_id, Person.name_key == key)
        if other_than is not None:
            stmt = stmt.where(Person.id != other_than)
        return s.scalar(stmt) is not None

    def add_person(self, user_id: int, name: str, *, now: datetime | None = None) -> PersonInfo:
        """A new person for `user_id`. `NameTaken` if the user already has one of that name
        (ignoring letter case and surrounding spaces); `ValueError` for an empty/too long name."""
        name = _clean_person_name(name)
        key = _name_key(name)
        taken = NameTaken("store.person_name_taken", name=name)
        try:
            with self._session(write=True) as s:
                if self._name_in_use(s, user_id, key):
                    raise taken
                p = Person(user_id=user_id, name=name, name_key=key, created=self._now(now))
                s.add(p)
                s.flush()
                return PersonInfo(p.id, p.name, p.created, 0)
        except sa_exc.IntegrityError as err:
            if self.get_user(user_id) is None:
                raise StoreError("store.no_user", user_id=user_id) from err
            raise taken from err

    def rename_person(self, user_id: int, person_id: int, new_name: str) -> bool:
        """False when the person does not exist or is another user's (nothing changes)."""
        name = _clean_person_name(new_name)
        key = _name_key(name)
        taken = NameTaken("store.person_name_taken", name=name)
        try:
            with self._session(write=True) as s:
                p = self._owned_person(s, user_id, person_id, lock=True)
                if p is None:
                    return False
                if self._name_in_use(s, user_id, key, other_than=person_id):
                    raise taken
                p.name, p.name_key = name, key
                return True
        except sa_exc.IntegrityError as err:
            raise taken from err

    def delete_person(self, user_id: int, person_id: int) -> bool:
        """Delete a person and their embeddings; their history rows stay, as "unknown person,
        name as seen". False when not found / not the user's."""
        with self._session(write=True) as s:
            p = self._owned_person(s, user_id, person_id)
            if p is None:
                return False
            s.delete(p)  # ORM cascade; ON DELETE CASCADE does the same in the database
            return True

    def get_person(self, user_id: int, person_id: int) -> PersonInfo | None:
        with self._session() as s:
            row = s.execute(
                select(Person.id, Person.name, Person.created, func.count(Embedding.id))
                .outerjoin(Embedding, Embedding.person_id == Person.id)
                .where(Person.id == person_id, Person.user_id == user_id)
                .group_by(Person.id, Person.name, Person.created)
            ).first()
            return None if row is None else PersonInfo(*row)

    def find_person(self, user_id: int, name: str) -> PersonInfo | None:
        """The user's person of this name (ignoring letter case and surrounding spaces, as the
        uniqueness rule does), or None."""
        try:
            key = _name_key(_clean_person_name(name))
        except ValueError:
            return None
        with self._session() as s:
            pid = s.scalar(select(Person.id).where(Person.user_id == user_id, Person.name_key == key))
        return None if pid is None else self.get_person(user_id, pid)

    def list_people(self, user_id: int, *, model_name: str | None = None) -> list[PersonInfo]:
        """The user's people by name, each with its number of embeddings (of `model_name` only,
        when given)."""
        join_on = Embedding.person_id == Person.id
        if model_name is not None:
            join_on = and_(join_on, Embedding.model_name == model_name)
        with self._session() as s:
            rows = s.execute(
                select(Person.id, Person.name, Person.created, func.count(Embedding.id))
                .outerjoin(Embedding, join_on)
                .where(Person.user_id == user_id)
                .group_by(Person.id, Person.name, Person.created, Person.name_key)
                .order_by(Person.name_key, Person.id)
            ).all()
            return [PersonInfo(*r) for r in rows]

    def add_embeddings(self, user_id: int, person_id: int, items: Iterable[Sequence[Any]],
                       *, now: datetime | None = None) -> list[int]:
        """Store face vectors for one of the user's people; returns the new ids.

        Items are ``(model_name, vector)`` or ``(model_name, vector, thumbnail)`` (the contract's
        order; ``(vector, model_name[, thumbnail])`` is accepted too: the text is the model
        name). The thumbnail is small PNG or JPEG bytes, or None. `PersonNotFound` when the
        person is not the user's; `ValueError` for an empty/non-finite vector, a missing model
        name or a thumbnail that is not a small PNG/JPEG. All or nothing."""
        rows = []
        created = self._now(now)
        for item in items:
            item = tuple(item)
            if len(item) not in (2, 3):
                raise ValueError("An embedding item is (model_name, vector) or (model_name, vector, thumbnail).")
            first, second = item[0], item[1]
            thumb = item[2] if len(item) == 3 else None
            if isinstance(first, str):
                model_name, vector = first, second
            elif isinstance(second, str):
                vector, model_name = first, second
            else:
                raise ValueError("An embedding item needs a model name (text).")
            v = np.asarray(vector, dtype="<f4").ravel()
            if v.size == 0 or not np.all(np.isfinite(v)):
                raise ValueError("An embedding must be a non-empty vector of finite numbers.")
            if not model_name.strip() or len(model_name) > MODEL_NAME_MAX:
                raise ValueError(f"model_name must be 1-{MODEL_NAME_MAX} characters")
            if thumb is not None:
                thumb = bytes(thumb)
                if not (thumb.startswith(PNG_MAGIC) or thumb.startswith(JPEG_MAGIC)):
                    raise ValueError("The thumbnail must be PNG or JPEG bytes.")
                if len(thumb) > THUMBNAIL_MAX_BYTES:
                    raise ValueError(f"The thumbnail is larger than {THUMBNAIL_MAX_BYTES // 1024} KiB.")
            rows.append(Embedding(person_id=person_id, model_name=model_name.strip(), dim=int(v.size),
                                  vector=v.tobytes(), thumbnail=thumb, created=created))
        with self._session(write=True) as s:
            if self._owned_person(s, user_id, person_id, lock=True) is None:
                raise PersonNotFound("store.person_not_found")
            s.add_all(rows)
            s.flush()
            return [r.id for r in rows]

    def list_embeddings(self, user_id: int, person_id: int, *, model_name: str | None = None,
                        with_thumbnails: bool = True) -> list[EmbeddingInfo]:
        """A person's samples (oldest first); empty when the person is not the user's."""
        cols = [Embedding.id, Embedding.person_id, Embedding.model_name, Embedding.dim, Embedding.created]
        if with_thumbnails:
            cols.append(Embedding.thumbnail)
        stmt = (select(*cols).join(Person, Person.id == Embedding.person_id)
                .where(Person.user_id == user_id, Embedding.person_id == person_id)
                .order_by(Embedding.created, Embedding.id))
        if model_name is not None:
            stmt = stmt.where(Embedding.model_name == model_name)
        with self._session() as s:
            return [EmbeddingInfo(*r) for r in s.execute(stmt).all()]

    def delete_embedding(self, user_id: int, embedding_id: int) -> bool:
        with self._session(write=True) as s:
            owned = select(Person.id).where(Person.user_id == user_id)
            res = s.execute(delete(Embedding).where(Embedding.id == embedding_id, Embedding.person_id.in_(owned)))
            return res.rowcount > 0

    def gallery(self, user_id: int, model_name: str, *, metric: str | None = None,
                threshold: float | None = None) -> Any:
        """The user's known faces for recogniser `model_name`.

        Without `metric`/`threshold`: the entries list of `gallery_entries` (the store does not
        know a recogniser's metric or tuned threshold; the caller wraps it, e.g.
        ``Gallery(entries, recognizer.metric, recognizer.threshold)``). With both given and
        `emotion.recognize.gallery` present: a ``Gallery(entries, metric, threshold)``."""
        entries = self.gallery_entries(user_id, model_name)
        if metric is None or threshold is None:
            return entries
        try:
            from emotion.recognize.gallery import Gallery
        except ImportError:
            return entries
        return Gallery(entries, metric, float(threshold))

    def gallery_entries(self, user_id: int, model_name: str) -> list[tuple[int, str, np.ndarray]]:
        """``(person_id, name, float32 vector)`` for every stored embedding of `model_name` of the
        user's people (several per person possible), ordered by name."""
        with self._session() as s:
            rows = s.execute(
                select(Person.id, Person.name, Embedding.vector, Embedding.dim)
                .join(Embedding, Embedding.person_id == Person.id)
                .where(Person.user_id == user_id, Embedding.model_name == model_name)
                .order_by(Person.name_key, Person.id, Embedding.id)
            ).all()
        out = []
        for pid, name, blob, dim in rows:
            vec = np.frombuffer(blob, dtype="<f4").astype(np.float32)
            if vec.size != dim:  # a damaged row: skip rather than break recognition
                log.warning("embedding of person %s has %s values, expected %s; skipped", pid, vec.size, dim)
                continue
            out.append((pid, name, vec))
        return out

