"""Read a layer file (GeoJSON, GeoPackage, Shapefile, CSV with lon/lat) into a GeoDataFrame."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from gis.crs.systems import InputCRS, crs_name, epsg_of, parse_crs
from gis.errors import InvalidInput, RowError

FORMATS = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GeoPackage",
    ".shp": "Shapefile",
    ".csv": "CSV",
}
LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度")
LAT_NAMES = ("lat", "latitude", "y", "纬度")


@dataclass
class Source:
    """What was read: features in their own CRS, problems found while reading, and notes."""

    frame: gpd.GeoDataFrame
    crs: InputCRS
    errors: list[RowError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_source(
    path: str | Path,
    crs: str | None = None,
    encoding: str | None = None,
    lon_col: str | None = None,
    lat_col: str | None = None,
) -> Source:
    """Read `path`; `crs` is the CRS of files that declare none (or overrides theirs)."""
    path = Path(path)
    if not path.exists():
        raise InvalidInput(f"no such file: {path}")
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise InvalidInput(
            f"cannot read {path.name}: use GeoJSON (.geojson), GeoPackage (.gpkg), "
            "Shapefile (.shp) or CSV with lon/lat columns (.csv)"
        )
    given = parse_crs(crs) if crs else None
    if kind == "CSV":
        return _read_csv(path, given, encoding, lon_col, lat_col)
    notes: list[str] = []
    try:
        if kind == "Shapefile" and not encoding and not path.with_suffix(".cpg").exists():
            try:
                frame = pyogrio.read_dataframe(path, encoding="UTF-8")
            except UnicodeDecodeError:
                frame = pyogrio.read_dataframe(path, encoding="GB18030")
                notes.append("no .cpg beside the .shp and the .dbf is not UTF-8: read as GBK")
        else:
            frame = pyogrio.read_dataframe(path, encoding=encoding)
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{path.name} is not in encoding {encoding}: {exc}; "
            "pass the right one with --encoding (e.g. GBK or UTF-8)"
        ) from exc
    except LookupError as exc:
        raise InvalidInput(f"unknown encoding {encoding!r}: use e.g. UTF-8 or GBK") from exc
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InvalidInput(f"cannot read {path.name} as {kind}: {exc}") from exc
    declared = epsg_of(frame.crs)
    if given is not None:
        if declared is not None and declared != given:
            notes.append(
                f"the file declares EPSG:{declared}; {crs_name(given)} was used as --crs asks"
            )
        used: InputCRS = given
    elif declared is not None:
        used = declared
    else:
        used = _guess_lonlat(frame.geometry.values, path.name)
    return Source(frame, used, notes=notes)


def _guess_lonlat(geoms: np.ndarray, name: str) -> int:
    coords = shapely.get_coordinates(geoms)
    out_of_range = (np.abs(coords[:, 0]) > 180) | (np.abs(coords[:, 1]) > 90)
    if len(coords) and out_of_range.mean() > 0.5:  # a few bad rows are reported row by row
        raise InvalidInput(
            f"{name} declares no CRS and its coordinates look projected "
            f"(e.g. {coords[0, 0]:.1f}, {coords[0, 1]:.1f}); pass --crs, "
            "e.g. --crs EPSG:4549 for CGCS2000 Gauss-Krüger CM 120E"
        )
    return 4326


def _pick(columns: list[str], wanted: str | None, names: tuple[str, ...], what: str) -> str:
    if wanted:
        if wanted not in columns:
            raise InvalidInput(
                f"no column {wanted!r} for {what}; the file has {', '.join(columns)}"
            )
        return wanted
    for c in columns:
        if c.strip().lower() in names:
            return c
    raise InvalidInput(
        f"no {what} column: name one {', '.join(names)} or pass --{what[:3]}-col; "
        f"the file has {', '.join(columns)}"
    )


def _read_csv(
    path: Path,
    given: InputCRS | None,
    encoding: str | None,
    lon_col: str | None,
    lat_col: str | None,
) -> Source:
    notes = []
    try:
        df = pd.read_csv(
            path, encoding=encoding or "utf-8-sig", dtype=str, keep_default_na=False, na_values=[""]
        )
    except UnicodeDecodeError:
        if encoding:
            raise InvalidInput(
                f"{path.name} is not in encoding {encoding}; pass the right "
                "one with --encoding (e.g. GBK or UTF-8)"
            ) from None
        df = pd.read_csv(path, encoding="gb18030", dtype=str, keep_default_na=False, na_values=[""])
        notes.append("the CSV is not UTF-8: read as GBK")
    except LookupError as exc:
        raise InvalidInput(f"unknown encoding {encoding!r}: use e.g. UTF-8 or GBK") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InvalidInput(f"cannot read {path.name} as CSV: {exc}") from exc
    columns = list(df.columns)
    lon_name = _pick(columns, lon_col, LON_NAMES, "longitude")
    lat_name = _pick(columns, lat_col, LAT_NAMES, "latitude")
    x = pd.to_numeric(df[lon_name], errors="coerce").to_numpy(dtype=float)
    y = pd.to_numeric(df[lat_name], errors="coerce").to_numpy(dtype=float)
    errors = []
    for col, values in ((lon_name, x), (lat_name, y)):
        for i in np.flatnonzero(~np.isfinite(values)).tolist():
            errors.append(RowError(i + 1, col, df[col].iat[i], "not a number"))
    ok = np.isfinite(x) & np.isfinite(y)
    geoms = np.full(len(df), None, dtype=object)
    geoms[ok] = shapely.points(x[ok], y[ok])
    frame = gpd.GeoDataFrame(df.drop(columns=[lon_name, lat_name]), geometry=geoms)
    used = given if given is not None else _guess_lonlat(geoms[ok], path.name)
    return Source(frame, used, errors, notes)
