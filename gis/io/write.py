"""Write validated rows in one transaction: COPY into a staging table, then one INSERT."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gis.owners.areas import AREA_OWNER_SQL, refresh_parcel_shares
from gis.owners.cache import owner_index
from gis.registry.model import Layer

CHUNK = 50_000
PG_TYPES = {
    "text": "text",
    "vocab": "text",
    "int": "integer",
    "date": "date",
    "datetime": "timestamptz",
}


def _insert_sql(spec: Layer) -> str:
    """The INSERT … SELECT from the staging table; identifiers come from the registry only."""
    fields = [f.name for f in spec.import_fields]
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
            f"INSERT INTO parcels ({cols}, geom) SELECT {scols}, s.geom "  # noqa: S608
            "FROM _staging s ORDER BY s.row_no RETURNING id"
        )
    return (
        f"INSERT INTO {spec.table} ({cols}, geom, grid_id, unit_id, on_boundary) "  # noqa: S608
        f"SELECT {scols}, s.geom, og.grid_id, ou.unit_id, coalesce(og.on_boundary, false) "
        f"FROM _staging s {AREA_OWNER_SQL} ORDER BY s.row_no"
    )


def _owned_in_process(spec: Layer) -> bool:
    """Point layers get their owners from the in-process index before they are copied in."""
    return spec.owned and spec.geometry == ("Point",)


OWNER_COLUMNS = {
    "grid_id": "integer",
    "unit_id": "integer",
    "on_boundary": "boolean",
    "snap_distance_m": "double precision",
}


def _with_owners(conn: Connection, frame: pd.DataFrame) -> pd.DataFrame:
    """The frame plus grid_id, unit_id, on_boundary and snap_distance_m for each point."""
    index = owner_index(conn)
    geoms = np.asarray(frame["geom"].to_numpy(), dtype=object)
    o = index.owners(shapely.get_x(geoms), shapely.get_y(geoms), points=geoms)
    owned = o.grid >= 0
    out = frame.copy()
    out["grid_id"] = pd.array(np.where(owned, index.grid_ids[o.grid], 0), dtype="Int64")
    out.loc[~owned, "grid_id"] = pd.NA
    has_unit = o.unit >= 0
    out["unit_id"] = pd.array(np.where(has_unit, index.unit_ids[o.unit], 0), dtype="Int64")
    out.loc[~has_unit, "unit_id"] = pd.NA
    out["on_boundary"] = o.on_boundary
    out["snap_distance_m"] = np.where(o.status == "snapped", np.round(o.distance_m, 3), np.nan)
    return out


def _copy(
    conn: Connection,
    target: str,
    names: list[str],
    frame: pd.DataFrame,
    row_numbers: bool,
    progress: Callable[[int], object] | None,
) -> None:
    """COPY the frame's `names` columns and its geometry (as EWKB) into `target`."""
    raw = conn.connection.driver_connection
    assert raw is not None
    columns = (["row_no"] if row_numbers else []) + names + ["geom"]
    with (
        raw.cursor() as cur,
        cur.copy(f"COPY {target} ({', '.join(columns)}) FROM STDIN (FORMAT csv)") as copy,
    ):
        for start in range(0, len(frame), CHUNK):
            part = frame.iloc[start : start + CHUNK]
            out = part[names].copy()
            if row_numbers:
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


def write_rows(
    conn: Connection,
    spec: Layer,
    frame: pd.DataFrame,
    progress: Callable[[int], object] | None = None,
) -> int:
    """Insert `frame` (validated) into the layer's table; returns the number of rows.

    Points, whose owners are found in process, are copied straight into their table; the
    other layers go through a staging table and one INSERT … SELECT that finds parents and
    owners in SQL.
    """
    if spec.table == "gazetteer":  # names normalised and keyed for geocoding (gis/geocode)
        from gis.geocode.store import write_gazetteer

        return write_gazetteer(conn, frame, progress)
    types = {f.name: PG_TYPES[f.kind or "text"] for f in spec.import_fields}
    if _owned_in_process(spec):
        frame = _with_owners(conn, frame)
        _copy(conn, spec.table, [*types, *OWNER_COLUMNS], frame, False, progress)
        return len(frame)
    columns = ", ".join(f"{name} {kind}" for name, kind in types.items())
    conn.execute(
        sa.text(
            f"CREATE TEMP TABLE _staging (row_no integer, {columns}, geom geometry) ON COMMIT DROP"
        )
    )
    _copy(conn, "_staging", list(types), frame, True, progress)
    result = conn.execute(sa.text(_insert_sql(spec)))
    if spec.name == "parcels":
        refresh_parcel_shares(conn, [int(r[0]) for r in result])
    conn.execute(sa.text("DROP TABLE _staging"))
    return len(frame)
