"""The face factor's numbers in one place (each one says where it comes from).

MATCH_THRESHOLD: euclidean_l2 distance of dlib ResNet embeddings at or below which a frame's face is
the enrolled user. Chosen for a false-accept rate below 0.1 % on real pairs of different people
(``python tools/face_threshold.py``; figures in models/README.md).
"""
from __future__ import annotations

MATCH_THRESHOLD = 0.36
