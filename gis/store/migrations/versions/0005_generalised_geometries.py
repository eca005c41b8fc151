"""Generalised geometries for low-zoom tiles, and label points of regions.

geom_lo is each boundary simplified (topology preserved) to 0.0003° (about 30 m, half a
screen pixel at zoom 12). Tiles up to zoom 12 simplify it further to their own pixel
instead of simplifying the full-detail boundary on every request. regions.label_point is
where a village's case count is drawn at the lowest zooms.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TOLERANCE = "0.0003"


def upgrade() -> None:
    for table in ("regions", "grids", "units"):
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN geom_lo geometry(Geometry, 4326) "
            f"GENERATED ALWAYS AS (ST_SimplifyPreserveTopology(geom, {TOLERANCE})) STORED"
        )
    op.execute(
        "ALTER TABLE regions ADD COLUMN label_point geometry(Point, 4326) "
        "GENERATED ALWAYS AS (ST_PointOnSurface(geom)) STORED"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE regions DROP COLUMN label_point")
    for table in ("regions", "grids", "units"):
        op.execute(f"ALTER TABLE {table} DROP COLUMN geom_lo")
