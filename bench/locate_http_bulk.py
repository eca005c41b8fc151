"""(g) Bulk locate of 1,000,000 points end to end, over HTTP (a CSV body, the CSV answer streamed
back) and through `onemap locate --csv`, each against the in-process owners of the same points
in the same run; the server's peak memory (VmHWM) is reported.

Points: the scaled city's 1,000,000 case locations as `id,lon,lat` (about 30 MB of CSV).
Rates: rows / seconds. "End to end": HTTP from the first byte sent to the last byte of the answer
written to disk; the command line from process start to exit (Python start-up, the plan index
built from PostGIS, reading, locating, writing) and, beside it, the time it reports itself.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

from bench.common import scaled_city, scaled_database
from gis.owners.index import OwnerIndex
from gis.store.settings import PROJECT_ROOT

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))


def vm_hwm(pid: int) -> int:
    """A process's peak resident memory in bytes (/proc/PID/status VmHWM)."""
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", text).group(1)) * 1024  # type: ignore[union-attr]


def _serve(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ONEMAP_DATABASE_URL": url}
    argv = [sys.executable, "-m", "uvicorn", "api.app:app", "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    server = subprocess.Popen(argv, cwd=PROJECT_ROOT, env=env)
    for _ in range(300):
        try:
            httpx.get(f"http://127.0.0.1:{port}/livez", timeout=1)
            return server
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start")


def _post(base: str, token: str, src: Path, dst: Path) -> tuple[float, int]:
    """Seconds and bytes of one bulk POST, the answer streamed to `dst`."""
    started = time.perf_counter()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}
    with (
        src.open("rb") as body,
        httpx.stream(
            "POST", base + "/api/v1/locate", content=body, headers=headers, timeout=600
        ) as r,
        dst.open("wb") as out,
    ):
        if r.status_code != 200:
            raise RuntimeError(f"{r.status_code}: {r.read()[:300]!r}")
        for chunk in r.iter_bytes(1 << 20):
            out.write(chunk)
    return time.perf_counter() - started, dst.stat().st_size


def main() -> dict[str, float]:
    from gis.access.users import add_user

    load = os.getloadavg()
    city = scaled_city()
    cases = pd.read_csv(city / "cases.csv", usecols=["lon", "lat"], dtype=str)
    n = len(cases)
    lon, lat = cases["lon"].to_numpy(float), cases["lat"].to_numpy(float)
    with scaled_database(city) as engine, tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "points.csv", Path(tmp) / "located.csv"
        cases.insert(0, "id", np.arange(n))
        cases.to_csv(src, index=False)
        body_mb = src.stat().st_size / 1e6
        with engine.begin() as conn:
            token = add_user(conn, "bench-bulk", "analyst")
        with engine.connect() as conn:
            index = OwnerIndex(conn)
        inproc = min(_timed(lambda: index.owners(lon, lat)) for _ in range(ROUNDS))
        url = engine.url.render_as_string(hide_password=False)
        port = 18000 + os.getpid() % 1000
        server = _serve(url, port)
        base = f"http://127.0.0.1:{port}"
        try:
            small = Path(tmp) / "small.csv"
            small.write_text("id,lon,lat\n1,119.01,25.43\n")
            _post(base, token, small, dst)  # the plan index is built
            idle = vm_hwm(server.pid)
            runs = [_post(base, token, src, dst) for _ in range(ROUNDS)]
            peak = vm_hwm(server.pid)
        finally:
            server.terminate()
            server.wait(10)
        http_s, answer_bytes = min(runs)
        cli, reported = [], []
        for _ in range(ROUNDS):
            env = {**os.environ, "ONEMAP_DATABASE_URL": url}
            argv = [sys.executable, "-m", "api.cli", "locate", "--csv", str(src), "--out", str(dst)]
            started = time.perf_counter()
            done = subprocess.run(argv, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True)
            cli.append(time.perf_counter() - started)
            if done.returncode != 0:
                raise RuntimeError(done.stderr[-500:])
            reported.append(float(re.search(r"rows in ([\d.]+) s", done.stdout).group(1)))  # type: ignore[union-attr]
    load_after = os.getloadavg()
    rate = n / inproc
    print(f"(g) bulk locate of {n:,} points, CSV in and out; best of {ROUNDS} rounds each")
    print(f"  in-process owners (OwnerIndex.owners): {inproc:.2f} s = {rate:,.0f} points/s")
    print(
        f"  HTTP POST text/csv ({body_mb:.0f} MB in, {answer_bytes / 1e6:.0f} MB "
        f"out): {http_s:.2f} s = {n / http_s:,.0f} rows/s, ratio {inproc / http_s:.2f}x "
        "(goal >= 0.3)"
    )
    print(
        f"  server peak memory (VmHWM): {idle / 1e6:,.0f} MB after warm-up, "
        f"{peak / 1e6:,.0f} MB after the 1M-row requests"
    )
    print(
        f"  onemap locate --csv: {min(cli):.2f} s from process start = ratio "
        f"{inproc / min(cli):.2f}x; as it reports itself (index built, read, located, "
        f"written): {min(reported):.2f} s = ratio {inproc / min(reported):.2f}x (goal >= 0.3)"
    )
    print(f"  load average: {load[0]:.1f} before, {load_after[0]:.1f} after (2 cores)")
    return {
        "http_ratio": inproc / http_s,
        "cli_ratio": inproc / min(cli),
        "server_peak_mb": peak / 1e6,
    }


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
