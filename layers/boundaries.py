"""Boundary layers as whole GeoJSON for the map page: code, name and parent (as files name them)
of each area, as the public may see them, built by PostGIS from the registry."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gis.access.policy import visible_fields
from gis.access.roles import PUBLIC
from gis.errors import UnknownLayer
from gis.registry.layers import BOUNDARY_LAYERS, get_layer

OUTLINE = ("code", "name", "parent_code")  # what an outline needs, under the names files use


def boundaries_geojson(conn: Connection, level: str) -> bytes:
    """A FeatureCollection of one boundary level (EPSG:4326, 7 decimals), as UTF-8 bytes."""
    if level not in BOUNDARY_LAYERS:
        raise UnknownLayer(
            f"unknown boundary level {level[:40]!r}: use one of {', '.join(BOUNDARY_LAYERS)}"
        )
    layer = get_layer(level)
    cols = ", ".join(
        f"{sql} AS {f.file_name or f.name}"
        for f, sql in visible_fields(layer, PUBLIC.role)
        if (f.file_name or f.name) in OUTLINE
    )
    sql = (
        "SELECT json_build_object('type', 'FeatureCollection', 'features', "
        "coalesce(json_agg(ST_AsGeoJSON(q.*, 'geom', 7)::json ORDER BY q.code), '[]'::json))::text "
        f"FROM (SELECT {cols}, t.geom FROM {layer.source} WHERE {layer.where}) q"  # registry SQL
    )
    return str(conn.execute(sa.text(sql)).scalar_one()).encode()
