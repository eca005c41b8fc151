"""The gazetteer (地名地址库) for geocoding, and cases filed by address.

- gazetteer: named places, each with a point (and its polygon where it has one), a level
  (GB/T 37149's: province ... unit, road, group, house, building, area, poi), its parent
  entry and, for another name of a place (a former name, a short name, a common miswriting),
  the entry it names (alias_of) with the dates it held. `norm` is the name as
  gis/geocode/normalise.py writes it and `bigrams` that name's character bigrams, digits
  stripped, in a GIN index: pg_trgm scores two-character Chinese names badly and, under a C
  ctype, finds nothing in them. The layer bumps layer_versions (the in-process index is keyed
  by it).
- cases: the point may be missing when a case was filed by an address too vague to place; such
  a case says so (needs_location) for a person to place, and every case filed by address keeps
  the precision and score of its geocoding.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Frozen here (a migration does not follow later vocabularies): gis/geocode/levels.py as of
# this revision.
LEVELS = (
    "'province', 'city', 'district', 'town', 'village', 'grid', 'unit', "
    "'road', 'group', 'house', 'building', 'area', 'poi'"
)
PRECISIONS = "'区县', '乡镇/街道', '村/社区', '道路街巷', '地片', '门牌', '楼牌', '兴趣点'"

UPGRADE = f"""
CREATE TABLE gazetteer (
    id          serial PRIMARY KEY,
    code        text NOT NULL UNIQUE CHECK (char_length(code) BETWEEN 1 AND 40),
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    level       text NOT NULL CHECK (level IN ({LEVELS})),
    kind        text,
    number      text,
    parent_id   integer REFERENCES gazetteer (id),
    alias_of    integer REFERENCES gazetteer (id),
    valid_from  date,
    valid_to    date CHECK (valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from),
    norm        text NOT NULL,
    bigrams     text[] NOT NULL,
    geom        geometry(Point, 4326) NOT NULL,
    area        geometry(MultiPolygon, 4326)
);
CREATE INDEX gazetteer_bigrams_idx ON gazetteer USING gin (bigrams);
CREATE INDEX gazetteer_geom_idx ON gazetteer USING gist (geom);
CREATE INDEX gazetteer_parent_idx ON gazetteer (parent_id, level);
CREATE INDEX gazetteer_norm_idx ON gazetteer (norm);

INSERT INTO layer_versions (tbl) VALUES ('gazetteer');
CREATE TRIGGER gazetteer_layer_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON gazetteer
    FOR EACH STATEMENT EXECUTE FUNCTION onemap_bump_layer_version();

ALTER TABLE cases ALTER COLUMN geom DROP NOT NULL;
ALTER TABLE cases
    ADD COLUMN geocode_precision text CHECK (geocode_precision IN ({PRECISIONS})),
    ADD COLUMN geocode_score real CHECK (geocode_score BETWEEN 0 AND 1),
    ADD COLUMN needs_location boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT cases_located_check CHECK (geom IS NOT NULL OR needs_location);
CREATE INDEX cases_needs_location_idx ON cases (id) WHERE needs_location;
"""  # noqa: S608 - constants of this migration


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    # Fails while a case is still unlocated: place it (or cancel the downgrade) first.
    op.execute("""
    DROP INDEX cases_needs_location_idx;
    ALTER TABLE cases DROP CONSTRAINT cases_located_check,
        DROP COLUMN geocode_precision, DROP COLUMN geocode_score, DROP COLUMN needs_location;
    ALTER TABLE cases ALTER COLUMN geom SET NOT NULL;
    DROP TABLE gazetteer;
    DELETE FROM layer_versions WHERE tbl = 'gazetteer';
    """)
