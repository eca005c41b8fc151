"""Write validated rows in one transaction: COPY into a staging table, then one INSERT."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gis.layerspec import LayerSpec
from gis.ownership import owner_join

CHUNK = 50_000
PG_TYPES = {
    "text": "text",
    "vocab": "text",
    "int": "integer",
    "date": "date",
    "datetime": "timestamptz",
}


def _insert_sql(spec: LayerSpec) -> str:
    """The INSERT … SELECT from the staging table; identifiers come from the LayerSpec only."""
    fields = [f.name for f in spec.fields]
    if spec.level in ("district", "town", "village"):
        return (
            "INSERT INTO regions (code, level, name, parent_code, geom) "  # noqa: S608
            f"SELECT code, '{spec.level}', name, parent_code, geom FROM _staging "
            "ORDER BY row_no"
        )
    if spec.name == "grids":
        return (
            "INSERT INTO grids (code, village_code, name, leader_name, leader_phone, geom) "
            "SELECT code, parent_code, name, leader_name, leader_phone, geom "
            "FROM _staging ORDER BY row_no"
        )
    if spec.name == "units":
        return (
            "INSERT INTO units (code, grid_id, grid_code, name, leader_name, leader_phone, "
            "households, party_contacts, geom) "
            "SELECT s.code, g.id, g.code, s.name, s.leader_name, s.leader_phone, "
            "s.households, s.party_contacts, s.geom FROM _staging s "
            "JOIN grids g ON g.code = s.parent_code AND g.valid_to IS NULL ORDER BY s.row_no"
        )
    cols = ", ".join(fields)
    scols = ", ".join(f"s.{c}" for c in fields)
    if spec.name == "parcels":
        return (
            f"INSERT INTO parcels ({cols}, geom, grid_id) SELECT {scols}, s.geom, og.grid_id "  # noqa: S608
            f"FROM _staging s {owner_join(spec.geometry)} ORDER BY s.row_no"
        )
    return (
        f"INSERT INTO {spec.table} ({cols}, geom, grid_id, unit_id, on_boundary) "  # noqa: S608
        f"SELECT {scols}, s.geom, og.grid_id, ou.unit_id, coalesce(og.on_boundary, false) "
        f"FROM _staging s {owner_join(spec.geometry)} ORDER BY s.row_no"
    )


def write_rows(
    conn: Connection,
    spec: LayerSpec,
    frame: pd.DataFrame,
    progress: Callable[[int], object] | None = None,
) -> int:
    """Insert `frame` (validated) into the layer's table; returns the number of rows."""
    columns = ", ".join(f"{f.name} {PG_TYPES[f.kind]}" for f in spec.fields)
    conn.execute(
        sa.text(
            f"CREATE TEMP TABLE _staging (row_no integer, {columns}, geom geometry) ON COMMIT DROP"
        )
    )
    raw = conn.connection.driver_connection
    assert raw is not None
    names = [f.name for f in spec.fields]
    with raw.cursor() as cur:
        with cur.copy(
            f"COPY _staging (row_no, {', '.join(names)}, geom) FROM STDIN (FORMAT csv)"
        ) as copy:
            for start in range(0, len(frame), CHUNK):
                part = frame.iloc[start : start + CHUNK]
                out = part[names].copy()
                out.insert(0, "row_no", np.arange(start, start + len(part)))
                out["geom"] = shapely.to_wkb(
                    shapely.set_srid(np.asarray(part["geom"].to_numpy(), dtype=object), 4326),
                    hex=True,
                    include_srid=True,
                )
                buf = io.StringIO()
                out.to_csv(buf, header=False, index=False)
                copy.write(buf.getvalue())
                if progress:
                    progress(len(part))
    conn.execute(sa.text(_insert_sql(spec)))
    conn.execute(sa.text("DROP TABLE _staging"))
    return len(frame)
