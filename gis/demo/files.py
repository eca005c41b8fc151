"""Write the demo city to files, and load it into a database through the ordinary import."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pyogrio
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis.demo import history
from gis.demo.areas import LEVELS
from gis.demo.city import CitySpec, generate_boundaries
from gis.demo.gazetteer import make_gazetteer
from gis.demo.things import make_things
from gis.io.importer import ImportSummary, import_source
from gis.io.read import Source, read_source
from gis.registry.layers import get_layer
from gis.stats import coverage
from gis.stats.hotspots import publish_defaults


def write_geojson(frame: gpd.GeoDataFrame, path: Path) -> None:
    """GeoJSON in EPSG:4326; coordinates lie on the 1e-7 degree grid the city is built on."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    # No COORDINATE_PRECISION: GDAL 3.12 then rounds 119.0999991 to 119.1; the default
    # 15 significant digits write the 1e-7 grid exactly.
    pyogrio.write_dataframe(frame, path, driver="GeoJSON", RFC7946="NO", WRITE_NAME="NO")


def write_city(
    spec: CitySpec,
    out: Path,
    cases: int,
    hotspots: int = 200,
    parcels: int = 100,
    stations: int = 300,
    now: datetime | None = None,
) -> dict[str, int]:
    """Generate a city and write all its layers to `out`; returns the row count of each."""
    boundaries = generate_boundaries(spec)
    counts = {}
    for layer in LEVELS:
        write_geojson(boundaries[layer], out / f"{layer}.geojson")
        counts[layer] = len(boundaries[layer])
    things = make_things(
        boundaries, spec.seed, now or datetime.now(UTC), cases, hotspots, parcels, stations
    )
    for layer, frame in things.items():
        if layer == "cases":
            xy = frame.geometry.get_coordinates()
            table = frame.drop(columns="geometry").assign(lon=xy.x.round(7), lat=xy.y.round(7))
            table.to_csv(out / "cases.csv", index=False)
        else:
            write_geojson(frame, out / f"{layer}.geojson")
        counts[layer] = len(frame)
    gazetteer = make_gazetteer(boundaries, things["stations"], spec.seed)
    write_geojson(gazetteer, out / "gazetteer.geojson")
    counts["gazetteer"] = len(gazetteer)
    return counts


def empty_layers(engine: Engine) -> None:
    """Delete every row of every layer (the schema stays)."""
    with engine.begin() as conn:
        # case_history is append-only; a whole-demo reset is the one deliberate exception.
        conn.execute(sa.text("SET LOCAL onemap.reset = 'on'"))
        conn.execute(
            sa.text(
                "TRUNCATE regions, grids, units, cases, case_history, hotspots, parcels, "
                "stations, gazetteer RESTART IDENTITY CASCADE"
            )
        )


def load_demo(
    engine: Engine,
    boundaries_dir: Path,
    seed: int,
    cases: int = 5000,
    hotspots: int = 200,
    parcels: int = 100,
    stations: int = 300,
    now: datetime | None = None,
) -> list[ImportSummary]:
    """Load the committed boundaries and freshly drawn thematic layers, the cases with their
    histories (gis/demo/history.py), in one transaction.

    Does nothing (returns []) when the database already holds districts.
    """
    with engine.connect() as conn:
        if conn.execute(sa.text("SELECT count(*) FROM regions")).scalar_one():
            return []
    summaries = []
    frames: dict[str, gpd.GeoDataFrame] = {}
    at = now or datetime.now(UTC)
    with engine.begin() as conn:
        for layer in LEVELS:
            path = boundaries_dir / f"{layer}.geojson"
            source = read_source(path)
            frames[layer] = source.frame
            summaries.append(import_source(conn, get_layer(layer), source, path.name))
        things = make_things(frames, seed, at, cases, hotspots, parcels, stations)
        for layer, frame in things.items():
            summaries.append(
                import_source(
                    conn, get_layer(layer), Source(frame, 4326), f"demo {layer} (seed {seed})"
                )
            )
        history.write(conn, seed, at)
        gazetteer = make_gazetteer(frames, things["stations"], seed)  # issue 14: geocoding
        summaries.append(
            import_source(
                conn,
                get_layer("gazetteer"),
                Source(gazetteer, 4326),
                f"demo gazetteer (seed {seed})",
            )
        )
    with engine.begin() as conn:  # the analysts' computed layers (issue 13), so the map has them
        publish_defaults(conn)
        coverage.refresh(conn)
    return summaries
