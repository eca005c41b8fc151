"""Boundary layers as GeoJSON for the map page: public fields only, built by PostGIS."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gis.errors import UnknownLayer

# Public fields only: leaders' names and phones never leave through this path.
_SOURCES = {
    "districts": "SELECT code, name, parent_code, geom FROM regions WHERE level = 'district'",
    "towns": "SELECT code, name, parent_code, geom FROM regions WHERE level = 'town'",
    "villages": "SELECT code, name, parent_code, geom FROM regions WHERE level = 'village'",
    "grids": "SELECT code, name, village_code AS parent_code, geom FROM grids "
    "WHERE valid_to IS NULL",
    "units": "SELECT code, name, grid_code AS parent_code, geom FROM units WHERE valid_to IS NULL",
}
LEVELS = tuple(_SOURCES)


def boundaries_geojson(conn: Connection, level: str) -> bytes:
    """A FeatureCollection of one boundary level (EPSG:4326, 7 decimals), as UTF-8 bytes."""
    source = _SOURCES.get(level)
    if source is None:
        raise UnknownLayer(f"unknown boundary level {level!r}: use one of {', '.join(LEVELS)}")
    sql = (
        "SELECT json_build_object('type', 'FeatureCollection', 'features', "  # noqa: S608
        "coalesce(json_agg(ST_AsGeoJSON(t.*, 'geom', 7)::json ORDER BY t.code), '[]'::json))::text "
        f"FROM ({source}) t"  # a constant from _SOURCES
    )
    return str(conn.execute(sa.text(sql)).scalar_one()).encode()
