"""The seven emotion scores of a face as one compact stacked bar: an SVG data URL for a table's
image column (Streamlit's ImageColumn), in the palette's colours, emotions in `EMOTIONS` order.

`score_bar(scores)` -> "data:image/svg+xml;base64,..."; `legend_svg(labels)` -> the matching
legend as SVG markup. Labels are XML-escaped, so a translated or user-supplied text cannot inject
markup. Nothing here imports Streamlit.
"""
from __future__ import annotations

import base64
import math
from typing import Mapping, Sequence
from xml.sax.saxutils import escape

from emotion.records import EMOTIONS

BAR_WIDTH = 140
BAR_HEIGHT = 14
_EMPTY = "#e6e6e6"


def _palette() -> dict[str, str]:
    try:
        from emotion.palette import EMOTION_HEX  # the one palette (issue 12)

        return dict(EMOTION_HEX)
    except ImportError:  # pragma: no cover - before the palette module exists
        from emotion.draw import legend

        return {e: "#{:02x}{:02x}{:02x}".format(*rgb) for e, rgb in legend().items()}


def segments(scores: Sequence[float] | None, width: int = BAR_WIDTH) -> list[tuple[str, int, int]]:
    """(emotion, x, w) of each visible segment: widths proportional to the scores (normalised to
    sum 1; negative and non-finite scores count as 0), rounded so that they tile [0, width)."""
    if scores is None or len(scores) != len(EMOTIONS):
        return []
    vals = [float(v) if v is not None and math.isfinite(float(v)) and float(v) > 0 else 0.0 for v in scores]
    total = sum(vals)
    if total <= 0:
        return []
    out, acc, x = [], 0.0, 0
    for e, v in zip(EMOTIONS, vals):
        acc += v / total
        end = int(round(acc * width))
        if end > x:
            out.append((e, x, end - x))
            x = end
    return out


def score_bar_svg(scores: Sequence[float] | None, width: int = BAR_WIDTH, height: int = BAR_HEIGHT,
                  colors: Mapping[str, str] | None = None) -> str:
    colors = colors or _palette()
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}">',
             f'<rect width="{width}" height="{height}" fill="{_EMPTY}"/>']
    for e, x, w in segments(scores, width):
        parts.append(f'<rect x="{x}" width="{w}" height="{height}" fill="{escape(colors[e])}"/>')
    parts.append("</svg>")
    return "".join(parts)


def score_bar(scores: Sequence[float] | None, width: int = BAR_WIDTH, height: int = BAR_HEIGHT) -> str:
    """The bar as a data URL (an image column shows it)."""
    svg = score_bar_svg(scores, width, height)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _text_width(text: str, font_px: int) -> int:
    """Rough rendered width: CJK characters are square, others about 0.6 em."""
    return int(sum(font_px if ord(c) >= 0x2E80 else 0.6 * font_px for c in text)) + 1


def legend_svg(labels: Mapping[str, str], swatch: int = 12, font_px: int = 13) -> str:
    """A one-row legend (swatch + label per emotion) as SVG markup; text is escaped."""
    colors = _palette()
    x, parts = 0, []
    for e in EMOTIONS:
        text = str(labels.get(e, e))
        parts.append(f'<rect x="{x}" y="2" width="{swatch}" height="{swatch}" fill="{escape(colors[e])}"/>'
                     f'<text x="{x + swatch + 4}" y="{swatch}" font-size="{font_px}" '
                     f'font-family="sans-serif">{escape(text)}</text>')
        x += swatch + 4 + _text_width(text, font_px) + 10
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{x}" height="{swatch + 4}" '
            f'viewBox="0 0 {x} {swatch + 4}">' + "".join(parts) + "</svg>")
