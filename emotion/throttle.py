"""Sign-in and sign-up throttling policy: who waits how long, and when an account locks.

The old rule (five wrong passwords lock the account for 15 minutes) let anyone keep a user out, and
only existing names ever answered "locked". The policy here:

* **Per client** (the client's address, hashed): the first `free_failures` failed sign-ins cost
  nothing; each further one doubles the wait before that client may try again (1 s, 2 s, 4 s, ...
  up to `max_delay`), whatever names it tries. A client's failures are forgotten after
  `client_window` without one. An attacker's failures slow the attacker down, not the owner on
  their own browser.
* **Per name** (the normalised name, whether or not such an account exists): a hard lock for
  `hard_lock` only when at least `hard_failures` failures from at least `hard_clients` different
  clients hit it within `name_window` -- a distributed guessing attack. The owner is told at their
  next sign-in (`LoginNotice`). Unknown names count and lock exactly like real ones, so the answers
  never tell which accounts exist.
* **Sign-up**: at most `registrations` new accounts per client per `registration_window`.

The counters live in the database (`emotion.store`'s throttle tables, migration 0003), so they hold
across sessions, restarts and processes. This module is pure: no I/O.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

#: the client key used when the server cannot see an address (local runs, tests)
LOCAL_CLIENT = "local"


@dataclass(frozen=True)
class ThrottlePolicy:
    free_failures: int = 3
    base_delay: timedelta = timedelta(seconds=1)
    max_delay: timedelta = timedelta(minutes=15)
    client_window: timedelta = timedelta(hours=1)
    hard_failures: int = 50
    hard_clients: int = 5
    name_window: timedelta = timedelta(hours=24)
    hard_lock: timedelta = timedelta(hours=1)
    registrations: int = 10
    registration_window: timedelta = timedelta(hours=1)

    def client_delay(self, failures: int) -> timedelta:
        """How long a client waits after its `failures`-th failure in a row (0 for the free ones)."""
        extra = failures - self.free_failures
        if extra <= 0:
            return timedelta(0)
        if extra > 40:  # 2**40 s is far beyond any sensible cap
            return self.max_delay
        return min(self.max_delay, self.base_delay * (2 ** (extra - 1)))

    def name_locks(self, failures: int, clients: int) -> bool:
        return failures >= self.hard_failures and clients >= self.hard_clients


DEFAULT_POLICY = ThrottlePolicy()


@dataclass(frozen=True)
class ThrottleState:
    """What the database says before (or after) an attempt."""

    client_next_allowed: datetime | None = None   # the client must wait until then
    name_locked_until: datetime | None = None     # the name is hard-locked until then

    def client_wait(self, now: datetime) -> timedelta | None:
        if self.client_next_allowed is not None and now < self.client_next_allowed:
            return self.client_next_allowed - now
        return None

    def name_locked(self, now: datetime) -> bool:
        return self.name_locked_until is not None and now < self.name_locked_until


@dataclass(frozen=True)
class LoginNotice:
    """Shown to the owner at a successful sign-in: failures on their name since the last one."""

    failures: int
    clients: int
    locked: bool           # the account was hard-locked meanwhile


def client_key(address: str | None) -> str:
    """A stable key for a client address, hashed so that the database holds no plain addresses."""
    raw = (address or "").strip() or LOCAL_CLIENT
    return hashlib.sha256(("emotion-client:" + raw).encode("utf-8")).hexdigest()[:40]
