"""The recognition worker process: ``python -m emotion.live.worker RECOGNIZER_NAME`` embeds the
150x150 RGB chips it reads on stdin with its own copy of the recogniser and writes the vectors to
stdout (the protocol of `emotion.live.recognition.EmbedProcess`)."""
from __future__ import annotations

import logging
import sys

import numpy as np

from emotion.live.recognition import _HEADER_IN, _HEADER_OUT

log = logging.getLogger(__name__)


def main(name: str) -> int:
    """Serve embedding requests until stdin closes."""
    from emotion import registry

    recognizer = registry.get_recognizer(name)
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    while True:
        head = inp.read(_HEADER_IN.size)
        if len(head) < _HEADER_IN.size:
            return 0
        n, h, w = _HEADER_IN.unpack(head)
        body = inp.read(n * h * w * 3)
        try:
            emb = np.ascontiguousarray(recognizer.embed(np.frombuffer(body, np.uint8).reshape(n, h, w, 3)),
                                       dtype=np.float32)
            answer = _HEADER_OUT.pack(n, emb.shape[1]) + emb.tobytes()
        except Exception:  # noqa: BLE001
            log.exception("embedding failed in the recognition process")
            answer = _HEADER_OUT.pack(n, 0)
        try:
            out.write(answer)
            out.flush()
        except (BrokenPipeError, ValueError):  # the stream closed while this batch was embedded: done
            return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m emotion.live.worker RECOGNIZER_NAME")
    raise SystemExit(main(sys.argv[1]))
