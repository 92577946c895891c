"""A fake camera for chromium: a Y4M video of a real face, built at test time into a temporary folder.

scikit-image ships NASA's astronaut photo; her face moves slowly across a 640x480 frame (chromium loops the
file, so the motion goes there and back to avoid a jump at the loop point).
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def face_frames(n: int = 60, width: int = 640, height: int = 480) -> list[np.ndarray]:
    from skimage import data

    face = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)[0:300, 80:330]  # head and shoulders
    face = cv2.resize(face, (200, 240), interpolation=cv2.INTER_AREA)
    fh, fw = face.shape[:2]
    background = np.full((height, width, 3), (170, 160, 150), np.uint8)
    frames = []
    travel = width - fw - 80
    for i in range(n):
        phase = i / max(1, n - 1)
        pos = phase * 2 if phase < 0.5 else 2 - phase * 2  # there and back
        x = 40 + int(round(pos * travel))
        y = (height - fh) // 2
        frame = background.copy()
        frame[y:y + fh, x:x + fw] = face
        frames.append(frame)
    return frames


def write_y4m(path: Path, frames: list[np.ndarray], fps: int = 30) -> Path:
    h, w = frames[0].shape[:2]
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            f.write(b"FRAME\n")
            f.write(cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())
    return path
