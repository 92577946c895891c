"""The plumbing the engine's worker processes share (live recognition, photo comparison): start
``python -m <module>`` of this project with piped stdin/stdout, and end it by closing its input."""
from __future__ import annotations

import os
import subprocess
import sys
import threading


class ChildProcess:
    """A child ``python -m module *args`` run from the project root (importable whatever the caller's
    working directory), talking over stdin/stdout. ``broken`` turns True once it is closed or its
    output ends; subclasses guard their own state with ``_lock``."""

    def __init__(self, module: str, *args: str) -> None:
        from emotion.config import PROJECT_ROOT

        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(PROJECT_ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        self.proc = subprocess.Popen([sys.executable, "-m", module, *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, env=env, cwd=str(PROJECT_ROOT))
        self._lock = threading.Lock()
        self.broken = False

    def _close_input(self) -> None:
        """Mark the process broken and close its stdin: the child reads EOF and exits."""
        with self._lock:
            self.broken = True
            try:
                self.proc.stdin.close()
            except OSError:
                pass
