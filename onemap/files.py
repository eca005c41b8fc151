"""Writing frames for people and GIS tools: CSV and Excel with Chinese headers, GeoParquet."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from gis.errors import InvalidInput
from gis.stats.tables import csv_bytes, xlsx_bytes


def to_csv(frame: pd.DataFrame, path: str | Path, index: bool = True) -> Path:
    """Write `frame` as CSV (UTF-8 with a BOM for Excel), Chinese headers, geometry as WKT;
    the index (an area's code) becomes the first column unless `index` is False."""
    out = Path(path)
    out.write_bytes(csv_bytes(_flat(frame, index)))
    return out


def to_excel(
    frame: pd.DataFrame, path: str | Path, sheet: str = "OneMap", index: bool = True
) -> Path:
    """Write `frame` as an Excel workbook (openpyxl), Chinese headers, geometry as WKT."""
    out = Path(path)
    out.write_bytes(xlsx_bytes(_flat(frame, index), sheet))
    return out


def to_geoparquet(frame: gpd.GeoDataFrame, path: str | Path) -> Path:
    """Write a GeoDataFrame as GeoParquet (its CRS kept), for QGIS, GDAL or DuckDB."""
    if not isinstance(frame, gpd.GeoDataFrame) or frame.crs is None:
        raise InvalidInput("to_geoparquet takes a GeoDataFrame with a CRS (set_crs first)")
    out = Path(path)
    frame.to_parquet(out)
    return out


def _flat(frame: pd.DataFrame, index: bool) -> pd.DataFrame:
    return frame.reset_index() if index and frame.index.name else pd.DataFrame(frame)
