"""Real-browser test harness: a Streamlit server in a subprocess and Debian's chromium via playwright.

Nothing is mocked: the app is served exactly as `streamlit run app.py` serves it, with its own SQLite
file (or the MariaDB URL a test passes), and the browser is the system chromium (playwright's driver
only; no browser download). For WebRTC, both run inside a private network namespace holding only
loopback (see `netns`), because aiortc skips 127.0.0.1 and chromium needs
--allow-loopback-in-peer-connection; they meet on 127.0.0.2 and nothing leaves the machine.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def require_browser() -> str:
    """Path of Debian's chromium and playwright's driver, or skip (fail under CI=true) with the reason."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    reason = None
    if chromium is None:
        reason = "Debian's chromium is not installed (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "the playwright package is not installed"
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return chromium


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def netns():
    """A network namespace holding only `lo` with 127.0.0.2; yields its name. Needs root and iproute2."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        reason = "the live-camera browser test needs root and iproute2 for a private network namespace"
        if os.environ.get("CI") == "true" and os.geteuid() == 0:
            pytest.fail(reason)
        pytest.skip(reason)
    name = f"emo{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True)
        subprocess.run(["ip", "netns", "exec", name, "ip", "addr", "add", "127.0.0.2/8", "dev", "lo"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


class AppServer:
    """`streamlit run app.py` in a subprocess; optionally inside a network namespace."""

    def __init__(self, tmp: Path, *, database_url: str | None = None, ns: str | None = None,
                 env: dict[str, str] | None = None, address: str = "127.0.0.1"):
        self.port = free_port()
        self.address = address
        self.ns = ns
        self.log_path = tmp / f"streamlit-{self.port}.log"
        self.env = dict(os.environ)
        self.env.update({
            "EMOTION_DATA_DIR": str(tmp / "appdata"),
            "DATABASE_URL": database_url or f"sqlite:///{tmp / 'app.db'}",
            "PYTHONUNBUFFERED": "1",
        })
        self.env.update(env or {})
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{self.address}:{self.port}"

    def _wrap(self, cmd: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.ns, *cmd] if self.ns else cmd

    def start(self, timeout: float = 120.0) -> "AppServer":
        cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
               "--server.headless", "true", "--server.address", self.address,
               "--server.port", str(self.port), "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none"]
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self._wrap(cmd), cwd=ROOT, env=self.env, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited early:\n{self.log()}")
            if self._healthy():
                return self
            time.sleep(0.5)
        raise RuntimeError(f"streamlit did not become healthy in {timeout}s:\n{self.log()}")

    def _healthy(self) -> bool:
        if self.ns:
            probe = self._wrap([sys.executable, "-c",
                                f"import urllib.request;urllib.request.urlopen('{self.url}/_stcore/health',timeout=2)"])
            return subprocess.run(probe, capture_output=True).returncode == 0
        try:
            with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-6000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            import signal

            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if getattr(self, "_log", None):
            self._log.close()

    def __enter__(self) -> "AppServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def launch_chromium(playwright, chromium: str, extra_args: list[str] | None = None):
    return playwright.chromium.launch(executable_path=chromium, headless=True,
                                      args=CHROMIUM_FLAGS + list(extra_args or []))
