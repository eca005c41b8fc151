"""Analysts' computed layers: hotspot statistics per grid and service coverage per grid and unit.

- grid_hotspots: the published Gi* and local Moran's I of a subject (cases, or waterlogging
  spots) per grid, written by gis/stats/hotspots.publish; served as the layers case_hotspots
  and waterlogging_hotspots. Counts below the public's k are stored withheld (NULL).
- area_coverage: per current grid and unit and station kind, the straight-line (or network)
  distance to the nearest station and the share of the area (and of a grid's units) within
  300, 500 and 1,000 m (GB 50180-2018), written by gis/stats/coverage.refresh.
- grid_coverage: a view, one row per current grid with those figures per kind (the layer
  'coverage'); a LATERAL aggregate, so a tile's bbox still uses the grids' GiST index.

Both tables get a layer_versions row and its trigger, so tile and count caches see a refresh.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# Frozen here (a migration does not follow later vocabularies): gis/registry/vocab.py's
# station kinds and the GB 50180-2018 life-circle radii, as of this revision.
KINDS = (
    "party_service_center",
    "convenience_point",
    "grid_council_hall",
    "neighbourhood_center",
    "elderly_care_center",
)
RADII = (300, 500, 1000)

UPGRADE = """
CREATE TABLE grid_hotspots (
    subject      text NOT NULL CHECK (subject IN ('cases', 'waterlogging')),
    grid_id      integer NOT NULL REFERENCES grids (id) ON DELETE CASCADE,
    code         varchar(15) NOT NULL,
    category     text,
    period_from  timestamptz,
    period_to    timestamptz,
    n            integer CHECK (n >= 0),
    rate         double precision CHECK (rate >= 0),
    neighbours   integer NOT NULL CHECK (neighbours >= 0),
    gi_z         double precision,
    gi_p         double precision,
    gi_class     text NOT NULL,
    moran_i      double precision,
    moran_p      double precision,
    moran_class  text NOT NULL,
    permutations integer NOT NULL,
    seed         integer NOT NULL,
    computed_at  timestamptz NOT NULL DEFAULT now(),
    geom         geometry(MultiPolygon, 4326) NOT NULL,
    PRIMARY KEY (subject, grid_id)
);
CREATE INDEX grid_hotspots_geom_idx ON grid_hotspots USING gist (geom);

CREATE TABLE area_coverage (
    level       text NOT NULL CHECK (level IN ('grid', 'unit')),
    area_id     integer NOT NULL,
    code        varchar(18) NOT NULL,
    kind        text NOT NULL,
    method      text NOT NULL CHECK (method IN ('straight-line', 'network')),
    nearest_m   double precision CHECK (nearest_m >= 0),
    area_300    double precision NOT NULL CHECK (area_300 BETWEEN 0 AND 1),
    area_500    double precision NOT NULL CHECK (area_500 BETWEEN 0 AND 1),
    area_1000   double precision NOT NULL CHECK (area_1000 BETWEEN 0 AND 1),
    units_300   double precision CHECK (units_300 BETWEEN 0 AND 1),
    units_500   double precision CHECK (units_500 BETWEEN 0 AND 1),
    units_1000  double precision CHECK (units_1000 BETWEEN 0 AND 1),
    computed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (level, area_id, kind)
);
CREATE INDEX area_coverage_code_idx ON area_coverage (code);

INSERT INTO layer_versions (tbl) VALUES ('grid_hotspots'), ('area_coverage');
CREATE TRIGGER grid_hotspots_layer_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON grid_hotspots
    FOR EACH STATEMENT EXECUTE FUNCTION onemap_bump_layer_version();
CREATE TRIGGER area_coverage_layer_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON area_coverage
    FOR EACH STATEMENT EXECUTE FUNCTION onemap_bump_layer_version();
"""


def _view() -> str:
    cols = []
    for k in KINDS:
        cols.append(f"max(c.nearest_m) FILTER (WHERE c.kind = '{k}') AS {k}_m")
        for what in ("area", "units"):
            cols += [
                f"max(c.{what}_{r}) FILTER (WHERE c.kind = '{k}') AS {k}_{what}_{r}" for r in RADII
            ]
    return (
        "CREATE VIEW grid_coverage AS "  # noqa: S608 - constants of this migration
        "SELECT g.id, g.code, g.name, g.geom, s.* FROM grids g CROSS JOIN LATERAL ("
        "  SELECT min(c.method) AS method, max(c.computed_at) AS computed_at, "
        + ", ".join(cols)
        + "  FROM area_coverage c WHERE c.level = 'grid' AND c.area_id = g.id) s "
        "WHERE g.valid_to IS NULL AND s.method IS NOT NULL"
    )


def upgrade() -> None:
    op.execute(UPGRADE)
    op.execute(_view())


def downgrade() -> None:
    op.execute("DROP VIEW grid_coverage")
    op.execute("DROP TABLE area_coverage, grid_hotspots")
    op.execute("DELETE FROM layer_versions WHERE tbl IN ('grid_hotspots', 'area_coverage')")
