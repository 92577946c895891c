"""Sizes and constants of the stored data (name lengths, blob limits, sources, dialect names)."""
from __future__ import annotations

from pathlib import Path

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
SQLITE_FILENAME = "emotion.db"
SOURCES: tuple[str, ...] = ("photo", "camera", "video")
USER_NAME_MAX = 32
PERSON_NAME_MAX = 100
MODEL_NAME_MAX = 64
SESSION_NAME_MAX = 100
DESCRIPTION_MAX = 1000
THUMBNAIL_MAX_BYTES = 1 << 20          # "small" PNG/JPEG thumbnails: 1 MiB at most
SNAPSHOT_MAX_BYTES = 15 << 20          # below MariaDB's default max_allowed_packet (16 MiB)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
_MYSQL_NAMES = ("mysql", "mariadb")
_LOCK_TIMEOUT_S = 120
