"""Uploaded video: who felt what, when, through a whole recording (issue 13). No Streamlit here.

Modules, one concern each:

* `decode`   - open/check a file with PyAV, stream the frames to analyse (rate, rotation, downscaling);
* `analyse`  - run them through the live camera's `StreamingAnalyzer` on the video's clock -> rows;
* `summary`  - per-person summary, segments, overall distribution, timelines;
* `export`   - CSV (formula-injection safe) and a JSON report;
* `encode`   - the annotated H.264 MP4;
* `thumbs`   - a bounded set of thumbnails for "the frame at this time";
* `jobs`     - submit / progress / cancel / result with an in-process thread runner;
* `synth`    - clips made from real faces at test/benchmark time;
* `errors`   - `VideoError(code, **params)`.
"""
from emotion.video.analyse import Progress, VideoResult, VideoRow, analyse_video
from emotion.video.decode import RATES, VideoInfo, probe
from emotion.video.errors import VideoError

__all__ = ["RATES", "Progress", "VideoError", "VideoInfo", "VideoResult", "VideoRow", "analyse_video", "probe"]
