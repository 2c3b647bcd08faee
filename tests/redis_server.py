"""Debian's ``redis-server``, started by the tests on a free loopback port (never a shared one)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

import pytest

INSTALL_HINT = (
    "These tests need Redis: install Debian's redis-server (sudo apt-get install redis-server; "
    "./dev.sh test does it when run as root), then run them again."
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RedisServer:
    """One throw-away ``redis-server`` on 127.0.0.1: no persistence, its own directory."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server") or (
            "/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None
        )
        if binary is None:
            pytest.fail(INSTALL_HINT, pytrace=False)
        self._dir = tempfile.TemporaryDirectory(prefix="revu-redis-")
        # A free port can be taken by another process (a parallel test worker) between the
        # probe and redis-server's bind: then redis-server exits, and a new port is tried.
        for _attempt in range(5):
            self.port = free_port()
            self.url = f"redis://127.0.0.1:{self.port}/0"
            self._process = subprocess.Popen(
                [
                    binary,
                    "--port", str(self.port),
                    "--bind", "127.0.0.1",
                    "--save", "",
                    "--appendonly", "no",
                    "--dir", self._dir.name,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
            if self._started():
                return
        self.stop()
        pytest.fail(f"redis-server did not start (last port tried: {self.port})", pytrace=False)

    def _started(self) -> bool:
        give_up = time.monotonic() + 15
        while not self._answers():
            if self._process.poll() is not None:
                return False
            if time.monotonic() > give_up:
                self.kill()
                return False
            time.sleep(0.02)
        return True

    def _answers(self) -> bool:
        # This server, not another one that holds the port: it names its own directory.
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"CONFIG GET dir\r\n")
                return self._dir.name.encode() in conn.recv(4096)
        except OSError:
            return False

    def kill(self) -> None:
        """Kill it as a crash would (SIGKILL): connections drop, nothing is saved."""
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait(10)

    def pause(self) -> None:
        """Freeze it (SIGSTOP): connections stay open and nothing answers, as when Redis hangs."""
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self._process.poll() is None:
            self.resume()
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self._dir.cleanup()


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A fresh, empty ``redis-server`` for one test; fails (never skips) when Redis is missing."""
    server = RedisServer()
    try:
        yield server
    finally:
        server.stop()
