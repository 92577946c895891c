"""Accounts repository: users, their password hashes and the sign-in lockout counters."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import exc as sa_exc, select, update

from emotion.store.errors import NameTaken
from emotion.store.limits import USER_NAME_MAX
from emotion.store.results import UserInfo
from emotion.store.schema import User
from emotion.store.values import _name_key


class AccountsRepository:
    # ---- users ------------------------------------------------------------------------------

    @staticmethod
    def _user_info(u: User) -> UserInfo:
        return UserInfo(id=u.id, name=u.name, created=u.created, failed_logins=u.failed_logins or 0,
                        locked_until=u.locked_until, last_login=u.last_login, password_hash=u.password_hash)

    def create_user(self, name: str, password_hash: str, *, now: datetime | None = None) -> UserInfo:
        """Insert a user (name rules are `emotion.auth`'s job). `NameTaken` if the name is in use
        in any letter case."""
        name = name.strip()
        if not name or len(name) > USER_NAME_MAX:
            raise ValueError(f"A user name has 1 to {USER_NAME_MAX} characters.")
        if not password_hash:
            raise ValueError("password_hash is required")
        key = _name_key(name)
        try:
            with self._session(write=True) as s:
                if s.scalar(select(User.id).where(User.name_key == key)) is not None:
                    raise NameTaken("store.user_name_taken")
                user = User(name=name, name_key=key, password_hash=password_hash, created=self._now(now),
                            failed_logins=0)
                s.add(user)
                s.flush()
                return self._user_info(user)
        except sa_exc.IntegrityError as err:  # a concurrent sign-up won the race
            raise NameTaken("store.user_name_taken") from err

    def get_user(self, user_id: int) -> UserInfo | None:
        with self._session() as s:
            u = s.get(User, user_id)
            return None if u is None else self._user_info(u)

    def get_user_by_name(self, name: str) -> UserInfo | None:
        """Case-insensitive lookup."""
        if not isinstance(name, str) or not name.strip():
            return None
        with self._session() as s:
            u = s.scalar(select(User).where(User.name_key == _name_key(name.strip())))
            return None if u is None else self._user_info(u)

    def record_failed_login(self, user_id: int, *, now: datetime | None = None, max_failures: int = 5,
                            lock_for: timedelta = timedelta(minutes=15)) -> UserInfo | None:
        """Count one failed sign-in; the `max_failures`-th in a row locks the account until
        ``now + lock_for`` (and restarts the count). Attempts while locked are not counted.
        Atomic across processes (row lock / SQLite write lock)."""
        now = self._now(now)

        def count(u: User) -> None:
            failures = (u.failed_logins or 0) + 1
            if failures >= max_failures:
                u.failed_logins, u.locked_until = 0, now + lock_for
            else:
                u.failed_logins, u.locked_until = failures, None

        return self._update_unless_locked(user_id, now, count)

    def record_successful_login(self, user_id: int, *, now: datetime | None = None,
                                new_password_hash: str | None = None) -> UserInfo | None:
        """Reset the failure count, set last_login (and store a re-hashed password) -- unless
        the account got locked meanwhile: then nothing changes and the returned info says so."""
        now = self._now(now)

        def reset(u: User) -> None:
            u.failed_logins, u.locked_until, u.last_login = 0, None, now
            if new_password_hash:
                u.password_hash = new_password_hash

        return self._update_unless_locked(user_id, now, reset)

    def _update_unless_locked(self, user_id: int, now: datetime, change: Callable[[User], None]) -> UserInfo | None:
        """Apply `change` to the user's row under a row lock, unless the account is locked at `now`;
        the user's info afterwards (None when there is no such user)."""
        with self._session(write=True) as s:
            u = s.scalar(select(User).where(User.id == user_id).with_for_update())
            if u is None:
                return None
            if not (u.locked_until is not None and now < u.locked_until):
                change(u)
                s.flush()
            return self._user_info(u)

    def set_password_hash(self, user_id: int, password_hash: str) -> bool:
        if not password_hash:
            raise ValueError("password_hash is required")
        with self._session(write=True) as s:
            res = s.execute(update(User).where(User.id == user_id).values(password_hash=password_hash))
            return res.rowcount > 0

    def unlock_user(self, user_id: int) -> bool:
        with self._session(write=True) as s:
            res = s.execute(update(User).where(User.id == user_id).values(failed_logins=0, locked_until=None))
            return res.rowcount > 0

    def delete_user(self, user_id: int) -> bool:
        """Delete an account and everything it owns (people, embeddings, history, snapshots)."""
        with self._session(write=True) as s:
            u = s.get(User, user_id)
            if u is None:
                return False
            s.delete(u)
            return True

