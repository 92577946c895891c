"""Square tiles of an image through one BlazeFace model, resized once and run in batches.

    TilePass(detector, num_threads=1).run(bgr, window, overlap, min_score, pad=0) -> (boxes, keypoints, scores)
    TilePass(...).run_tensors(batch, min_score)     # tiles the caller letterboxed, batched
    TilePass(...).confirm(bgr, boxes, context, min_score) -> mask   # weak faces found again on crops

A tile pass used to letterbox every tile separately (one resize of a big crop per tile: ~80 ms of
the ~250 ms a 1600x900 photo took) and call the interpreter once per tile. Here the image is
resized ONCE by ``input_size / window``, so every tile is a plain ``input_size`` square slice of the
resized copy, and the tiles go through the interpreter in batches of `chunk` (the tflite graphs take
any batch size; a batch comes out layer-major, see `_invoke`). Boxes and keypoints
come back in the pixels of the image given, after each tile's own NMS; a tile's detections touching
one of its edges that lies inside the image are dropped (`blazeface.drop_cut`): a neighbouring tile
sees that face whole.

``pad`` grey-pads the image first (as the short-range tiles do, so that a face cut by the border
sits in an edge tile with room around it); coordinates still come back in the unpadded image.
"""
from __future__ import annotations

import math
import threading

import cv2
import numpy as np

from emotion.detect.blazeface import BlazeFaceDetector, decode, drop_cut, letterbox, nms

PAD_VALUE = (127, 127, 127)


def starts(n_px: int, side: int, overlap_px: float) -> list[int]:
    """Start offsets of windows of `side` covering `n_px`, neighbours sharing >= `overlap_px`."""
    if n_px <= side:
        return [0]
    step = max(1.0, side - overlap_px)
    count = int(math.ceil((n_px - side) / step)) + 1
    return [int(round(i * (n_px - side) / (count - 1))) for i in range(count)]


def layer_sizes(spec) -> list[int]:
    """Anchors per output layer of a BlazeFace spec, in output order (as `generate_anchors`)."""
    out, layer, strides = [], 0, spec.strides
    while layer < len(strides):
        per_cell, last = 0, layer
        while last < len(strides) and strides[last] == strides[layer]:
            per_cell += 2 if spec.interpolated_scale_aspect_ratio > 0.0 else 1
            last += 1
        out.append(int(math.ceil(spec.input_size / strides[layer])) ** 2 * per_cell)
        layer = last
    return out


