"""FER2013 splits (``*.npz.xz``) and the training-time augmentation.

Only numpy and OpenCV here: the evaluate command imports this module and must not pay for TensorFlow.
The preprocessing itself (uint8 crop -> network input) lives in :mod:`emotion.classify.fer_cnn` so that
training, evaluation and the product share one function.
"""
from __future__ import annotations

import io
import lzma
import math
from pathlib import Path

import cv2
import numpy as np

from emotion.config import FER2013_DIR
from emotion.records import EMOTIONS

TRAIN_FILE = "Training.npz.xz"
VAL_FILE = "PublicTest.npz.xz"  # model selection happens on PublicTest only


def load_npz_xz(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read a FER2013-format file: xz-compressed .npz with ``images`` uint8 (N,48,48) and ``labels``
    uint8 (N,) in FER order (== emotion.records.EMOTIONS)."""
    path = Path(path)
    opener = lzma.open if path.suffix == ".xz" else open
    with opener(path, "rb") as f:
        data = np.load(io.BytesIO(f.read()))
        images = np.ascontiguousarray(data["images"], dtype=np.uint8)
        labels = np.ascontiguousarray(data["labels"], dtype=np.int64)
    if images.ndim != 3 or images.shape[1] != images.shape[2]:
        raise ValueError(f"{path}: expected images (N,S,S), got {images.shape}")
    if len(images) != len(labels):
        raise ValueError(f"{path}: {len(images)} images but {len(labels)} labels")
    if labels.size and (labels.min() < 0 or labels.max() >= len(EMOTIONS)):
        raise ValueError(f"{path}: labels outside 0..{len(EMOTIONS) - 1}")
    return images, labels


def data_dir(override: str | Path | None = None) -> Path:
    return Path(override) if override else FER2013_DIR


def load_split(name: str, directory: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``name``: 'train' / 'val' (PublicTest) or a file name inside the FER2013 folder."""
    file = {"train": TRAIN_FILE, "val": VAL_FILE, "publictest": VAL_FILE}.get(name.lower(), name)
    return load_npz_xz(data_dir(directory) / file)


def class_counts(labels: np.ndarray, n_classes: int = len(EMOTIONS)) -> np.ndarray:
    return np.bincount(labels, minlength=n_classes).astype(np.int64)


def class_weights(labels: np.ndarray, power: float, n_classes: int = len(EMOTIONS)) -> np.ndarray:
    """Inverse-frequency weights raised to ``power`` (0: none, 1: fully balanced), normalised so that
    the mean weight over the training samples is 1 (the loss scale, hence the learning rate, is kept)."""
    counts = np.maximum(class_counts(labels, n_classes), 1).astype(np.float64)
    w = (counts.sum() / (n_classes * counts)) ** power
    w /= (w[labels]).mean()
    return w.astype(np.float32)


class Augmenter:
    """Random affine (shift, rotation, scale, horizontal flip), gamma/contrast jitter and random erasing,
    all on uint8 48x48 crops with OpenCV; one call augments a whole batch in a few milliseconds."""

    def __init__(self, *, shift: float, rotate_deg: float, scale: float, flip: bool, gamma: float,
                 contrast: float, erase_prob: float, erase_max_frac: float, seed: int):
        self.shift, self.rotate_deg, self.scale, self.flip = shift, rotate_deg, scale, flip
        self.gamma, self.contrast = gamma, contrast
        self.erase_prob, self.erase_max_frac = erase_prob, erase_max_frac
        self.rng = np.random.default_rng(seed)

    def __call__(self, images: np.ndarray) -> np.ndarray:
        rng = self.rng
        n, h, w = images.shape
        out = np.empty_like(images)
        angles = rng.uniform(-self.rotate_deg, self.rotate_deg, n)
        scales = rng.uniform(1.0 - self.scale, 1.0 + self.scale, n)
        shifts = rng.uniform(-self.shift, self.shift, (n, 2)) * np.array([w, h])
        flips = rng.random(n) < 0.5 if self.flip else np.zeros(n, bool)
        centre = (w / 2.0 - 0.5, h / 2.0 - 0.5)
        for i in range(n):
            m = cv2.getRotationMatrix2D(centre, float(angles[i]), float(scales[i]))
            m[:, 2] += shifts[i]
            if flips[i]:  # mirror after the affine: x -> w-1-x
                m[0, :] = -m[0, :]
                m[0, 2] += w - 1
            out[i] = cv2.warpAffine(images[i], m, (w, h), flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REFLECT_101)
        if self.gamma > 0 or self.contrast > 0:
            x = out.astype(np.float32) / 255.0
            if self.gamma > 0:
                g = np.exp(rng.uniform(-self.gamma, self.gamma, (n, 1, 1))).astype(np.float32)
                x = np.power(x, g)
            if self.contrast > 0:
                c = rng.uniform(1.0 - self.contrast, 1.0 + self.contrast, (n, 1, 1)).astype(np.float32)
                mean = x.mean(axis=(1, 2), keepdims=True)
                x = (x - mean) * c + mean
            out = np.clip(x * 255.0 + 0.5, 0, 255).astype(np.uint8)
        if self.erase_prob > 0:
            for i in np.nonzero(rng.random(n) < self.erase_prob)[0]:
                area = rng.uniform(0.02, self.erase_max_frac) * h * w
                aspect = math.exp(rng.uniform(math.log(0.3), math.log(3.3)))
                eh = int(min(h, round(math.sqrt(area * aspect))))
                ew = int(min(w, round(math.sqrt(area / aspect))))
                y0 = int(rng.integers(0, h - eh + 1))
                x0 = int(rng.integers(0, w - ew + 1))
                out[i, y0:y0 + eh, x0:x0 + ew] = rng.integers(0, 256, (eh, ew), dtype=np.uint8)
        return out
