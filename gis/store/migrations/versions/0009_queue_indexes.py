"""The dispatcher's queue on a million cases: its default order (deadline to close) and its
free-text filter (q) from indexes.

- Every case now holds its deadlines: rows written without them (imports) get them from their
  category's hours, at insert by a trigger and here for the rows already there. The values are
  those the read-time fallback (gis/cases/sql.py CLOSE_BY) gave, fixed at insert as for cases
  filed through the API; so the queue may sort by the column, and an index serves it.
- cases_open_close_by_idx: the open cases (lifecycle.OPEN) by deadline, the queue's default
  view, with what its count reads (status, category, owners), so the count reads no table;
  cases_close_by_idx and cases_updated_idx: the other sorts under any filter.
- cases_text_trgm_idx (pg_trgm): ILIKE '%text%' on title, description and address.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE FUNCTION onemap_case_deadlines() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.respond_by IS NULL OR NEW.close_by IS NULL THEN
        SELECT coalesce(NEW.respond_by, NEW.reported_at + cc.respond_hours * interval '1 hour'),
               coalesce(NEW.close_by, NEW.reported_at + cc.close_hours * interval '1 hour')
          INTO NEW.respond_by, NEW.close_by
          FROM case_categories cc WHERE cc.code = NEW.category;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER cases_deadlines BEFORE INSERT OR UPDATE OF respond_by, close_by ON cases
    FOR EACH ROW EXECUTE FUNCTION onemap_case_deadlines();

UPDATE cases t
   SET respond_by = coalesce(t.respond_by, t.reported_at + cc.respond_hours * interval '1 hour'),
       close_by = coalesce(t.close_by, t.reported_at + cc.close_hours * interval '1 hour')
  FROM case_categories cc
 WHERE cc.code = t.category AND (t.respond_by IS NULL OR t.close_by IS NULL);

CREATE INDEX cases_open_close_by_idx ON cases (close_by, id)
    INCLUDE (status, category, grid_id, unit_id)
    WHERE status IN ('reported', 'registered', 'dispatched', 'in_progress', 'responded');
CREATE INDEX cases_close_by_idx ON cases (close_by, id);
CREATE INDEX cases_updated_idx ON cases (updated_at, id);

CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX cases_text_trgm_idx ON cases
    USING gin (title gin_trgm_ops, description gin_trgm_ops, address gin_trgm_ops);
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute("""
    DROP INDEX cases_text_trgm_idx;
    DROP INDEX cases_updated_idx;
    DROP INDEX cases_close_by_idx;
    DROP INDEX cases_open_close_by_idx;
    DROP TRIGGER cases_deadlines ON cases;
    DROP FUNCTION onemap_case_deadlines();
    """)
