"""(d) Vector tiles on the scaled city, against tipg serving the same tables in the same run.

The scaled city (10,000 grids, 50,000 units, 1,000,000 cases, plus stations, hotspots and
parcels) is loaded into a fresh database. A fixed list of z10-z16 tiles per layer (centred
on sampled cases, so denser where the city is) is requested from OneMap and from tipg
(installed by this script in its own virtualenv under .onemap/bench, from PyPI), each
with two uvicorn workers:

- cold: each tile once, 4 clients at a time, on a freshly started server (OneMap's tile
  cache empty); p50/p95 and tiles/s;
- warm: the same list again and again for 10 s with wrk (8 connections); tiles/s.

Goals: warm tiles/s >= 2x tipg's, cold >= 1x, cold p95 <= 50 ms, no tile over 500 KB.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bench.common import scaled_city, scaled_database
from gis.io.importer import import_file
from gis.registry.layers import LAYERS as CATALOGUE
from gis.store.settings import PROJECT_ROOT
from layers.tiles import TMS

ZOOMS = range(10, 17)
PER_ZOOM = 6
TIPG_VERSION = "1.6.1"
TIPG_VENV = PROJECT_ROOT / ".onemap" / "bench" / f"tipg-{TIPG_VERSION}"
WARM_SECONDS = 10
MAX_TILE_BYTES = 500_000
# tipg serves table columns: ask it for the same public columns OneMap puts in its tiles.
TIPG_PROPS = {
    "districts": ("regions", "code,name,parent_code"),
    "towns": ("regions", "code,name,parent_code"),
    "villages": ("regions", "code,name,parent_code"),
    "grids": ("grids", "code,name,village_code"),
    "units": ("units", "code,name,grid_code,households,party_contacts"),
    "cases": ("cases", "id,category,status,reported_at,on_boundary,snap_distance_m"),
    "hotspots": ("hotspots", "id,name,kind,risk_level,last_inspected,on_boundary"),
    "parcels": ("parcels", "code,name,kind,status"),
    "stations": ("stations", "id,name,kind,hours,on_boundary"),
}


def tile_list(city: Path) -> list[tuple[str, int, int, int]]:
    points = pd.read_csv(city / "cases.csv", usecols=["lon", "lat"], nrows=200_000)
    rng = np.random.default_rng(20240917)
    picks = points.iloc[rng.choice(len(points), 200, replace=False)].to_numpy()
    tiles: list[tuple[str, int, int, int]] = []
    for layer in CATALOGUE:
        for z in ZOOMS:
            seen: set[tuple[int, int]] = set()
            for lon, lat in picks:
                tile = TMS.tile(lon, lat, z)
                x, y = tile.x, tile.y
                if (x, y) not in seen:
                    seen.add((x, y))
                    tiles.append((layer, z, x, y))
                if len(seen) == PER_ZOOM:
                    break
    return tiles


def onemap_path(layer: str, z: int, x: int, y: int) -> str:
    return f"/tiles/{layer}/{z}/{x}/{y}.mvt"


def tipg_path(layer: str, z: int, x: int, y: int) -> str:
    table, props = TIPG_PROPS[layer]
    where = {"districts": "district", "towns": "town", "villages": "village"}.get(layer)
    query = f"properties={props}" + (f"&level={where}" if where else "")
    return f"/collections/public.{table}/tiles/WebMercatorQuad/{z}/{x}/{y}?{query}"


def ensure_tipg() -> Path:
    python = TIPG_VENV / "bin" / "python"
    if not (TIPG_VENV / ".installed").exists():
        print(f"  installing tipg {TIPG_VERSION} into {TIPG_VENV} ...")
        subprocess.run([sys.executable, "-m", "venv", str(TIPG_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", f"tipg=={TIPG_VERSION}", "uvicorn"],
            check=True,
        )
        (TIPG_VENV / ".installed").touch()
    return python


@contextmanager
def serving(argv: list[str], env: dict[str, str], probe: str, workers: int = 2) -> Iterator[str]:
    """uvicorn serving `argv` on a free local port with `workers` workers, once `probe` answers."""
    port = 19000 + os.getpid() % 500 + int(time.time()) % 300
    proc = subprocess.Popen(
        [
            *argv,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(base + probe, timeout=2).status_code < 500:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        else:
            raise RuntimeError(f"server {argv} did not start")
        yield base
    finally:
        proc.terminate()
        proc.wait(15)


def cold(base: str, paths: list[str]) -> dict[str, object]:
    def get(path: str) -> tuple[float, int, int]:
        started = time.perf_counter()
        r = client.get(base + path)
        return time.perf_counter() - started, r.status_code, len(r.content)

    with httpx.Client(timeout=60, limits=httpx.Limits(max_connections=8)) as client:
        started = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(get, paths))
        seconds = time.perf_counter() - started
    lat = np.array([r[0] for r in results]) * 1000
    bad = [p for p, r in zip(paths, results, strict=True) if r[1] not in (200, 204)]
    if bad:
        raise RuntimeError(f"{len(bad)} tiles failed, e.g. {bad[0]}")
    return {
        "tps": len(paths) / seconds,
        "p50": float(np.percentile(lat, 50)),
        "p95": float(np.percentile(lat, 95)),
        "sizes": [r[2] for r in results],
        "ms": lat.tolist(),
    }


def warm(base: str, paths: list[str]) -> float:
    lua = "paths = {" + ",".join(f'"{p}"' for p in paths) + "}\n"
    lua += (
        "counter = 0\nrequest = function()\n  counter = counter + 1\n"
        "  return wrk.format('GET', paths[(counter % #paths) + 1])\nend\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(lua)
    out = subprocess.run(
        ["wrk", "-t2", "-c8", f"-d{WARM_SECONDS}s", "-s", f.name, base + "/"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    Path(f.name).unlink()
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"wrk saw {errors.group(1)} failed tiles:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]


def load(engine: Engine, city: Path) -> None:
    started = time.perf_counter()
    import_file(engine, "cases", city / "cases.csv")
    for layer in ("stations", "hotspots", "parcels"):
        import_file(engine, layer, city / f"{layer}.geojson")
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("VACUUM ANALYZE"))
    print(f"  loaded cases, stations, hotspots, parcels in {time.perf_counter() - started:.0f} s")


def main() -> dict[str, float]:
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk (make bench does)")
    city = scaled_city()
    tiles = tile_list(city)
    tipg_python = ensure_tipg()
    print(f"(d) tiles: {len(tiles)} tiles (z10-z16, {len(CATALOGUE)} layers), 2 workers each")
    with scaled_database(city) as engine:
        load(engine, city)
        url = engine.url.render_as_string(hide_password=False)
        ours_argv = [sys.executable, "-m", "uvicorn", "api.app:app"]
        ours_env = {"ONEMAP_DATABASE_URL": url}
        tipg_argv = [str(tipg_python), "-m", "uvicorn", "tipg.main:app"]
        tipg_env = {
            "DATABASE_URL": url.replace("+psycopg", ""),
            "TIPG_DB_TABLES": '["public.regions","public.grids","public.units","public.cases",'
            '"public.hotspots","public.parcels","public.stations"]',
            "TIPG_DB_SPATIAL_EXTENT": "false",
            "TIPG_DB_DATETIME_EXTENT": "false",
        }
        ours_paths = [onemap_path(*t) for t in tiles]
        tipg_paths = [tipg_path(*t) for t in tiles]
        with serving(ours_argv, ours_env, "/livez") as base:
            ours_cold = cold(base, ours_paths)
            ours_warm = warm(base, ours_paths)
        with serving(tipg_argv, tipg_env, "/collections") as base:
            tipg_cold = cold(base, tipg_paths)
            tipg_warm = warm(base, tipg_paths)

    sizes = pd.DataFrame(
        {
            "layer": [t[0] for t in tiles],
            "z": [t[1] for t in tiles],
            "ours": ours_cold["sizes"],
            "tipg": tipg_cold["sizes"],
        }
    )
    sizes["ours_ms"], sizes["tipg_ms"] = ours_cold["ms"], tipg_cold["ms"]
    print("  per layer: largest tile and cold p95 (OneMap / tipg)")
    for layer, group in sizes.groupby("layer", sort=False):
        print(
            f"    {layer:9s} {group['ours'].max() / 1000:7.1f} / "
            f"{group['tipg'].max() / 1000:7.1f} KB   {group['ours_ms'].quantile(0.95):6.1f} / "
            f"{group['tipg_ms'].quantile(0.95):6.1f} ms"
        )
    print(f"  {'':8s} {'cold tiles/s':>13s} {'p50 ms':>8s} {'p95 ms':>8s} {'warm tiles/s':>13s}")
    for name, c, w in (("OneMap", ours_cold, ours_warm), ("tipg", tipg_cold, tipg_warm)):
        print(f"  {name:8s} {c['tps']:13.1f} {c['p50']:8.1f} {c['p95']:8.1f} {w:13.1f}")
    biggest = int(sizes["ours"].max())
    result = {
        "tiles_warm_ratio": ours_warm / tipg_warm,
        "tiles_cold_ratio": float(ours_cold["tps"]) / float(tipg_cold["tps"]),  # type: ignore[arg-type]
        "tiles_cold_p95_ms": float(ours_cold["p95"]),  # type: ignore[arg-type]
        "tiles_max_kb": biggest / 1000,
    }
    print(
        f"  warm ratio {result['tiles_warm_ratio']:.1f}x (goal >= 2), cold ratio "
        f"{result['tiles_cold_ratio']:.1f}x (goal >= 1), cold p95 {result['tiles_cold_p95_ms']:.0f} ms "
        f"(goal <= 50), largest tile {biggest / 1000:.0f} KB (goal <= {MAX_TILE_BYTES // 1000})"
    )
    return result


if __name__ == "__main__":
    main()
