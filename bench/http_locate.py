"""(b) HTTP single locate under load: p50/p99 at 32 concurrent clients, req/s vs a trivial
endpoint (/livez) on the same server, measured with wrk in the same run."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import pandas as pd

from bench.common import scaled_city, scaled_database
from bench.tiles import serving

CONNECTIONS, THREADS, SECONDS = 32, 2, 15


def _wrk(
    url: str, script: Path | None, connections: int = CONNECTIONS, seconds: int = SECONDS
) -> dict[str, float]:
    threads = min(THREADS, connections)
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        argv += ["-s", str(script)]
    out = subprocess.run([*argv, url], capture_output=True, text=True, check=True).stdout
    unit = {"us": 1e-3, "ms": 1.0, "s": 1e3}

    def pct(p: str) -> float:
        m = re.search(rf"^\s*{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(m.group(1)) * unit[m.group(2)] if m else float("nan")

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "p50": pct("50"),
        "p99": pct("99"),
        "non2xx": float(non2xx.group(1)) if non2xx else 0.0,
    }


def locate_lua(city: Path) -> str:
    """A wrk script asking for 2,000 of the scaled city's case points in turn."""
    points = pd.read_csv(city / "cases.csv", usecols=["lon", "lat"], nrows=2000)
    lua = (
        "paths = {"
        + ",".join(f'"/api/v1/locate?lon={x}&lat={y}"' for x, y in points.itertuples(index=False))
        + "}\n"
    )
    return lua + (
        "counter = 0\nrequest = function()\n  counter = counter + 1\n"
        "  return wrk.format('GET', paths[(counter % #paths) + 1])\nend\n"
    )


def main(workers: int = 2) -> dict[str, float]:
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk (make bench does)")
    city = scaled_city()
    lua = locate_lua(city)
    with scaled_database(city) as engine, tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "locate.lua"
        script.write_text(lua)
        url = engine.url.render_as_string(hide_password=False)
        argv = [sys.executable, "-m", "uvicorn", "api.app:app"]
        with serving(argv, {"ONEMAP_DATABASE_URL": url}, "/livez", workers) as base:
            httpx.get(base + "/api/v1/locate", params={"lon": 119.01, "lat": 25.43})
            trivial = _wrk(base + "/livez", None)
            locate = _wrk(base + "/", script)
    ratio = locate["rps"] / trivial["rps"]
    print(f"(b) HTTP, {workers} uvicorn workers, {CONNECTIONS} connections, {SECONDS} s each (wrk)")
    print(
        f"  /livez (trivial FastAPI route):{trivial['rps']:8.0f} req/s  p50 {trivial['p50']:.2f} ms  "
        f"p99 {trivial['p99']:.2f} ms"
    )
    print(
        f"  /api/v1/locate:     {locate['rps']:8.0f} req/s  p50 {locate['p50']:.2f} ms  "
        f"p99 {locate['p99']:.2f} ms  (non-2xx: {locate['non2xx']:.0f})"
    )
    print(f"  ratio locate / trivial = {ratio:.2f} (goal >= 0.7); p99 goal <= 5 ms")
    return {"http_ratio": ratio, "p50_ms": locate["p50"], "p99_ms": locate["p99"]}


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
