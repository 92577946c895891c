"""Labelled photo folders for the measuring commands: labels, people split, darkened variants.

    read_labels(folder) -> [(relative path, emotion)]       # folder/labels.csv, columns image,emotion
    person_of(path) -> "First_Last"                          # LFW-style names First_Last_0001.jpg
    split_people(items, "first-half"|"second-half"|"all", key=...) -> items
    darken(bgr, "gamma"|"cast", seed) -> bgr                 # built in memory, never written
    progress(i, n, label)                                    # a one-line progress bar on a terminal

Paths in a labels or pairs file are checked to stay inside the folder (no ``..`` escapes), and the
files are bounded (`MAX_ROWS`) so a hostile CSV cannot exhaust memory.
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Callable, Iterable, TypeVar

import numpy as np

T = TypeVar("T")
MAX_ROWS = 200_000
PEOPLE_CHOICES = ("first-half", "second-half", "all")
DARK_CHOICES = ("gamma", "cast")


class DataError(Exception):
    """A folder or CSV that cannot be used (message for the user)."""


def inside(folder: Path, rel: str) -> Path:
    """folder/rel, refusing paths that leave the folder."""
    root = folder.resolve()
    path = (root / rel).resolve()
    if root not in path.parents:
        raise DataError(f"path outside the folder: {rel!r}")
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = []
            for i, row in enumerate(csv.DictReader(fh)):
                if i >= MAX_ROWS:
                    raise DataError(f"{path.name}: more than {MAX_ROWS} rows")
                rows.append({(k or "").strip(): (v or "").strip() for k, v in row.items()})
            return rows
    except FileNotFoundError:
        raise DataError(f"{path} not found") from None
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise DataError(f"cannot read {path.name}: {err}") from None


def read_labels(folder: Path) -> list[tuple[str, str]]:
    from emotion.records import EMOTIONS

    rows = read_csv(folder / "labels.csv")
    if rows and not {"image", "emotion"} <= set(rows[0]):
        raise DataError("labels.csv needs the columns image,emotion")
    out = []
    for row in rows:
        emo = row["emotion"].lower()
        if emo not in EMOTIONS:
            raise DataError(f"labels.csv: unknown emotion {row['emotion']!r} (use {', '.join(EMOTIONS)})")
        inside(folder, row["image"])
        out.append((row["image"], emo))
    if not out:
        raise DataError("labels.csv has no rows")
    return out


def person_of(path: str) -> str:
    """The person of an LFW-style file name (First_Last_0001.jpg -> First_Last); else the stem."""
    stem = Path(path).stem
    head, _, tail = stem.rpartition("_")
    return head if head and tail.isdigit() else stem


def split_people(items: Iterable[T], which: str, key: Callable[[T], str]) -> list[T]:
    """Items of the first or second half of the people (sorted alphabetically), or all."""
    items = list(items)
    if which == "all":
        return items
    people = sorted({person_of(key(it)) for it in items})
    half = set(people[: len(people) // 2]) if which == "first-half" else set(people[len(people) // 2:])
    return [it for it in items if person_of(key(it)) in half]


def darken(bgr: np.ndarray, kind: str, seed: int = 0) -> np.ndarray:
    """A low-light copy: "gamma" = gamma 2.5, brightness x0.3, Gaussian noise sigma 8; "cast" = a
    strong orange (tungsten) cast, blue x0.45, green x0.75."""
    img = bgr.astype(np.float32) / 255.0
    if kind == "gamma":
        img = (img ** 2.5) * 0.3 * 255.0
        img += np.random.default_rng(seed).normal(0.0, 8.0, img.shape).astype(np.float32)
    elif kind == "cast":
        img = img * np.array([0.45, 0.75, 1.0], np.float32) * 255.0
    else:
        raise ValueError(f"dark kind must be one of {DARK_CHOICES}")
    return np.clip(img, 0, 255).astype(np.uint8)


def progress(i: int, n: int, label: str = "") -> None:
    """A one-line progress bar on stderr when it is a terminal (nothing in logs or pipes)."""
    if not sys.stderr.isatty() or n <= 0:
        return
    width = 30
    done = int(width * i / n)
    end = "\n" if i >= n else ""
    sys.stderr.write(f"\r[{'#' * done}{'.' * (width - done)}] {i}/{n} {label[:40]:<40}{end}")
    sys.stderr.flush()
