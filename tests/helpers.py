"""Small helpers shared by tests: run the real CLI, build test files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parent.parent


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def run_cli(
    *args: str, engine: Engine | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `onemap ARGS` in a subprocess against `engine`'s database."""
    full_env = {**os.environ, **(env or {})}
    if engine is not None:
        full_env["ONEMAP_DATABASE_URL"] = url_of(engine)
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=ROOT,
        timeout=600,
    )


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """`onemap serve` in a subprocess on a free port, for clients that talk real HTTP."""

    def __init__(self, database_url: str, extra_env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "ONEMAP_DATABASE_URL": database_url,
            "ONEMAP_PORT": str(self.port),
            **(extra_env or {}),
        }
        self.log = open(ROOT / ".onemap" / f"test-server-{self.port}.log", "w+")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "api.app:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
                # Open event streams end at shutdown (clients reconnect) rather than block it.
                "--timeout-graceful-shutdown",
                "3",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self._wait()

    def _wait(self) -> None:
        import time

        import httpx

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                httpx.get(self.base + "/openapi.json", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        self.log.seek(0)
        raise RuntimeError(f"server did not start: {self.log.read()}")

    def logs(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()
