"""Parcel shares: every grid a parcel overlaps, with the area and percentage it holds.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE parcel_shares (
        parcel_id integer NOT NULL REFERENCES parcels (id) ON DELETE CASCADE,
        grid_id   integer NOT NULL REFERENCES grids (id),
        area_m2   double precision NOT NULL CHECK (area_m2 >= 0),
        share_pct double precision NOT NULL CHECK (share_pct >= 0 AND share_pct <= 100.0001),
        PRIMARY KEY (parcel_id, grid_id)
    );
    CREATE INDEX parcel_shares_grid_idx ON parcel_shares (grid_id);
    """)


def downgrade() -> None:
    op.execute("DROP TABLE parcel_shares")
