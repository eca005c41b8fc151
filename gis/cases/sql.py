"""SQL fragments over cases (alias c, categories cc, grids g, units u): deadlines, overdue and
the row every case view reads. Module constants only, never request values."""

from __future__ import annotations

from gis.cases.lifecycle import OPEN

OPEN_SQL = ", ".join(f"'{s}'" for s in OPEN)  # module constants, not request values

# A case's deadlines: set at intake; imported rows fall back to their category's hours.
RESPOND_BY = "coalesce(c.respond_by, c.reported_at + cc.respond_hours * interval '1 hour')"
CLOSE_BY = "coalesce(c.close_by, c.reported_at + cc.close_hours * interval '1 hour')"
# Open and past the deadline to close, or not yet handled and past the deadline to respond.
OVERDUE = f"""(c.status IN ({OPEN_SQL}) AND (now() > {CLOSE_BY}
    OR (c.responded_at IS NULL AND c.status IN ('reported', 'registered', 'dispatched')
        AND now() > {RESPOND_BY})))"""

SELECT = f"""
SELECT c.id, c.category, cc.label AS category_label, cc.major, cc.major_label, c.title,
       c.description, c.status, c.version, c.source, c.address, c.reported_at, c.updated_at,
       c.reporter_name, c.reporter_phone, ST_X(c.geom) AS lon, ST_Y(c.geom) AS lat,
       g.code AS grid_code, g.name AS grid_name, g.leader_name AS grid_leader_name,
       g.leader_phone AS grid_leader_phone, u.code AS unit_code, u.name AS unit_name,
       c.on_boundary, c.snap_distance_m, c.responded_at, c.closed_at,
       {RESPOND_BY} AS respond_by, {CLOSE_BY} AS close_by, {OVERDUE} AS overdue,
       c.closed_at <= {CLOSE_BY} AS closed_on_time
  FROM cases c
  JOIN case_categories cc ON cc.code = c.category
  LEFT JOIN grids g ON g.id = c.grid_id
  LEFT JOIN units u ON u.id = c.unit_id
"""
