"""Layer versions (for tile caches and the plan index), case counts per grid, label points.

- layer_versions: one row per table, bumped in the same transaction as any change to it
  (statement triggers), so a reader that sees the new version also sees the new rows;
  pg_notify('onemap_layers', table) tells listeners.
- grid_case_counts: cases per current grid and status, kept by statement triggers with
  transition tables (one aggregate per statement, also for a million-row COPY), so the
  low-zoom cases tiles never count cases.
- grids.label_point: a point inside each grid (ST_PointOnSurface), where its count is drawn.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("regions", "grids", "units", "cases", "hotspots", "parcels", "stations")

UPGRADE = """
CREATE TABLE layer_versions (
    tbl        text PRIMARY KEY,
    version    bigint NOT NULL DEFAULT 1,
    changed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO layer_versions (tbl) VALUES {values};

CREATE FUNCTION onemap_bump_layer_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE layer_versions SET version = version + 1, changed_at = now()
     WHERE tbl = TG_TABLE_NAME;
    PERFORM pg_notify('onemap_layers', TG_TABLE_NAME);
    RETURN NULL;
END $$;

ALTER TABLE grids ADD COLUMN label_point geometry(Point, 4326)
    GENERATED ALWAYS AS (ST_PointOnSurface(geom)) STORED;

CREATE TABLE grid_case_counts (
    grid_id integer NOT NULL REFERENCES grids (id) ON DELETE CASCADE,
    status  text NOT NULL,
    n       bigint NOT NULL CHECK (n >= 0),
    PRIMARY KEY (grid_id, status)
);
INSERT INTO grid_case_counts
    SELECT grid_id, status, count(*) FROM cases WHERE grid_id IS NOT NULL GROUP BY 1, 2;

CREATE FUNCTION onemap_count_cases() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE grid_case_counts c SET n = c.n - o.n
          FROM (SELECT grid_id, status, count(*) AS n FROM old_rows
                 WHERE grid_id IS NOT NULL GROUP BY 1, 2) o
         WHERE c.grid_id = o.grid_id AND c.status = o.status;
        DELETE FROM grid_case_counts
         WHERE n = 0 AND grid_id IN (SELECT grid_id FROM old_rows);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO grid_case_counts AS c (grid_id, status, n)
             SELECT grid_id, status, count(*) FROM new_rows
              WHERE grid_id IS NOT NULL GROUP BY 1, 2
        ON CONFLICT (grid_id, status) DO UPDATE SET n = c.n + excluded.n;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION onemap_clear_case_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM grid_case_counts;
    RETURN NULL;
END $$;

CREATE TRIGGER cases_count_insert AFTER INSERT ON cases
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION onemap_count_cases();
CREATE TRIGGER cases_count_update AFTER UPDATE ON cases
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION onemap_count_cases();
CREATE TRIGGER cases_count_delete AFTER DELETE ON cases
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION onemap_count_cases();
CREATE TRIGGER cases_count_truncate AFTER TRUNCATE ON cases
    FOR EACH STATEMENT EXECUTE FUNCTION onemap_clear_case_counts();
"""

TRIGGER = """
CREATE TRIGGER {t}_layer_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {t}
    FOR EACH STATEMENT EXECUTE FUNCTION onemap_bump_layer_version();
"""


def upgrade() -> None:
    values = ", ".join(f"('{t}')" for t in TABLES)
    op.execute(UPGRADE.replace("{values}", values))
    for t in TABLES:
        op.execute(TRIGGER.format(t=t))


def downgrade() -> None:
    for t in TABLES:
        op.execute(f"DROP TRIGGER {t}_layer_version ON {t}")
    op.execute("""
    DROP TRIGGER cases_count_insert ON cases;
    DROP TRIGGER cases_count_update ON cases;
    DROP TRIGGER cases_count_delete ON cases;
    DROP TRIGGER cases_count_truncate ON cases;
    DROP FUNCTION onemap_count_cases(), onemap_clear_case_counts();
    DROP TABLE grid_case_counts;
    ALTER TABLE grids DROP COLUMN label_point;
    DROP TABLE layer_versions;
    DROP FUNCTION onemap_bump_layer_version();
    """)
