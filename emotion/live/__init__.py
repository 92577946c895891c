"""The live camera (and, frame by frame, an uploaded video): `StreamingAnalyzer` and its parts.

`analyser` (the per-frame path), `state` (per-track memory), `landmarks` (cheap per-track
landmarks), `smoothing` (emotion EMA), `recognition` (gallery refresh, embeddings inline / thread /
worker process), `worker` (that process), `writer` (history rows in background batches).
"""
from __future__ import annotations

from emotion.live.analyser import MODES, StreamingAnalyzer
from emotion.live.recognition import RefreshingGallery
from emotion.live.writer import HistoryWriter, make_row, store_sink

__all__ = ["MODES", "StreamingAnalyzer", "HistoryWriter", "RefreshingGallery", "make_row", "store_sink"]
