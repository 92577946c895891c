"""Every face-factor label exists in English and Simplified Chinese, with the same {fields}."""
from __future__ import annotations

import re
import string

from emotion.faceauth.challenge import REASONS
from emotion.faceauth.detectors import ACTIONS
from emotion.faceauth.enrol import PROBLEMS, POSES
from emotion.store.faceauth_tables import FACTORS, RESULTS
from emotion.faceauth import signin

_CJK = re.compile(r"[\u4e00-\u9fff]")


def _fields(s: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(s) if f}


def test_both_languages_have_the_same_keys_and_fields():
    from ui.i18n_faceauth import EN, ZH

    assert set(EN) == set(ZH)
    for k in EN:
        assert _fields(EN[k]) == _fields(ZH[k]), k
        assert _CJK.search(ZH[k]), f"{k} is not translated"
        assert not _CJK.search(EN[k]), k


def test_every_engine_code_has_a_label():
    from ui.i18n_faceauth import EN

    keys = ([f"fa_action_{a}" for a in ACTIONS] + [f"fa_fail_{r}" for r in REASONS]
            + [f"fa_problem_{p}" for p in PROBLEMS] + [f"fa_pose_{p}" for p in POSES]
            + [f"fa_factor_{f}" for f in FACTORS] + [f"fa_result_{r}" for r in RESULTS]
            + [f"fa_method_{m}" for m in (signin.METHOD_PASSWORD, signin.METHOD_FACE, signin.METHOD_CODE)])
    assert [k for k in keys if k not in EN] == []
