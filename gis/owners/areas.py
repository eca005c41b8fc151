"""Owner assignment in SQL, for the rows the in-process index does not handle.

Points are assigned in process (gis/owners/index.py) before they are copied in. Polygons —
parcels and hotspot areas — belong to the grid holding the largest share of their area; a
parcel's every share (m² on the ellipsoid, and %) is kept in parcel_shares.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gis.owners.locate import unit_owning

# Joined LATERAL to a relation aliased `s` with a `geom` column: grid_id, unit_id, on_boundary.
AREA_OWNER_SQL = f"""
LEFT JOIN LATERAL (
    SELECT g.id AS grid_id, false AS on_boundary
    FROM grids g
    WHERE g.valid_to IS NULL AND ST_Intersects(g.geom, s.geom)
    ORDER BY ST_Area(ST_Intersection(g.geom, s.geom)::geography) DESC, g.code
    LIMIT 1
) og ON true
LEFT JOIN LATERAL (
    {unit_owning("og.grid_id", "ST_PointOnSurface(s.geom)", "u.id AS unit_id")}
) ou ON true
"""  # noqa: S608 (constants of this package, no request values)

SHARES_SQL = sa.text("""
WITH target AS (
    SELECT id, geom, ST_Area(geom::geography) AS total FROM parcels
    WHERE (CAST(:ids AS integer[]) IS NULL OR id = ANY(CAST(:ids AS integer[])))
),
shares AS (
    SELECT t.id AS parcel_id, g.id AS grid_id, g.code,
           ST_Area(ST_Intersection(g.geom, t.geom)::geography) AS area_m2, t.total
    FROM target t JOIN grids g ON g.valid_to IS NULL AND ST_Intersects(g.geom, t.geom)
),
kept AS (
    INSERT INTO parcel_shares (parcel_id, grid_id, area_m2, share_pct)
    SELECT parcel_id, grid_id, area_m2, least(100.0, 100.0 * area_m2 / nullif(total, 0))
    FROM shares WHERE area_m2 > 0
    RETURNING parcel_id
)
UPDATE parcels p SET grid_id = best.grid_id
FROM target t
LEFT JOIN LATERAL (
    SELECT s.grid_id FROM shares s WHERE s.parcel_id = t.id AND s.area_m2 > 0
    ORDER BY s.area_m2 DESC, s.code LIMIT 1
) best ON true
WHERE p.id = t.id
""")


CLEAR_SQL = sa.text(
    "DELETE FROM parcel_shares "
    "WHERE CAST(:ids AS integer[]) IS NULL OR parcel_id = ANY(CAST(:ids AS integer[]))"
)


def refresh_parcel_shares(conn: Connection, parcel_ids: list[int] | None = None) -> None:
    """Recompute the shares and the owning grid of the given parcels (all when None)."""
    conn.execute(CLEAR_SQL, {"ids": parcel_ids})
    conn.execute(SHARES_SQL, {"ids": parcel_ids})
