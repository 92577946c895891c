"""Throttle repository: the sign-in/sign-up counters of `emotion.throttle`'s policy (migration 0003).

Three small tables, keyed by hashes (no plain addresses or typed names are stored):
``login_clients`` (per client address: failures, when it may try again, sign-ups in the window),
``login_names`` (per normalised name, existing or not: failures in the window, the hard lock, what
to tell the owner at the next sign-in) and ``login_name_clients`` (which clients failed on a name,
to count distinct clients). Every update runs in one write transaction with the rows locked
(``SELECT ... FOR UPDATE`` on MariaDB, the write lock on SQLite); a concurrent first insert of the
same key is retried."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy import exc as sa_exc

from emotion.store.schema import LoginClient, LoginName, LoginNameClient
from emotion.throttle import DEFAULT_POLICY, LoginNotice, ThrottlePolicy, ThrottleState

_RETRIES = 3


class ThrottleRepository:
    def throttle_state(self, client_key: str, name_key: str, *, now: datetime | None = None) -> ThrottleState:
        """The client's back-off and the name's lock, read only."""
        with self._session() as s:
            c = s.get(LoginClient, client_key)
            n = s.get(LoginName, name_key)
            return ThrottleState(c.next_allowed if c else None, n.locked_until if n else None)

    def _locked(self, s, model, **key):  # noqa: ANN001, ANN202
        stmt = select(model).with_for_update()
        for col, value in key.items():
            stmt = stmt.where(getattr(model, col) == value)
        return s.scalar(stmt)

    def _client(self, s, client_key: str) -> LoginClient:
        """The client's counters, locked for this transaction; a new row on its first attempt."""
        c = self._locked(s, LoginClient, client_key=client_key)
        if c is None:
            c = LoginClient(client_key=client_key, failures=0, registrations=0)
            s.add(c)
        return c

    def throttle_failure(self, client_key: str, name_key: str, *, now: datetime | None = None,
                         policy: ThrottlePolicy = DEFAULT_POLICY) -> ThrottleState:
        """Count one failed sign-in of `client_key` on `name_key`; returns the state after it (the
        client's next allowed attempt, the name's lock when this failure completed a hard lock)."""
        now = self._now(now)
        for attempt in range(_RETRIES):
            try:
                with self._session(write=True) as s:
                    c = self._client(s, client_key)
                    if c.last_failure is None or now - c.last_failure > policy.client_window:
                        c.failures = 0
                    c.failures += 1
                    c.last_failure = now
                    delay = policy.client_delay(c.failures)
                    c.next_allowed = now + delay if delay > timedelta(0) else None

                    n = self._locked(s, LoginName, name_key=name_key)
                    if n is None:
                        n = LoginName(name_key=name_key, failures=0, window_start=now, notice_failures=0,
                                      notice_locked=0)
                        s.add(n)
                    if now - n.window_start > policy.name_window:
                        n.failures, n.window_start = 0, now
                        stale = now - policy.name_window
                        s.execute(delete(LoginNameClient).where(LoginNameClient.name_key == name_key,
                                                                LoginNameClient.last_failure < stale))
                    n.failures += 1
                    n.notice_failures += 1
                    pair = self._locked(s, LoginNameClient, name_key=name_key, client_key=client_key)
                    if pair is None:
                        s.add(LoginNameClient(name_key=name_key, client_key=client_key, failures=1, last_failure=now))
                    else:
                        pair.failures += 1
                        pair.last_failure = now
                    s.flush()
                    clients = s.scalar(select(func.count()).select_from(LoginNameClient).where(
                        LoginNameClient.name_key == name_key,
                        LoginNameClient.last_failure >= now - policy.name_window)) or 0
                    already = n.locked_until is not None and now < n.locked_until
                    if not already and policy.name_locks(n.failures, clients):
                        n.locked_until = now + policy.hard_lock
                        n.notice_locked = 1
                        n.failures, n.window_start = 0, now
                    return ThrottleState(c.next_allowed, n.locked_until)
            except sa_exc.IntegrityError:  # a concurrent first failure inserted the same key
                if attempt == _RETRIES - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def throttle_success(self, client_key: str, name_key: str, *,
                         now: datetime | None = None) -> LoginNotice | None:
        """A successful sign-in on `name_key`: the notice for the owner (failures on the name since
        their last sign-in, from how many clients, whether it was hard-locked), and a clean slate
        for the name. The client's own back-off is kept (an attacker with an account of their own
        must not reset it by signing in)."""
        now = self._now(now)
        with self._session(write=True) as s:
            n = self._locked(s, LoginName, name_key=name_key)
            if n is None:
                return None
            clients = s.scalar(select(func.count()).select_from(LoginNameClient)
                               .where(LoginNameClient.name_key == name_key)) or 0
            notice = (LoginNotice(failures=int(n.notice_failures or 0), clients=int(clients),
                                  locked=bool(n.notice_locked))
                      if (n.notice_failures or n.notice_locked) else None)
            s.execute(delete(LoginNameClient).where(LoginNameClient.name_key == name_key))
            s.delete(n)
            return notice

    def throttle_registration(self, client_key: str, *, now: datetime | None = None,
                              policy: ThrottlePolicy = DEFAULT_POLICY) -> timedelta | None:
        """Count one sign-up attempt of `client_key`: None when allowed, else how long to wait."""
        now = self._now(now)
        for attempt in range(_RETRIES):
            try:
                with self._session(write=True) as s:
                    c = self._client(s, client_key)
                    if c.registration_window is None or now - c.registration_window > policy.registration_window:
                        c.registration_window, c.registrations = now, 0
                    if c.registrations >= policy.registrations:
                        return c.registration_window + policy.registration_window - now
                    c.registrations += 1
                    return None
            except sa_exc.IntegrityError:
                if attempt == _RETRIES - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover
