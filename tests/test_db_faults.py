"""Database faults with a real MariaDB: a private `mariadbd` (own port and data folder, see
tests/e2e/mariadb_server.py) is stopped in the middle of a live session and started again.

The camera keeps running (real face frames through the StreamingAnalyzer, the code path of the video
callback, with its HistoryWriter writing to the Store). While the server is away the Store says so
(StoreUnavailable with a plain message) and rows stay buffered; when it is back they are written: every
row the stream produced is in the database exactly once, with no second of the session missing.
"""
from __future__ import annotations

import threading
import time

import pytest

from tests.e2e.camera import face_frames
from tests.e2e.mariadb_server import MariaDBServer
from tests.waiting import wait_until

pytestmark = pytest.mark.mysql


class Camera(threading.Thread):
    """Feeds frames at about `fps` until stopped (wall clock: rows are timed by it), like the callback."""

    def __init__(self, stream, frames, fps: float = 12.0):
        super().__init__(daemon=True)
        self.stream, self.frames, self.fps = stream, frames, fps
        self.halt = threading.Event()
        self.count = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.halt.is_set():
                t0 = time.time()
                self.stream.process(self.frames[self.count % len(self.frames)])
                self.count += 1
                time.sleep(max(0.0, 1.0 / self.fps - (time.time() - t0)))
        except BaseException as e:  # noqa: BLE001 - reported by the test
            self.error = e


def test_server_stops_mid_session_and_nothing_is_lost_or_doubled(tmp_path):
    from emotion.pipeline import get_analyzer
    from emotion.auth import register
    from emotion.store import StoreUnavailable, open_store
    from emotion.live import HistoryWriter, StreamingAnalyzer, store_sink

    server = MariaDBServer(tmp_path / "mariadb").start()
    try:
        store = open_store(server.url)
        user = register(store, "camera_user", "long enough password", "long enough password")
        writer = HistoryWriter(store_sink(store, user.id), interval=0.3, backoff=0.2, max_backoff=1.0)
        stream = StreamingAnalyzer(get_analyzer(), mode="fast", history_sink=writer, landmarks=True)
        camera = Camera(stream, face_frames(40))
        camera.start()
        wait_until(lambda: writer.stats()["written"] > 0, 60, "rows written while the server is up")

        server.stop()  # the database goes away; the camera keeps running
        down_at = time.time()
        with pytest.raises(StoreUnavailable) as err:
            store.ping()
        assert err.value.code == "store.unavailable"
        frames_at_stop = camera.count
        # the writer keeps the rows of the outage: pending, with the error it met, for at least four
        # seconds of rows (one per track per second), however fast the camera runs
        stats = wait_until(lambda: (s := writer.stats())["pending"] >= 4 and s["last_error"]
                           and camera.count >= frames_at_stop + 36 and s, 60, "rows buffered during the outage")
        assert stats["dropped"] == 0, stats

        server.start()  # it comes back
        up_at = time.time()
        written_before = writer.stats()["written"]
        wait_until(lambda: writer.stats()["written"] > written_before, 60, "the buffered rows to be written")
        camera.halt.set()
        camera.join(timeout=30)
        assert camera.error is None, camera.error
        stream.stop()
        assert writer.stop(timeout=60.0), f"rows still pending after the server returned: {writer.stats()}"
        stats = writer.stats()
        assert stats["dropped"] == 0, stats

        df = store.history_frame(user.id, source="camera")
        keys = server.query("SELECT row_key, COUNT(*) FROM history GROUP BY row_key HAVING COUNT(*) > 1",
                            database="emotion")
        assert not keys, f"rows written twice: {keys[:5]}"
        assert len(df) == stats["written"], (len(df), stats)
        # one row per track per second: every second of the session has a row, outage included
        seconds = sorted({int(t.timestamp()) for t in df["time"]})
        gaps = [b - a for a, b in zip(seconds, seconds[1:]) if b - a > 2]
        assert not gaps, f"seconds without rows (lost while the server was down?): {gaps}"
        # rows made while the server was down reached it afterwards, and the session spans the outage
        during = [s for s in seconds if down_at + 1 <= s <= up_at - 1]
        assert len(during) >= 2, (down_at, up_at, seconds)
        assert seconds[0] < down_at and seconds[-1] > up_at - 1
        store.close()
    finally:
        server.stop()
