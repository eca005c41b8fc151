"""Owner assignment in SQL: which current grid and unit own a point or a polygon.

A point belongs to the current grids that cover it (ST_Covers: a point on an edge belongs);
where several do, the lowest code wins and the row is flagged on_boundary. A polygon belongs
to the grid holding the largest share of its area.
"""

from __future__ import annotations

# Joined LATERAL to a relation aliased `s` with a `geom` column; yields grid_id, unit_id,
# on_boundary. Written once here and used by imports and by re-joins.
POINT_OWNER_SQL = """
LEFT JOIN LATERAL (
    SELECT g.id AS grid_id, count(*) OVER () > 1 AS on_boundary
    FROM grids g
    WHERE g.valid_to IS NULL AND ST_Covers(g.geom, s.geom)
    ORDER BY g.code
    LIMIT 1
) og ON true
LEFT JOIN LATERAL (
    SELECT u.id AS unit_id
    FROM units u
    WHERE u.grid_id = og.grid_id AND u.valid_to IS NULL AND ST_Covers(u.geom, s.geom)
    ORDER BY u.code
    LIMIT 1
) ou ON true
"""

# For polygons (hotspot areas use their point on surface for the unit).
AREA_OWNER_SQL = """
LEFT JOIN LATERAL (
    SELECT g.id AS grid_id, false AS on_boundary
    FROM grids g
    WHERE g.valid_to IS NULL AND ST_Intersects(g.geom, s.geom)
    ORDER BY ST_Area(ST_Intersection(g.geom, s.geom)::geography) DESC, g.code
    LIMIT 1
) og ON true
LEFT JOIN LATERAL (
    SELECT u.id AS unit_id
    FROM units u
    WHERE u.grid_id = og.grid_id AND u.valid_to IS NULL
      AND ST_Covers(u.geom, ST_PointOnSurface(s.geom))
    ORDER BY u.code
    LIMIT 1
) ou ON true
"""


def owner_join(geometry_types: tuple[str, ...]) -> str:
    """The LATERAL join that finds owners for a layer of these geometry types."""
    return POINT_OWNER_SQL if geometry_types == ("Point",) else AREA_OWNER_SQL
