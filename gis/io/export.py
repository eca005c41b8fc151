"""Export a layer from the database to GeoJSON, GeoPackage or Shapefile, with file field names."""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import geopandas as gpd
import pyogrio
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis.access.policy import scope_sql, visible_fields
from gis.access.roles import COMMAND_LINE, Actor
from gis.errors import InvalidInput
from gis.registry.layers import get_layer

DRIVERS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG", ".shp": "ESRI Shapefile"}


def read_layer(engine: Engine, layer: str, actor: Actor = COMMAND_LINE) -> gpd.GeoDataFrame:
    """A layer's current rows as `actor` may see them (the access policy), in EPSG:4326, each
    field under its name in files (what the import reads), plus owner codes."""
    spec = get_layer(layer)
    scope, binds = scope_sql(spec, actor)
    cols = ", ".join(
        f"{sql} AS {f.file_name or f.name}" for f, sql in visible_fields(spec, actor.role)
    )
    order = spec.field(spec.id_field).expr
    query = (
        f"SELECT {cols}, t.geom FROM {spec.source} WHERE {spec.where} AND {scope} ORDER BY {order}"
    )
    with engine.connect() as conn:
        return gpd.read_postgis(
            sa.text(query), conn, geom_col="geom", crs="EPSG:4326", params=binds
        ).rename_geometry("geometry")


def export_layer(engine: Engine, layer: str, path: str | Path, actor: Actor = COMMAND_LINE) -> int:
    """Write `layer` as `actor` may see it to `path` (format from the extension); returns the
    number of features."""
    path = Path(path)
    driver = DRIVERS.get(path.suffix.lower())
    if driver is None:
        raise InvalidInput(f"cannot write {path.name}: use .geojson, .gpkg or .shp")
    frame = read_layer(engine, layer, actor)
    for col in frame.columns:
        if str(frame[col].dtype).startswith("datetime64") and driver == "ESRI Shapefile":
            frame[col] = frame[col].astype(str)
    options = {"encoding": "UTF-8"} if driver == "ESRI Shapefile" else {}
    # Written in a folder beside, then moved in (a Shapefile is several files): a killed
    # export leaves no partial file at the destination, and the next one clears its folder.
    partial = path.parent / f".{path.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        with warnings.catch_warnings():
            # Shapefile field names are cut to 10 characters; imports read them back either way.
            warnings.filterwarnings("ignore", message="Normalized/laundered field name")
            pyogrio.write_dataframe(
                frame,
                partial / path.name,
                driver=driver,
                layer=layer if driver == "GPKG" else None,
                **options,
            )
        for written in partial.iterdir():
            os.replace(written, path.parent / written.name)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return len(frame)
