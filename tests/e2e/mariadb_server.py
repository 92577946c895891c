"""A private MariaDB server for fault tests: its own data folder and port, started and stopped at will.

The machine's own server (127.0.0.1:3306) is never touched; this one is created with
`mariadb-install-db` in a temporary folder and run as `mariadbd --no-defaults`, optionally inside a network
namespace (so that an app running in that namespace reaches it on 127.0.0.1). Skips (fails when CI=true
and we are root) when the MariaDB server binaries are missing.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

MARIADBD = "/usr/sbin/mariadbd"


def require_mariadb_binaries() -> None:
    reason = None
    if not (os.path.exists(MARIADBD) and shutil.which("mariadb-install-db")):
        reason = "MariaDB server binaries (mariadbd, mariadb-install-db) are not installed"
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MariaDBServer:
    def __init__(self, base: Path, *, ns: str | None = None, port: int | None = None):
        require_mariadb_binaries()
        self.base = Path(base)
        self.datadir = self.base / "data"
        self.socket = self.base / "mysqld.sock"
        self.pidfile = self.base / "mysqld.pid"
        self.port = port or _free_port()
        self.ns = ns
        self.proc: subprocess.Popen | None = None
        self.base.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        """URL for the app (TCP on 127.0.0.1 of the namespace it runs in)."""
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/emotion?charset=utf8mb4"

    @property
    def socket_url(self) -> str:
        """URL for the test process, which may sit outside the namespace: the unix socket crosses it."""
        return f"mysql+pymysql://root@localhost/emotion?charset=utf8mb4&unix_socket={self.socket}"

    def install(self) -> "MariaDBServer":
        if not (self.datadir / "mysql").is_dir():
            subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={self.datadir}", "--user=root",
                            "--auth-root-authentication-method=normal", "--skip-test-db"],
                           check=True, capture_output=True, timeout=180)
        return self

    def _wrap(self, cmd: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.ns, *cmd] if self.ns else cmd

    def start(self, timeout: float = 60.0) -> "MariaDBServer":
        self.install()
        cmd = [MARIADBD, "--no-defaults", f"--datadir={self.datadir}", "--user=root", f"--port={self.port}",
               "--bind-address=127.0.0.1", f"--socket={self.socket}", f"--pid-file={self.pidfile}",
               "--skip-log-bin", "--innodb-buffer-pool-size=32M", "--max-connections=200",
               "--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci"]
        self._log = open(self.base / "server.log", "ab")
        self.proc = subprocess.Popen(self._wrap(cmd), stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mariadbd exited: {(self.base / 'server.log').read_text()[-3000:]}")
            if self.ping():
                break
            time.sleep(0.3)
        else:
            raise RuntimeError("mariadbd did not accept connections in time")
        self.query("CREATE DATABASE IF NOT EXISTS emotion CHARACTER SET utf8mb4")
        return self

    def ping(self) -> bool:
        try:
            import pymysql

            pymysql.connect(unix_socket=str(self.socket), user="root", connect_timeout=1).close()
            return True
        except Exception:  # noqa: BLE001
            return False

    def query(self, sql: str, database: str | None = None) -> list[tuple]:
        import pymysql

        conn = pymysql.connect(unix_socket=str(self.socket), user="root", database=database, connect_timeout=5,
                               charset="utf8mb4", autocommit=True)
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                return list(cur.fetchall())
        finally:
            conn.close()

    def stop(self, timeout: float = 60.0) -> None:
        """A clean shutdown (SIGTERM), as an operator restarting the server would do."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.proc = None
        if getattr(self, "_log", None):
            self._log.close()
            self._log = None

    def __enter__(self) -> "MariaDBServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
