"""Facial landmarks: dlib's 68 points (`dlib68`) and the crops aligned on them (`align`)."""
