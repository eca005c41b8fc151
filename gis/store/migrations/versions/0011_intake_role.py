"""The intake role: users.role may be 'intake' (an Open311 or hotline key that only files cases).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

ROLES = "'dispatcher', 'grid_worker', 'analyst', 'admin'"


def upgrade() -> None:
    op.execute("ALTER TABLE users DROP CONSTRAINT users_role_check")
    op.execute(
        f"ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ({ROLES}, 'intake'))"
    )


def downgrade() -> None:
    op.execute("DELETE FROM users WHERE role = 'intake'")
    op.execute("ALTER TABLE users DROP CONSTRAINT users_role_check")
    op.execute(f"ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ({ROLES}))")
