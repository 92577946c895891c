"""The one emotion colour palette: the same colour for an emotion on drawn images, the live chart and
the history charts."""
from __future__ import annotations

from emotion.records import EMOTIONS

__all__ = ["EMOTION_RGB", "EMOTION_BGR", "EMOTION_HEX", "UNKNOWN_RGB", "KNOWN_RGB", "NO_EMOTION_RGB"]

#: RGB colour per emotion
EMOTION_RGB: dict[str, tuple[int, int, int]] = {
    "angry": (220, 40, 40),      # red
    "disgust": (40, 140, 40),    # green
    "fear": (140, 60, 160),      # purple
    "happy": (255, 200, 0),      # amber
    "sad": (30, 120, 200),       # blue
    "surprise": (0, 200, 220),   # cyan
    "neutral": (200, 200, 200),  # light grey
}
assert tuple(EMOTION_RGB) == EMOTIONS

#: the same colours in OpenCV's BGR order
EMOTION_BGR: dict[str, tuple[int, int, int]] = {e: (b, g, r) for e, (r, g, b) in EMOTION_RGB.items()}
#: the same colours as "#rrggbb" (Plotly)
EMOTION_HEX: dict[str, str] = {e: "#{:02x}{:02x}{:02x}".format(*rgb) for e, rgb in EMOTION_RGB.items()}

NO_EMOTION_RGB = (255, 255, 255)
UNKNOWN_RGB = (150, 150, 150)
KNOWN_RGB = (80, 220, 80)
