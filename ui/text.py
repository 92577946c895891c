"""Escaping user text for Markdown labels."""
from __future__ import annotations

from typing import Any


_MD_SPECIAL = set("\\`*_{}[]()#+-.!|<>~$:")


def md(text: Any) -> str:
    """`text` with every Markdown special character escaped, for labels that render Markdown
    (st.markdown, st.caption, expander labels). User data never goes through unsafe_allow_html."""
    return "".join("\\" + c if c in _MD_SPECIAL else c for c in str(text))

