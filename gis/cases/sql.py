"""SQL fragments over cases (alias t, categories cc, grids g, units u;
the case row also villages rv and towns rt): deadlines, overdue and
the row every case view reads. Module constants only, never request values."""

from __future__ import annotations

from gis.access.policy import field_sql
from gis.cases.lifecycle import OPEN
from gis.registry.layers import get_layer
from gis.registry.model import FREE_TEXT, Field

OPEN_SQL = ", ".join(f"'{s}'" for s in OPEN)  # module constants, not request values

# A case's deadlines: set at intake; imported rows fall back to their category's hours.
RESPOND_BY = "coalesce(t.respond_by, t.reported_at + cc.respond_hours * interval '1 hour')"
CLOSE_BY = "coalesce(t.close_by, t.reported_at + cc.close_hours * interval '1 hour')"
# Open and past the deadline to close, or not yet handled and past the deadline to respond.
OVERDUE = f"""(t.status IN ({OPEN_SQL}) AND (now() > {CLOSE_BY}
    OR (t.responded_at IS NULL AND t.status IN ('reported', 'registered', 'dispatched')
        AND now() > {RESPOND_BY})))"""

# The area code of each level a case's grid lies in: towns and districts follow from the
# village code (12-digit statistical codes: county 6, town 9 digits, then zeros).
AREA_CODE = {
    "grid": "g.code",
    "village": "g.village_code",
    "town": "left(g.village_code, 9) || '000'",
    "district": "left(g.village_code, 6) || '000000'",
}

CASES = get_layer("cases")
# Free text of a case besides the layer's fields (title, description): what the access policy
# masks numbers in for those who see the reporter masked.
TITLE = CASES.field("title")
ADDRESS = Field("address", visibility=FREE_TEXT)
NOTE = Field("note", "h.note", visibility=FREE_TEXT)  # a history row's note (alias h)
FROM = f"""
  FROM {CASES.source}
  JOIN case_categories cc ON cc.code = t.category
"""


def text_sql(field: Field, role: str) -> str:
    """A case's free text or personal field as `role` may see it (the policy), NULL if hidden."""
    return field_sql(CASES, field, role) or "NULL"


def select(role: str) -> str:
    """The row every case view reads, its personal fields and free text as `role` may see
    them (policy)."""
    shaped = [f for f in CASES.fields if f.personal or f.free_text] + [ADDRESS]
    personal = ", ".join(f"{text_sql(f, role)} AS {f.name}" for f in shaped)
    return f"""
SELECT t.id, t.category, cc.label AS category_label, cc.major, cc.major_label,
       t.status, t.version, t.source, t.reported_at, t.updated_at,
       ST_X(t.geom) AS lon, ST_Y(t.geom) AS lat, g.code AS grid_code, g.name AS grid_name,
       u.code AS unit_code, u.name AS unit_name, {personal},
       g.village_code, rv.name AS village_name, rt.code AS town_code, rt.name AS town_name,
       t.on_boundary, t.snap_distance_m, t.responded_at, t.closed_at,
       t.geocode_precision, t.geocode_score, t.needs_location,
       {RESPOND_BY} AS respond_by, {CLOSE_BY} AS close_by, {OVERDUE} AS overdue,
       t.closed_at <= {CLOSE_BY} AS closed_on_time {FROM}
  LEFT JOIN regions rv ON rv.code = g.village_code
  LEFT JOIN regions rt ON rt.code = {AREA_CODE["town"]}"""
