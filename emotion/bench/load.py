"""`python -m emotion bench --load`: concurrent sessions analysing photos and writing history.

What ten people using the dashboard at once do to one server process: Streamlit runs each browser session
as a thread of the same process, sharing the cached Analyzer, each with its own user and its own database
connection from the pool. Here each of ``--sessions`` threads registers its own user, then for
``--seconds`` analyses a real photo (the astronaut, or several faces), writes one history row per face with
a row key (as the Photo page does) and reads its own history count back. At the end every user's rows
are counted in the database and compared with what that session wrote: lost rows, duplicated rows and
errors are printed with the p50/p95 photo-analysis time and the rows written per second.

Run it against MariaDB: ``python -m emotion bench --load --database-url mysql+pymysql://root@127.0.0.1/test``
(a fresh database named ``emotion_load_<random>`` is created on that server and dropped afterwards unless
``--keep``). Without a URL it uses a temporary SQLite file.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path


def add_arguments(p) -> None:
    p.add_argument("--load", action="store_true", help="run the concurrent-sessions load benchmark")
    p.add_argument("--sessions", type=int, default=10)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--database-url", help="server URL (a fresh database is created on it); default: SQLite")
    p.add_argument("--keep", action="store_true", help="keep the load database afterwards")


def _fresh_database(url: str) -> tuple[str, callable]:
    """Create emotion_load_<hex> on the server of `url`; returns (url of it, drop function)."""
    from sqlalchemy import create_engine, make_url, text

    base = make_url(url)
    name = f"emotion_load_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base.set(database=None) if base.database else base)
    with admin.begin() as c:
        c.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))

    def drop() -> None:
        with admin.begin() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), drop


def run_load(args: argparse.Namespace) -> int:
    import cv2
    import numpy as np

    from emotion.pipeline import get_analyzer
    from emotion.auth import register
    from emotion.bench.scenes import astronaut_bgr, group_photo, resize_width
    from emotion.store import new_row_key, open_store

    drop = None
    tmp = None
    if args.database_url and not args.database_url.startswith("sqlite"):
        url, drop = _fresh_database(args.database_url)
    elif args.database_url:
        url = args.database_url
    else:
        tmp = tempfile.TemporaryDirectory()
        url = f"sqlite:///{Path(tmp.name) / 'load.db'}"
    store = open_store(url)
    analyzer = get_analyzer()
    photos = [resize_width(astronaut_bgr(), 640), resize_width(group_photo(astronaut_bgr()), 960)]
    photo_bytes = [cv2.imencode(".jpg", p)[1].tobytes() for p in photos]
    analyzer.analyze(photos[0])  # models loaded before the clock starts, as the app's cache does
    print(f"{args.sessions} sessions x {args.seconds:.0f} s against {store.dialect} "
          f"(detector {analyzer.detector.name}); {os.cpu_count()} cores", flush=True)

    lock = threading.Lock()
    analysis_ms: list[float] = []
    written: dict[int, int] = {}
    errors: list[str] = []
    start_barrier = threading.Barrier(args.sessions)

    def session(i: int) -> None:
        try:
            user = register(store, f"load_user_{i}_{uuid.uuid4().hex[:6]}", "correct horse battery",
                            "correct horse battery")
        except Exception as e:  # noqa: BLE001
            with lock:
                errors.append(f"session {i} register: {type(e).__name__}: {e}")
            return
        mine = 0
        start_barrier.wait()
        deadline = time.perf_counter() + args.seconds
        k = 0
        while time.perf_counter() < deadline:
            data = photo_bytes[(i + k) % len(photo_bytes)]
            k += 1
            try:
                t0 = time.perf_counter()
                faces = analyzer.analyze(data)
                ms = (time.perf_counter() - t0) * 1000
                new = store.add_history(user.id, faces, source="photo",
                                        row_keys=[new_row_key() for _ in faces])
                if new != len(faces):
                    raise RuntimeError(f"wrote {new} of {len(faces)} rows")
                store.history_count(user.id)
            except Exception as e:  # noqa: BLE001
                with lock:
                    errors.append(f"session {i}: {type(e).__name__}: {e}")
                continue
            mine += len(faces)
            with lock:
                analysis_ms.append(ms)
        with lock:
            written[user.id] = mine

    threads = [threading.Thread(target=session, args=(i,), name=f"session-{i}") for i in range(args.sessions)]
    t_start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t_start
    stored = {uid: store.history_count(uid) for uid in written}
    lost = sum(max(0, written[u] - stored[u]) for u in written)
    extra = sum(max(0, stored[u] - written[u]) for u in written)
    total = sum(written.values())
    p50 = statistics.median(analysis_ms) if analysis_ms else float("nan")
    p95 = float(np.percentile(analysis_ms, 95)) if analysis_ms else float("nan")
    print(f"photos analysed: {len(analysis_ms)}; rows written: {total}; rows stored: {sum(stored.values())}")
    print(f"lost rows: {lost}; duplicated rows: {extra}; errors: {len(errors)}")
    for e in errors[:10]:
        print("  " + e)
    print(f"photo analysis ms: p50 {p50:.1f}  p95 {p95:.1f}")
    print(f"rows per second: {total / elapsed:.1f}  (photos per second: {len(analysis_ms) / elapsed:.1f})")
    store.close()
    if drop and not args.keep:
        drop()
    if tmp is not None:
        tmp.cleanup()
    return 0 if not (lost or extra or errors) else 1
