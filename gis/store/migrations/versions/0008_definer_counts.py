"""Least privilege: the derived counts and layer versions are kept by their triggers with the
owner's rights (SECURITY DEFINER), so the app role needs only SELECT on them.

The app role's grants themselves are applied after every migration (gis/store/roles.py).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# (A later CREATE OR REPLACE of one of these must say SECURITY DEFINER and SET search_path
# again: replacing a function resets both.)
FUNCTIONS = ("onemap_count_cases()", "onemap_clear_case_counts()", "onemap_bump_layer_version()")


def upgrade() -> None:
    for f in FUNCTIONS:
        op.execute(f"ALTER FUNCTION {f} SECURITY DEFINER SET search_path = public, pg_temp")


def downgrade() -> None:
    for f in FUNCTIONS:
        op.execute(f"ALTER FUNCTION {f} SECURITY INVOKER RESET search_path")
