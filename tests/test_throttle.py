"""Issue 17, finding 3: throttling that slows the attacker, not the owner, and never tells which
names exist. On SQLite and MariaDB (the `store` fixture; MariaDB runs under CI=true)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from emotion.auth import AccountLocked, AuthError, TooManyAttempts, login, login_with_notice, register
from emotion.throttle import DEFAULT_POLICY, ThrottlePolicy

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
OWNER_PASSWORD = "owner's long password"
ATTACKER = "203.0.113.66"
OWNER_HOME = "198.51.100.7"


def _answer(store, name: str, password: str, client: str, when: datetime) -> tuple:
    """What a client learns from one attempt: the outcome, its code and English text."""
    try:
        login(store, name, password, client=client, now=when)
    except TooManyAttempts as err:
        return ("wait", err.code, str(err), err.retry_after)
    except AccountLocked as err:
        return ("locked", err.code, str(err))
    except AuthError as err:
        return ("refused", err.code, str(err))
    return ("signed in",)


def test_policy_backs_off_exponentially_and_caps():
    p = DEFAULT_POLICY
    assert [p.client_delay(n).total_seconds() for n in range(1, 8)] == [0, 0, 0, 1, 2, 4, 8]
    assert p.client_delay(60) == p.max_delay == timedelta(minutes=15)
    assert not p.name_locks(49, 50) and not p.name_locks(500, 4) and p.name_locks(50, 5)


def test_attackers_failures_do_not_stop_the_owner_on_another_client(store):
    register(store, "owner", OWNER_PASSWORD, OWNER_PASSWORD, client=OWNER_HOME)
    when = NOW
    answers = []
    while answers.count("refused") < 16:  # one address hammering the owner's name as fast as allowed
        a = _answer(store, "owner", "guess", ATTACKER, when)
        answers.append(a[0])
        when += a[3] if a[0] == "wait" else timedelta(milliseconds=10)
        assert len(answers) < 100 and a[0] in ("refused", "wait"), answers
    assert answers.count("wait") >= 12  # every failure after the free three made it wait
    # the attacker is slowed down: right after its 16th failure it must wait, for minutes by now
    blocked = _answer(store, "owner", OWNER_PASSWORD, ATTACKER, when)
    assert blocked[0] == "wait" and blocked[3] >= timedelta(minutes=5)
    # ... while the owner, on their own browser, signs in at once with the right password
    user, notice = login_with_notice(store, "owner", OWNER_PASSWORD, client=OWNER_HOME, now=when)
    assert user.name == "owner"
    assert notice is not None and notice.failures == 16 and notice.clients == 1 and not notice.locked


def _scenario(store, name: str, net: str) -> list[tuple]:
    """Every answer a set of attackers gets for `name`: one address until it is throttled, then
    many addresses until the name locks, then during and after the lock."""
    answers = []
    when = NOW
    for _ in range(6):  # one address: free failures, then back-off answers
        answers.append(_answer(store, name, "guess", f"{net}.1", when))
        when += timedelta(milliseconds=500)
    for i in range(60):  # many addresses: 3 failures each, until the hard lock
        client = f"{net}.{10 + i // 3}"
        answers.append(_answer(store, name, "guess", client, when))
        when += timedelta(milliseconds=100)
    answers.append(_answer(store, name, "guess", f"{net}.250", when))  # locked, new address
    answers.append(_answer(store, name, OWNER_PASSWORD, f"{net}.251", when))  # even the right password
    when += DEFAULT_POLICY.hard_lock + timedelta(seconds=1)
    answers.append(_answer(store, name, "guess", f"{net}.252", when))  # after the lock
    return answers


def test_a_real_and_an_unknown_name_answer_the_same_at_every_step(store, db_url):
    register(store, "realname", OWNER_PASSWORD, OWNER_PASSWORD, client=OWNER_HOME)
    real = _scenario(store, "realname", "192.0.2")
    unknown = _scenario(store, "ghostname", "198.51.100")  # other attackers: their own back-off
    assert len(real) == len(unknown) == 69
    for step, (a, b) in enumerate(zip(real, unknown)):
        assert a == b, f"step {step}: {a} != {b}"
    kinds = [a[0] for a in real]
    assert kinds[:3] == ["refused"] * 3 and kinds[4] == "wait"
    assert "locked" in kinds[6:66] and kinds[-3:-1] == ["locked", "locked"] and kinds[-1] == "refused"


def test_hard_lock_needs_many_clients_and_the_owner_is_told(store):
    register(store, "target", OWNER_PASSWORD, OWNER_PASSWORD, client=OWNER_HOME)
    when = NOW
    for i in range(DEFAULT_POLICY.hard_failures):
        a = _answer(store, "target", "guess", f"10.0.{i // 3}.1", when)
        when += timedelta(milliseconds=100)
    assert a[0] == "locked"
    assert _answer(store, "target", OWNER_PASSWORD, OWNER_HOME, when)[0] == "locked"
    when += DEFAULT_POLICY.hard_lock + timedelta(seconds=1)
    user, notice = login_with_notice(store, "target", OWNER_PASSWORD, client=OWNER_HOME, now=when)
    assert notice is not None and notice.locked and notice.failures == DEFAULT_POLICY.hard_failures
    assert notice.clients == -(-DEFAULT_POLICY.hard_failures // 3)
    # told once: the next sign-in has nothing to report
    assert login_with_notice(store, "target", OWNER_PASSWORD, client=OWNER_HOME, now=when)[1] is None


def test_registration_is_rate_limited_per_client(store):
    policy = ThrottlePolicy(registrations=2)
    for i in range(2):
        register(store, f"bulk{i}", OWNER_PASSWORD, OWNER_PASSWORD, client=ATTACKER, now=NOW, policy=policy)
    with pytest.raises(TooManyAttempts) as err:
        register(store, "bulk2", OWNER_PASSWORD, OWNER_PASSWORD, client=ATTACKER, now=NOW, policy=policy)
    assert err.value.code == "auth.too_many_registrations"
    # another client may still register, and the first one again after the window
    register(store, "other", OWNER_PASSWORD, OWNER_PASSWORD, client=OWNER_HOME, now=NOW, policy=policy)
    later = NOW + policy.registration_window + timedelta(seconds=1)
    register(store, "bulk2", OWNER_PASSWORD, OWNER_PASSWORD, client=ATTACKER, now=later, policy=policy)


@pytest.mark.parametrize("lookalike", ["ａｌｉｃｅ", "ＡＬＩＣＥ", "аlice", "аlісe"])
def test_lookalike_names_do_not_make_a_second_alice(store, lookalike):
    register(store, "alice", OWNER_PASSWORD, OWNER_PASSWORD)
    with pytest.raises(AuthError) as err:
        register(store, lookalike, OWNER_PASSWORD, OWNER_PASSWORD)
    assert err.value.code in ("auth.name_taken", "auth.username_mixed_scripts")
    # the full-width spelling signs in as alice herself
    if lookalike.startswith("ａ"):
        assert login(store, lookalike, OWNER_PASSWORD).name == "alice"


def test_whole_cyrillic_lookalike_of_a_taken_name_is_refused(store):
    register(store, "ceo", OWNER_PASSWORD, OWNER_PASSWORD)
    with pytest.raises(AuthError) as err:
        register(store, "сео", OWNER_PASSWORD, OWNER_PASSWORD)  # Cyrillic с, е, о
    assert err.value.code == "auth.name_taken"
    assert register(store, "Сергей", OWNER_PASSWORD, OWNER_PASSWORD).name == "Сергей"  # real Cyrillic names are fine
