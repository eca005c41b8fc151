"""Export a layer from the database to GeoJSON, GeoPackage or Shapefile, with file field names."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import pyogrio
from sqlalchemy.engine import Engine

from gis.errors import InvalidInput
from gis.registry.layers import get_layer

DRIVERS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG", ".shp": "ESRI Shapefile"}

# What each layer exports: the same property names its import reads, plus owner codes.
QUERIES = {
    "regions": "SELECT code, name, parent_code, geom FROM regions WHERE level = %(level)s "
    "ORDER BY code",
    "grids": "SELECT code, name, village_code AS parent_code, leader_name, leader_phone, "
    "valid_from, geom FROM grids WHERE valid_to IS NULL ORDER BY code",
    "units": "SELECT code, name, grid_code AS parent_code, leader_name, leader_phone, "
    "households, party_contacts, geom FROM units WHERE valid_to IS NULL ORDER BY code",
    "cases": "SELECT c.id, c.category, c.title, c.description, c.status, c.reported_at, "
    "c.reporter_name, c.reporter_phone, g.code AS grid_code, u.code AS unit_code, "
    "c.on_boundary, c.geom FROM cases c LEFT JOIN grids g ON g.id = c.grid_id "
    "LEFT JOIN units u ON u.id = c.unit_id ORDER BY c.id",
    "hotspots": "SELECT h.id, h.name, h.kind, h.risk_level, h.last_inspected, "
    "g.code AS grid_code, u.code AS unit_code, h.geom FROM hotspots h "
    "LEFT JOIN grids g ON g.id = h.grid_id LEFT JOIN units u ON u.id = h.unit_id "
    "ORDER BY h.id",
    "parcels": "SELECT p.code, p.name, p.kind, p.status, g.code AS grid_code, p.geom "
    "FROM parcels p LEFT JOIN grids g ON g.id = p.grid_id ORDER BY p.code",
    "stations": "SELECT s.id, s.name, s.kind, s.hours, s.address, s.contact_name, "
    "s.contact_phone, g.code AS grid_code, u.code AS unit_code, s.geom "
    "FROM stations s LEFT JOIN grids g ON g.id = s.grid_id "
    "LEFT JOIN units u ON u.id = s.unit_id ORDER BY s.id",
}


def read_layer(engine: Engine, layer: str) -> gpd.GeoDataFrame:
    """A layer's current rows as a GeoDataFrame in EPSG:4326, with file field names."""
    spec = get_layer(layer)
    key = "regions" if spec.table == "regions" else spec.name
    with engine.connect() as conn:
        return gpd.read_postgis(
            QUERIES[key], conn, geom_col="geom", crs="EPSG:4326", params={"level": spec.level}
        ).rename_geometry("geometry")


def export_layer(engine: Engine, layer: str, path: str | Path) -> int:
    """Write `layer` to `path` (format from the extension); returns the number of features."""
    path = Path(path)
    driver = DRIVERS.get(path.suffix.lower())
    if driver is None:
        raise InvalidInput(f"cannot write {path.name}: use .geojson, .gpkg or .shp")
    frame = read_layer(engine, layer)
    for col in frame.columns:
        if str(frame[col].dtype).startswith("datetime64") and driver == "ESRI Shapefile":
            frame[col] = frame[col].astype(str)
    options = {"encoding": "UTF-8"} if driver == "ESRI Shapefile" else {}
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # Shapefile field names are cut to 10 characters; imports read them back either way.
        warnings.filterwarnings("ignore", message="Normalized/laundered field name")
        pyogrio.write_dataframe(
            frame, path, driver=driver, layer=layer if driver == "GPKG" else None, **options
        )
    return len(frame)
