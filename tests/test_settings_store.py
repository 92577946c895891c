"""Per-user settings in the database (emotion.store.settings), on SQLite and MariaDB."""
from __future__ import annotations

import pytest


def _users(store):
    return store.create_user("alice", "x").id, store.create_user("bob", "x").id


def test_settings_are_saved_per_user_and_merged(store):
    alice, bob = _users(store)
    assert store.get_settings(alice) == {}
    saved = store.save_settings(alice, {"detector": "yunet", "threshold": 0.55, "show_landmarks": False,
                                        "language": "zh"})
    assert saved == {"detector": "yunet", "threshold": 0.55, "show_landmarks": False, "language": "zh"}
    store.save_settings(alice, {"threshold": None, "save_history": False})  # merged into what is there
    assert store.get_settings(alice) == {"detector": "yunet", "threshold": None, "show_landmarks": False,
                                         "language": "zh", "save_history": False}
    assert store.get_settings(bob) == {}
    store.save_settings(bob, {"language": "en"})
    assert store.get_settings(bob) == {"language": "en"}
    assert store.get_settings(alice)["language"] == "zh"
    assert store.save_settings(alice, {"detector": "opencv"}, merge=False) == {"detector": "opencv"}
    assert store.clear_settings(alice) is True and store.get_settings(alice) == {}
    assert store.clear_settings(alice) is False


def test_unicode_values_round_trip(store):
    alice, _ = _users(store)
    store.save_settings(alice, {"note": "情绪 😀 ' \" \\ ="})
    assert store.get_settings(alice) == {"note": "情绪 😀 ' \" \\ ="}


@pytest.mark.parametrize("bad", [
    {"nested": {"a": 1}},
    {"list": [1, 2]},
    {"nan": float("nan")},
    {"": 1},
    {"k" * 65: 1},
    {f"k{i}": i for i in range(101)},
    {"big": "x" * 17_000},
    "not a mapping",
])
def test_malformed_settings_are_refused_and_nothing_is_lost(store, bad):
    alice, _ = _users(store)
    store.save_settings(alice, {"detector": "yunet"})
    with pytest.raises(ValueError):
        store.save_settings(alice, bad)
    assert store.get_settings(alice) == {"detector": "yunet"}


def test_deleting_the_user_deletes_their_settings(store):
    alice, bob = _users(store)
    store.save_settings(alice, {"detector": "yunet"})
    store.save_settings(bob, {"detector": "opencv"})
    assert store.delete_user(alice)
    from sqlalchemy import func, select

    from emotion.store.schema import UserSettingsRow

    with store._session() as s:
        assert s.scalar(select(func.count()).select_from(UserSettingsRow)) == 1
    assert store.get_settings(bob) == {"detector": "opencv"}
