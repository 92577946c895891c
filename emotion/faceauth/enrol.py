"""Enrolment of the face factor: a quality gate per frame and a guided collection of embeddings.

`frame_problems(bgr, boxes, landmarks)` names what makes a camera frame unfit (empty = good):
  no_face, several_faces, too_small (face side < `MIN_FACE_SIDE` px or < `MIN_FACE_FRACTION` of the
  frame's short side), blurry (variance of the Laplacian of the face's 150x150 grey chip <
  `MIN_SHARPNESS`), too_dark / too_bright (mean grey of the face outside `LIGHT_RANGE`, or more
  than `MAX_CLIPPED` of it blown out), eyes_closed (eye aspect ratio < `MIN_EAR`).

`Enrolment` guides the user through three poses (straight, a little left, a little right; told apart
by `geometry.yaw`) and keeps `PER_POSE` good frames of each -- only their embeddings, never the
frames. Every embedding must lie within `CONSISTENCY` of the first straight one, so a second person
cannot slip into the enrolment. `Enrolment.embeddings()` -> float32 (n, 128) when complete.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from emotion.faceauth.geometry import eye_aspect_ratio, yaw
from emotion.faceauth.probe import match_distance
from emotion.records import Box

MIN_FACE_SIDE = 90
MIN_FACE_FRACTION = 0.18
MIN_SHARPNESS = 40.0
LIGHT_RANGE = (45.0, 215.0)
MAX_CLIPPED = 0.25
MIN_EAR = 0.17
POSES = ("straight", "left", "right")
PER_POSE = 2
STRAIGHT_YAW = 0.12
SIDE_YAW = (0.12, 0.6)
CONSISTENCY = 0.45
PROBLEMS = ("no_face", "several_faces", "too_small", "blurry", "too_dark", "too_bright", "eyes_closed",
            "different_face")


def face_grey(bgr: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The face's aligned 150x150 grey chip (what the recogniser sees), for sharpness and light."""
    from emotion.landmarks.align import recognition_chip

    chip = recognition_chip(bgr, landmarks)
    return cv2.cvtColor(chip, cv2.COLOR_RGB2GRAY)


def sharpness(grey: np.ndarray) -> float:
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def frame_problems(bgr: np.ndarray, boxes: list[Box], landmarks: np.ndarray | None) -> list[str]:
    if not boxes:
        return ["no_face"]
    if len(boxes) > 1:
        return ["several_faces"]
    box = boxes[0]
    h, w = bgr.shape[:2]
    out = []
    if min(box.w, box.h) < MIN_FACE_SIDE or min(box.w, box.h) < MIN_FACE_FRACTION * min(h, w):
        out.append("too_small")
    if landmarks is None:
        return out + ["no_face"]
    grey = face_grey(bgr, landmarks)
    centre = grey[30:120, 30:120]
    if sharpness(grey) < MIN_SHARPNESS:
        out.append("blurry")
    mean = float(centre.mean())
    if mean < LIGHT_RANGE[0]:
        out.append("too_dark")
    elif mean > LIGHT_RANGE[1] or float((centre >= 250).mean()) > MAX_CLIPPED:
        out.append("too_bright")
    if eye_aspect_ratio(landmarks) < MIN_EAR:
        out.append("eyes_closed")
    return out


def pose_of(landmarks: np.ndarray) -> str | None:
    y = yaw(landmarks)
    if abs(y) <= STRAIGHT_YAW:
        return "straight"
    if SIDE_YAW[0] < y <= SIDE_YAW[1]:
        return "left"
    if -SIDE_YAW[1] <= y < -SIDE_YAW[0]:
        return "right"
    return None


@dataclass
class Enrolment:
    """Collects good embeddings pose by pose (see the module docstring)."""

    kept: dict[str, list[np.ndarray]] = field(default_factory=lambda: {p: [] for p in POSES})
    last_problems: list[str] = field(default_factory=list)

    @property
    def pose(self) -> str | None:
        """The pose asked for now (None when complete)."""
        for p in POSES:
            if len(self.kept[p]) < PER_POSE:
                return p
        return None

    @property
    def complete(self) -> bool:
        return self.pose is None

    def offer(self, bgr: np.ndarray, boxes: list[Box], landmarks: np.ndarray | None,
              embedding: np.ndarray | None) -> bool:
        """Keep this frame's embedding when the frame is good and shows the pose asked for."""
        want = self.pose
        if want is None:
            return False
        problems = frame_problems(bgr, boxes, landmarks)
        if not problems and embedding is None:
            problems = ["no_face"]
        if not problems and want != "straight":
            first = self.kept["straight"][0]
            if match_distance(embedding, first[None]) > CONSISTENCY:
                problems = ["different_face"]
        self.last_problems = problems
        if problems or pose_of(landmarks) != want:
            return False
        self.kept[want].append(np.asarray(embedding, np.float32).copy())
        return True

    def embeddings(self) -> np.ndarray:
        if not self.complete:
            raise ValueError("enrolment is not complete")
        return np.stack([e for p in POSES for e in self.kept[p]]).astype(np.float32)
