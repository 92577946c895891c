"""Finding a font that can draw Chinese labels (for `emotion.draw`), once per process.

Order: ``$EMOTION_CJK_FONT``; Debian's packaged CJK fonts at their usual paths (fonts-wqy-microhei,
fonts-noto-cjk, fonts-wqy-zenhei, fonts-arphic, Droid fallback); then whatever ``fc-list :lang=zh``
names. None when the machine has none (then labels are drawn in English: see `cjk_font`).
"""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

__all__ = ["cjk_font", "KNOWN_CJK_FONTS", "INSTALL_HINT"]

KNOWN_CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
#: what to install on Debian/Ubuntu when `cjk_font()` is None
INSTALL_HINT = "apt-get install fonts-wqy-microhei"


@functools.lru_cache(maxsize=1)
def cjk_font() -> Path | None:
    """A font file with Chinese glyphs, or None."""
    env = os.environ.get("EMOTION_CJK_FONT", "").strip()
    candidates = [env] if env else []
    candidates += KNOWN_CJK_FONTS
    for c in candidates:
        if c and Path(c).is_file():
            return Path(c)
    if shutil.which("fc-list"):
        try:
            out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            return None
        for line in out.splitlines():
            path = line.split(":")[0].strip()
            if path and Path(path).is_file():
                return Path(path)
    return None
