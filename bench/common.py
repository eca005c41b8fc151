"""Shared set-up for benchmarks: the scaled city's files and a fresh database to load."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis.demo.city import CitySpec
from gis.demo.files import write_city
from gis.store.migrate import upgrade
from gis.store.settings import PROJECT_ROOT

SCALED = {"grids": 10_000, "units": 50_000, "cases": 1_000_000}
CITY_DIR = PROJECT_ROOT / ".onemap" / "bench" / "city-{grids}-{units}-{cases}"


def scaled_city(
    grids: int = SCALED["grids"], units: int = SCALED["units"], cases: int = SCALED["cases"]
) -> Path:
    """The scaled city's files, generated once and reused."""
    out = Path(str(CITY_DIR).format(grids=grids, units=units, cases=cases))
    if not (out / "cases.csv").exists():
        started = time.perf_counter()
        write_city(CitySpec(grids=grids, units=units), out, cases)
        print(f"generated the scaled city in {time.perf_counter() - started:.0f} s: {out}")
    return out


@contextmanager
def fresh_database(name: str = "onemap_bench") -> Iterator[Engine]:
    """An empty, migrated database on the local cluster, dropped afterwards; the engine signs
    in as the owner role (the benches ANALYZE, which only a table's owner may)."""
    from gis.store.cluster import LocalCluster
    from gis.store.roles import APP
    from gis.store.settings import get_settings

    cluster = LocalCluster.from_settings(get_settings())
    cluster.create_database(name)
    upgrade(cluster.owner_url(name), APP)
    engine = sa.create_engine(cluster.owner_url(name))
    try:
        yield engine
    finally:
        engine.dispose()
        cluster.drop_database(name)


@contextmanager
def scaled_database(city: Path) -> Iterator[Engine]:
    """A fresh database holding the scaled city's boundaries (no cases)."""
    from gis.io.importer import import_file

    with fresh_database("onemap_bench_city") as engine:
        for layer in ("districts", "towns", "villages", "grids", "units"):
            import_file(engine, layer, city / f"{layer}.geojson")
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("ANALYZE"))
        yield engine


def timed(label: str, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Run fn, print and return (result, seconds)."""
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    seconds = time.perf_counter() - started
    print(f"  {label}: {seconds:.2f} s")
    return result, seconds
