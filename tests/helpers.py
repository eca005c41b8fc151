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


def run_cli(*args: str, engine: Engine | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `onemap ARGS` in a subprocess against `engine`'s database."""
    full_env = {**os.environ, **(env or {})}
    if engine is not None:
        full_env["ONEMAP_DATABASE_URL"] = url_of(engine)
    return subprocess.run([sys.executable, "-m", "api.cli", *args], capture_output=True,
                          text=True, env=full_env, cwd=ROOT, timeout=600)