class TilePass:
    """A batched interpreter over the model of `detector` (its own LiteRT interpreter, so it never
    waits on the detector's single-image one)."""

    #: tiles per interpreter call (measured: one call for 40 full-range tiles costs more per tile than
    #: calls of a few: the activations of a big batch no longer fit the caches)
    chunk = 4

    def __init__(self, detector: BlazeFaceDetector, num_threads: int = 1) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self.det = detector
        self.size = detector.spec.input_size
        self._interp = Interpreter(model_path=str(detector.model_path), num_threads=int(num_threads))
        self._input_index = self._interp.get_input_details()[0]["index"]
        self._batch = 0
        self._layers = layer_sizes(detector.spec)
        self._lock = threading.Lock()  # a LiteRT interpreter is not thread-safe

    def _invoke(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = len(batch)
        with self._lock:
            if n != self._batch:  # growing allocates once; shrinking reuses the arena (~0.3 ms)
                self._interp.resize_tensor_input(self._input_index, [n, self.size, self.size, 3])
                self._interp.allocate_tensors()
                self._batch = n
            self._interp.set_tensor(self._input_index, batch)
            self._interp.invoke()
            outs = self._interp.get_output_details()
            boxes = next(self._interp.get_tensor(o["index"]) for o in outs if o["shape"][-1] == 16)
            scores = next(self._interp.get_tensor(o["index"]) for o in outs if o["shape"][-1] == 1)
        # the graph reshapes each feature layer to (1, -1, C) before concatenating: a batch comes
        # out layer-major (every tile's stride-8 anchors, then every tile's stride-16 ones)
        boxes, scores = boxes.reshape(-1, 16), scores.reshape(-1)
        parts_b, parts_s, at = [], [], 0
        for count in self._layers:
            parts_b.append(boxes[at:at + n * count].reshape(n, count, 16))
            parts_s.append(scores[at:at + n * count].reshape(n, count))
            at += n * count
        return np.concatenate(parts_b, axis=1), np.concatenate(parts_s, axis=1)

    def run_tensors(self, batch: np.ndarray, min_score: float) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """(N, size, size, 3) float32 model inputs -> per tile (boxes, keypoints, scores) in [0, 1]
        of the tile, after the tile's NMS."""
        if len(batch) == 0:
            return []
        batch = np.ascontiguousarray(batch, np.float32)
        chunks = [self._invoke(batch[i:i + self.chunk]) for i in range(0, len(batch), self.chunk)]
        raw_b = np.concatenate([c[0] for c in chunks])
        raw_s = np.concatenate([c[1] for c in chunks])
        out = []
        for rb, rs in zip(raw_b, raw_s):
            b, k, s = decode(rb, rs, self.det.anchors, self.size, min_score)
            if len(s):
                b, k, s = nms(b, k, s, self.det.iou_threshold, self.det.weighted)
            out.append((b, k, s))
        return out

    def windows(self, width: int, height: int, window: float, overlap: float,
                pad: int = 0) -> tuple[float, list[tuple[int, int]]]:
        """(scale, tile origins in the resized, padded copy) of a pass (see `run`)."""
        scale = self.size / float(window)
        rw, rh = int(round((width + 2 * pad) * scale)), int(round((height + 2 * pad) * scale))
        ov = overlap * self.size
        return scale, [(x, y) for y in starts(rh, self.size, ov) for x in starts(rw, self.size, ov)]

    def run(self, bgr: np.ndarray, window: float, overlap: float, min_score: float, pad: int = 0
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every tile of side `window` (image px), overlapping by `overlap` of a tile, over `bgr`
        grey-padded by `pad` px: (boxes x1 y1 x2 y2, keypoints (K, 6, 2), scores) in `bgr`'s
        pixels, cut faces dropped, not merged across tiles."""
        height, width = bgr.shape[:2]
        src = cv2.copyMakeBorder(bgr, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=PAD_VALUE) if pad else bgr
        scale, origins = self.windows(width, height, window, overlap, pad)
        rw, rh = int(round(src.shape[1] * scale)), int(round(src.shape[0] * scale))
        interp = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
        small = cv2.resize(src, (rw, rh), interpolation=interp)
        # the model's input: RGB in [-1, 1]; a copy smaller than a tile is padded with black, as the
        # letterbox does
        ph, pw = max(rh, self.size), max(rw, self.size)
        tensor = np.full((ph, pw, 3), -1.0, np.float32)
        tensor[:rh, :rw] = small[:, :, ::-1]
        tensor[:rh, :rw] *= 1.0 / 127.5
        tensor[:rh, :rw] -= 1.0
        s = self.size
        batch = np.stack([tensor[y:y + s, x:x + s] for x, y in origins])
        results = self.run_tensors(batch, min_score)
        all_b, all_k, all_s = [], [], []
        for (x, y), (b, k, sc) in zip(origins, results):
            if len(sc) == 0:
                continue
            bp, kp = b * s, k * s  # tile pixels of the resized copy
            keep = drop_cut(bp, x, y, s, s, rw, rh)
            if not keep.any():
                continue
            off = np.array([x, y], np.float32)
            all_b.append((bp[keep] + np.tile(off, 2)) / scale - pad)
            all_k.append((kp[keep] + off) / scale - pad)
            all_s.append(sc[keep])
        if not all_s:
            return np.zeros((0, 4), np.float32), np.zeros((0, 6, 2), np.float32), np.zeros(0, np.float32)
        return (np.concatenate(all_b).astype(np.float32), np.concatenate(all_k).astype(np.float32),
                np.concatenate(all_s).astype(np.float32))

    def confirm(self, bgr: np.ndarray, boxes: np.ndarray, context: float, min_score: float
                ) -> np.ndarray:
        """Mask of `boxes` that this model finds again (IoU > 0.3, score >= `min_score`) on square
        crops `context` times their size, centred on them, grey-padded, all crops in one batch."""
        if len(boxes) == 0:
            return np.zeros(0, bool)
        s = self.size
        batch = np.empty((len(boxes), s, s, 3), np.float32)
        refs = np.empty((len(boxes), 4), np.float32)
        for i, (x1, y1, x2, y2) in enumerate(boxes.astype(np.float64)):
            side = context * max(x2 - x1, y2 - y1, 4.0)
            cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
            if side <= s:  # a small face: upscaled straight into the model's input
                k = s / side
                m = np.float32([[k, 0, s / 2 - cx * k], [0, k, s / 2 - cy * k]])
                crop = cv2.warpAffine(bgr, m, (s, s), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                      borderValue=PAD_VALUE)
                refs[i] = [0.5 - 0.5 / context, 0.5 - 0.5 / context, 0.5 + 0.5 / context, 0.5 + 0.5 / context]
            else:  # cut at full size (the face centred at side/2 of a ceil(side) crop), then shrunk by
                # the detector's own letterbox (warpAffine would alias): as `_single` on the crop
                n = int(math.ceil(side))
                m = np.float32([[1, 0, side / 2 - cx], [0, 1, side / 2 - cy]])
                crop = cv2.warpAffine(bgr, m, (n, n), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                      borderValue=PAD_VALUE)
                batch[i] = letterbox(crop, s)[0][0]  # square: no bars, the detector's own resize
                # the face's own box in the crop: centred, 1/context of its side (not a fixed
                # quarter: that held for context 2 only, and with the small faces' 3.5 a face
                # found in the right place overlapped it by IoU ~0.33, often below 0.3)
                half = side / (2.0 * context)
                refs[i] = np.array([side / 2 - half, side / 2 - half, side / 2 + half, side / 2 + half]) / n
                continue
            batch[i] = crop[:, :, ::-1]
            batch[i] *= 1.0 / 127.5
            batch[i] -= 1.0
        from emotion.detect.blazeface import _iou

        out = np.zeros(len(boxes), bool)
        # decoded and merged at the model's own threshold, as a plain pass would, then held to
        # `min_score`: the weighted NMS then blends the same neighbours as the detector's own pass
        for i, (b, _, sc) in enumerate(self.run_tensors(batch, min(self.det.min_score, min_score))):
            out[i] = bool(len(sc) and np.any((_iou(refs[i], b) > 0.3) & (sc >= min_score)))
        return out
