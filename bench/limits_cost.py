"""(f) What the request limits cost: the locate bench (b, wrk on GET /api/v1/locate) and the tile
bench (d, OneMap's cold and warm tiles) against a server with every limit on (the defaults) and
one with ONEMAP_LIMITS=false, alternated in the same run on the same scaled database (ABBA
order, BENCH_ROUNDS rounds, 2 by default); medians per mode and the ratio on / off.

Goal: with every limit on, within 5% of the figures without (ratio >= 0.95 for throughput).
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import httpx

from bench.common import scaled_city, scaled_database
from bench.http_locate import _wrk, locate_lua
from bench.tiles import cold, load, onemap_path, serving, tile_list, warm

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
# metric -> (label, higher is better)
METRICS = {
    "locate_rps": ("locate req/s", True),
    "locate_p99": ("locate p99 ms", False),
    "tiles_cold_tps": ("cold tiles/s", True),
    "tiles_cold_p95": ("cold tile p95 ms", False),
    "tiles_warm_tps": ("warm tiles/s", True),
}


def measure(base: str, script: Path, paths: list[str]) -> dict[str, float]:
    """One round on a freshly started server (its tile cache empty)."""
    httpx.get(base + "/api/v1/locate", params={"lon": 119.01, "lat": 25.43}, timeout=60)
    tiles_cold = cold(base, paths)  # first, while the tile cache is empty
    tiles_warm = warm(base, paths)
    locate = _wrk(base + "/", script)
    if locate["non2xx"]:
        raise RuntimeError(f"{locate['non2xx']:.0f} locate answers were not 2xx")
    return {
        "locate_rps": locate["rps"],
        "locate_p99": locate["p99"],
        "tiles_cold_tps": float(tiles_cold["tps"]),  # type: ignore[arg-type]
        "tiles_cold_p95": float(tiles_cold["p95"]),  # type: ignore[arg-type]
        "tiles_warm_tps": tiles_warm,
    }


def main() -> dict[str, float]:
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk (make bench does)")
    city = scaled_city()
    paths = [onemap_path(*t) for t in tile_list(city)]
    runs: dict[str, list[dict[str, float]]] = {"on": [], "off": []}
    print(f"(f) limits on / off: {ROUNDS} rounds each, {len(paths)} tiles, 2 workers")
    with scaled_database(city) as engine, tempfile.TemporaryDirectory() as tmp:
        load(engine, city)
        script = Path(tmp) / "locate.lua"
        script.write_text(locate_lua(city))
        url = engine.url.render_as_string(hide_password=False)
        argv = [sys.executable, "-m", "uvicorn", "api.app:app"]
        for i in range(ROUNDS):
            for mode in ("off", "on") if i % 2 == 0 else ("on", "off"):
                env = {"ONEMAP_DATABASE_URL": url, "ONEMAP_LIMITS": str(mode == "on").lower()}
                with serving(argv, env, "/livez") as base:
                    runs[mode].append(measure(base, script, paths))
                figures = "  ".join(f"{k} {v:.1f}" for k, v in runs[mode][-1].items())
                print(f"  round {i + 1} limits {mode:3s}: {figures}")
    print(f"  {'':18s} {'off':>9s} {'on':>9s} {'on/off':>7s}")
    result = {}
    for key, (label, higher) in METRICS.items():
        off = statistics.median(r[key] for r in runs["off"])
        on = statistics.median(r[key] for r in runs["on"])
        ratio = on / off if higher else off / on  # >= 0.95: within 5%
        result[key] = ratio
        print(f"  {label:18s} {off:9.1f} {on:9.1f} {ratio:7.3f}")
    worst = min(result[k] for k, (_, higher) in METRICS.items() if higher)
    print(f"  throughput with limits on / off: worst {worst:.3f} (goal >= 0.95)")
    return result


if __name__ == "__main__":
    main()
