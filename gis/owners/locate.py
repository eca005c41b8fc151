"""Locate one point in PostGIS: the covering current grid and unit, or the nearest within a
tolerance, with the region chain above it. The rules are in owners.py and DESIGN.md."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gis.owners.model import DEFAULT_TOLERANCE_M, Leader, Location, Named, Status


def unit_owning(grid: str, p: str, columns: str, joins: str = "") -> str:
    """SQL of the `columns` (of units u) of grid `grid`'s unit that owns point `p`: the unit
    covering it (the lowest code on an edge), else the nearest on the ellipsoid (the lowest code
    on a tie; gis/owners/index.py measures in the local Gauss-Krüger zone: within 0.1 %). The
    nearest is measured only when no unit covers the point (UNION ALL under LIMIT 1)."""
    # constants of this package only (column lists and aliases), never a request's values
    base = f"SELECT {columns} FROM units u{joins} WHERE u.grid_id = {grid} AND u.valid_to IS NULL"  # noqa: S608
    return (
        f"({base} AND ST_Covers(u.geom, {p}) ORDER BY u.code LIMIT 1) UNION ALL "
        f"({base} ORDER BY ST_Distance(u.geom::geography, {p}::geography), u.code LIMIT 1) "
        "LIMIT 1"
    )


# One round trip. Covering grids first (lowest code wins, several = on a shared edge); when
# none covers, the nearest of the 8 grids closest by index, measured on the ellipsoid; then
# the grid's unit that owns the point (unit_owning).
LOCATE_SQL = sa.text(f"""
WITH p AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g),
covering AS (
    SELECT g.id, count(*) OVER () AS n, 0.0::float8 AS d
    FROM grids g, p WHERE g.valid_to IS NULL AND ST_Covers(g.geom, p.g)
    ORDER BY g.code LIMIT 1
),
nearest AS (
    SELECT c.id, 1 AS n, ST_Distance(c.geom::geography, p.g::geography) AS d
    FROM (SELECT g.id, g.geom FROM grids g, p WHERE g.valid_to IS NULL
          ORDER BY g.geom <-> p.g LIMIT 8) c, p
    WHERE NOT EXISTS (SELECT 1 FROM covering)
    ORDER BY d LIMIT 1
),
chosen AS (SELECT * FROM covering UNION ALL SELECT * FROM nearest)
SELECT ch.n, ch.d,
       g.id AS grid_id, g.code AS grid_code, g.name AS grid_name,
       g.leader_name AS grid_leader, g.leader_phone AS grid_phone,
       v.code AS village_code, v.name AS village_name,
       t.code AS town_code, t.name AS town_name,
       di.code AS district_code, di.name AS district_name,
       u.id AS unit_id, u.code AS unit_code, u.name AS unit_name,
       u.leader_name AS unit_leader, u.leader_phone AS unit_phone
FROM chosen ch
JOIN grids g ON g.id = ch.id
LEFT JOIN regions v ON v.code = g.village_code
LEFT JOIN regions t ON t.code = v.parent_code
LEFT JOIN regions di ON di.code = t.parent_code
LEFT JOIN LATERAL (
    {unit_owning("g.id", "p.g", "u.id, u.code, u.name, u.leader_name, u.leader_phone", ", p")}
) u ON true
""")  # noqa: S608 (constants of this package, no request values)


def locate_point(
    conn: Connection, lon: float, lat: float, tolerance_m: float = DEFAULT_TOLERANCE_M
) -> Location:
    """The owners of (lon, lat) in EPSG:4326, by the ownership rules."""
    row = conn.execute(LOCATE_SQL, {"lon": lon, "lat": lat}).mappings().first()
    if row is None:  # no current grid at all
        return Location(lon, lat, "outside")
    distance = float(row["d"])
    status: Status
    if distance == 0.0:
        status = "inside"
    elif distance <= tolerance_m:
        status = "snapped"
    else:
        status = "outside"
    loc = Location(
        lon,
        lat,
        status,
        on_boundary=int(row["n"]) > 1,
        distance_m=None if status == "inside" else distance,
    )
    grid = Named(row["grid_code"], row["grid_name"])
    if status == "outside":
        loc.nearest = grid
        return loc
    loc.grid_id, loc.grid = row["grid_id"], grid
    loc.grid_leader = Leader(row["grid_leader"], row["grid_phone"])
    if row["unit_id"] is not None:
        loc.unit_id, loc.unit = row["unit_id"], Named(row["unit_code"], row["unit_name"])
        loc.unit_leader = Leader(row["unit_leader"], row["unit_phone"])
    for level in ("village", "town", "district"):
        if row[f"{level}_code"] is not None:
            setattr(loc, level, Named(row[f"{level}_code"], row[f"{level}_name"]))
    return loc
