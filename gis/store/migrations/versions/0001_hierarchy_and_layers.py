"""The governance hierarchy (regions, grids, units) and the four thematic layers.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE regions (
    id          serial PRIMARY KEY,
    code        varchar(12) NOT NULL UNIQUE,
    level       varchar(8)  NOT NULL,
    name        text        NOT NULL CHECK (length(btrim(name)) > 0),
    parent_code varchar(12) REFERENCES regions (code) ON UPDATE CASCADE,
    geom        geometry(MultiPolygon, 4326) NOT NULL,
    CONSTRAINT regions_code_format CHECK (code ~ '^[0-9]{12}$'),
    CONSTRAINT regions_level_matches_code CHECK (
        (level = 'district' AND right(code, 6) = '000000' AND substr(code, 5, 2) <> '00'
            AND parent_code IS NULL)
     OR (level = 'town' AND right(code, 3) = '000' AND substr(code, 7, 3) <> '000'
            AND parent_code = left(code, 6) || '000000')
     OR (level = 'village' AND right(code, 3) <> '000'
            AND parent_code = left(code, 9) || '000')),
    CONSTRAINT regions_geom_valid CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom))
);
CREATE INDEX regions_geom_idx ON regions USING gist (geom);
CREATE INDEX regions_parent_idx ON regions (parent_code);

CREATE TABLE grids (
    id           serial PRIMARY KEY,
    code         varchar(15) NOT NULL,
    village_code varchar(12) NOT NULL REFERENCES regions (code) ON UPDATE CASCADE,
    name         text NOT NULL CHECK (length(btrim(name)) > 0),
    leader_name  text,
    leader_phone text,
    valid_from   timestamptz NOT NULL DEFAULT now(),
    valid_to     timestamptz,
    geom         geometry(MultiPolygon, 4326) NOT NULL,
    CONSTRAINT grids_id_code_key UNIQUE (id, code),
    CONSTRAINT grids_code_format CHECK (code ~ '^[0-9]{15}$' AND right(code, 3) <> '000'),
    CONSTRAINT grids_code_in_village CHECK (left(code, 12) = village_code
                                            AND right(village_code, 3) <> '000'),
    CONSTRAINT grids_validity CHECK (valid_to IS NULL OR valid_to > valid_from),
    CONSTRAINT grids_geom_valid CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom))
);
CREATE UNIQUE INDEX grids_current_code_key ON grids (code) WHERE valid_to IS NULL;
CREATE INDEX grids_geom_idx ON grids USING gist (geom);
CREATE INDEX grids_village_idx ON grids (village_code);

CREATE TABLE units (
    id             serial PRIMARY KEY,
    code           varchar(18) NOT NULL,
    grid_id        integer NOT NULL,
    grid_code      varchar(15) NOT NULL,
    name           text NOT NULL CHECK (length(btrim(name)) > 0),
    leader_name    text,
    leader_phone   text,
    households     integer CHECK (households >= 0),
    party_contacts integer CHECK (party_contacts >= 0),
    valid_from     timestamptz NOT NULL DEFAULT now(),
    valid_to       timestamptz,
    geom           geometry(MultiPolygon, 4326) NOT NULL,
    CONSTRAINT units_grid_fkey FOREIGN KEY (grid_id, grid_code)
        REFERENCES grids (id, code) ON UPDATE CASCADE,
    CONSTRAINT units_code_format CHECK (code ~ '^[0-9]{18}$' AND right(code, 3) <> '000'),
    CONSTRAINT units_code_in_grid CHECK (left(code, 15) = grid_code),
    CONSTRAINT units_party_le_households CHECK (party_contacts IS NULL OR households IS NULL
                                                OR party_contacts <= households),
    CONSTRAINT units_validity CHECK (valid_to IS NULL OR valid_to > valid_from),
    CONSTRAINT units_geom_valid CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom))
);
CREATE UNIQUE INDEX units_current_code_key ON units (code) WHERE valid_to IS NULL;
CREATE INDEX units_geom_idx ON units USING gist (geom);
CREATE INDEX units_grid_idx ON units (grid_id);

CREATE TABLE cases (
    id              bigserial PRIMARY KEY,
    category        text NOT NULL CHECK (category IN ('dispute', 'public_safety', 'waterlogging',
                        'illegal_construction', 'sanitation', 'road_facility', 'noise',
                        'fire_hazard', 'livelihood', 'greening')),
    title           text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
    description     text CHECK (length(description) <= 5000),
    status          text NOT NULL DEFAULT 'reported' CHECK (status IN ('reported', 'registered',
                        'cancelled', 'dispatched', 'in_progress', 'responded', 'closed',
                        'evaluated')),
    reported_at     timestamptz NOT NULL DEFAULT now(),
    reporter_name   text,
    reporter_phone  text,
    geom            geometry(Point, 4326) NOT NULL,
    grid_id         integer REFERENCES grids (id),
    unit_id         integer REFERENCES units (id),
    on_boundary     boolean NOT NULL DEFAULT false,
    snap_distance_m double precision CHECK (snap_distance_m >= 0),
    CONSTRAINT cases_geom_valid CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom))
);
CREATE INDEX cases_geom_idx ON cases USING gist (geom);
CREATE INDEX cases_grid_idx ON cases (grid_id);
CREATE INDEX cases_reported_idx ON cases (reported_at);
CREATE INDEX cases_status_idx ON cases (status);

CREATE TABLE hotspots (
    id              serial PRIMARY KEY,
    name            text NOT NULL CHECK (length(btrim(name)) > 0),
    kind            text NOT NULL CHECK (kind IN ('waterlogging', 'hazard')),
    risk_level      text NOT NULL CHECK (risk_level IN ('low', 'medium', 'high', 'severe')),
    last_inspected  date,
    geom            geometry(Geometry, 4326) NOT NULL,
    grid_id         integer REFERENCES grids (id),
    unit_id         integer REFERENCES units (id),
    on_boundary     boolean NOT NULL DEFAULT false,
    snap_distance_m double precision CHECK (snap_distance_m >= 0),
    CONSTRAINT hotspots_geom_type CHECK (GeometryType(geom) IN ('POINT', 'POLYGON', 'MULTIPOLYGON')),
    CONSTRAINT hotspots_geom_valid CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom))
);
CREATE INDEX hotspots_geom_idx ON hotspots USING gist (geom);
CREATE INDEX hotspots_grid_idx ON hotspots (grid_id);

CREATE TABLE parcels (
    id        serial PRIMARY KEY,
    code      text NOT NULL UNIQUE CHECK (length(btrim(code)) > 0),
    name      text NOT NULL CHECK (length(btrim(name)) > 0),
    kind      text NOT NULL CHECK (kind IN ('demolition', 'illegal_building')),
    status    text NOT NULL CHECK (status IN ('surveyed', 'negotiating', 'signed', 'demolished',
                  'rectifying')),
    geom      geometry(MultiPolygon, 4326) NOT NULL,
    grid_id   integer REFERENCES grids (id),
    CONSTRAINT parcels_geom_valid CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom))
);
CREATE INDEX parcels_geom_idx ON parcels USING gist (geom);
CREATE INDEX parcels_grid_idx ON parcels (grid_id);

CREATE TABLE stations (
    id              serial PRIMARY KEY,
    name            text NOT NULL CHECK (length(btrim(name)) > 0),
    kind            text NOT NULL CHECK (kind IN ('party_service_center', 'convenience_point',
                        'grid_council_hall', 'neighbourhood_center', 'elderly_care_center')),
    hours           text,
    address         text,
    contact_name    text,
    contact_phone   text,
    geom            geometry(Point, 4326) NOT NULL,
    grid_id         integer REFERENCES grids (id),
    unit_id         integer REFERENCES units (id),
    on_boundary     boolean NOT NULL DEFAULT false,
    snap_distance_m double precision CHECK (snap_distance_m >= 0),
    CONSTRAINT stations_geom_valid CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom))
);
CREATE INDEX stations_geom_idx ON stations USING gist (geom);
CREATE INDEX stations_grid_idx ON stations (grid_id);
"""

DOWNGRADE = """
DROP TABLE stations, parcels, hotspots, cases, units, grids, regions;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
