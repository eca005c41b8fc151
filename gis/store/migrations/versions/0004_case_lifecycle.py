"""The case lifecycle: categories with deadlines, versions, stage times, an append-only
history, users with hashed tokens, and notifications of case changes.

- case_categories: the two-level GB/T 30428 scheme (major/minor), with hours to respond
  and to close; cases.category refers to a minor class.
- cases: version (for If-Match), respond_by/close_by (set at intake from the category;
  NULL for imported rows, which fall back to the category's hours), responded_at,
  closed_at, updated_at, source.
- case_history: one row per transition; UPDATE and DELETE are refused by a trigger, and
  TRUNCATE too unless the session set onemap.reset = 'on' (a whole-demo reset).
- users: name, role, grid (for grid workers), sha-256 of the token.
- pg_notify('onemap_cases', {id, status, category, grid_code, version}) on every change of
  a case (no personal field), for the live stream.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# A frozen copy of gis.registry.vocab at this revision (a test checks that they still agree).
MAJORS = {
    "disputes": "矛盾纠纷",
    "safety": "安全隐患",
    "environment": "市容环境",
    "construction": "违法建设",
    "facilities": "市政设施",
    "livelihood": "民生服务",
}
MINORS = {
    "dispute": ("disputes", "矛盾纠纷", 24, 168),
    "neighbour_dispute": ("disputes", "邻里纠纷", 24, 168),
    "land_dispute": ("disputes", "土地山林纠纷", 48, 720),
    "labour_dispute": ("disputes", "劳资纠纷", 24, 336),
    "public_safety": ("safety", "公共安全隐患", 2, 48),
    "fire_hazard": ("safety", "消防隐患", 2, 24),
    "gas_hazard": ("safety", "燃气隐患", 1, 24),
    "sanitation": ("environment", "环境卫生", 4, 48),
    "noise": ("environment", "噪声扰民", 2, 24),
    "greening": ("environment", "园林绿化", 24, 168),
    "illegal_construction": ("construction", "违法建设", 24, 720),
    "road_facility": ("facilities", "道路设施", 12, 120),
    "waterlogging": ("facilities", "内涝积水", 1, 12),
    "livelihood": ("livelihood", "民生服务", 24, 168),
}

UPGRADE = """
CREATE TABLE case_categories (
    code          text PRIMARY KEY CHECK (code ~ '^[a-z_]+$'),
    major         text NOT NULL CHECK (major ~ '^[a-z_]+$'),
    major_label   text NOT NULL,
    label         text NOT NULL,
    respond_hours integer NOT NULL CHECK (respond_hours > 0),
    close_hours   integer NOT NULL CHECK (close_hours > 0),
    CONSTRAINT case_categories_order CHECK (respond_hours <= close_hours)
);
INSERT INTO case_categories VALUES {rows};

ALTER TABLE cases DROP CONSTRAINT cases_category_check;
ALTER TABLE cases ADD CONSTRAINT cases_category_fkey
    FOREIGN KEY (category) REFERENCES case_categories (code) ON UPDATE CASCADE;
ALTER TABLE cases
    ADD COLUMN version      integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    ADD COLUMN source       text NOT NULL DEFAULT 'import'
        CHECK (source IN ('import', 'api', 'open311')),
    ADD COLUMN address      text CHECK (length(address) <= 200),
    ADD COLUMN respond_by   timestamptz,
    ADD COLUMN close_by     timestamptz,
    ADD COLUMN responded_at timestamptz,
    ADD COLUMN closed_at    timestamptz,
    ADD COLUMN updated_at   timestamptz NOT NULL DEFAULT now();
CREATE INDEX cases_category_idx ON cases (category);

CREATE TABLE users (
    id          serial PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (length(btrim(name)) BETWEEN 1 AND 50),
    role        text NOT NULL CHECK (role IN ('dispatcher', 'grid_worker', 'analyst', 'admin')),
    grid_code   varchar(15) CHECK (grid_code ~ '^[0-9]{15}$'),
    token_hash  char(64) NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    disabled    boolean NOT NULL DEFAULT false,
    CONSTRAINT users_worker_has_grid CHECK ((role = 'grid_worker') = (grid_code IS NOT NULL))
);

CREATE TABLE case_history (
    id         bigserial PRIMARY KEY,
    case_id    bigint NOT NULL REFERENCES cases (id),
    at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor      text NOT NULL,
    actor_role text NOT NULL,
    action     text NOT NULL,
    from_status text,
    to_status  text NOT NULL,
    note       text CHECK (length(note) <= 2000)
);
CREATE INDEX case_history_case_idx ON case_history (case_id, id);

CREATE FUNCTION onemap_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' AND current_setting('onemap.reset', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'case_history is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER case_history_no_update BEFORE UPDATE OR DELETE ON case_history
    FOR EACH ROW EXECUTE FUNCTION onemap_history_append_only();
CREATE TRIGGER case_history_no_truncate BEFORE TRUNCATE ON case_history
    FOR EACH STATEMENT EXECUTE FUNCTION onemap_history_append_only();

CREATE FUNCTION onemap_notify_cases() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('onemap_cases', json_build_object(
        'event', CASE WHEN TG_OP = 'INSERT' THEN 'created' ELSE 'changed' END,
        'id', n.id, 'status', n.status, 'category', n.category, 'version', n.version,
        'grid_code', g.code, 'lon', round(ST_X(n.geom)::numeric, 6),
        'lat', round(ST_Y(n.geom)::numeric, 6))::text)
      FROM new_rows n LEFT JOIN grids g ON g.id = n.grid_id
     WHERE (SELECT count(*) FROM new_rows) <= 1000;  -- a bulk import is one layer change
    RETURN NULL;
END $$;
CREATE TRIGGER cases_notify_insert AFTER INSERT ON cases
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION onemap_notify_cases();
CREATE TRIGGER cases_notify_update AFTER UPDATE ON cases
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION onemap_notify_cases();
"""


def upgrade() -> None:
    rows = ", ".join(
        f"('{code}', '{major}', '{MAJORS[major]}', '{label}', {respond}, {close})"
        for code, (major, label, respond, close) in MINORS.items()
    )
    op.execute(UPGRADE.replace("{rows}", rows))


def downgrade() -> None:
    op.execute("""
    DROP TRIGGER cases_notify_insert ON cases;
    DROP TRIGGER cases_notify_update ON cases;
    DROP FUNCTION onemap_notify_cases();
    DROP TABLE case_history;
    DROP FUNCTION onemap_history_append_only();
    DROP TABLE users;
    DROP INDEX cases_category_idx;
    ALTER TABLE cases DROP COLUMN version, DROP COLUMN source, DROP COLUMN address,
        DROP COLUMN respond_by, DROP COLUMN close_by, DROP COLUMN responded_at,
        DROP COLUMN closed_at, DROP COLUMN updated_at;
    ALTER TABLE cases DROP CONSTRAINT cases_category_fkey;
    DROP TABLE case_categories;
    """)
