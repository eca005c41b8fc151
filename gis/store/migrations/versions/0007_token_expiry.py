"""Tokens expire: users.expires_at (existing tokens expire 12 hours after this migration).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE users ADD COLUMN expires_at timestamptz")
    op.execute("UPDATE users SET expires_at = now() + interval '12 hours'")
    op.execute("ALTER TABLE users ALTER COLUMN expires_at SET NOT NULL")
    # a row written without one (by hand) holds a token that is already expired
    op.execute("ALTER TABLE users ALTER COLUMN expires_at SET DEFAULT now()")


def downgrade() -> None:
    op.execute("ALTER TABLE users DROP COLUMN expires_at")
