"""What the local and remote OneMaps share: one dtype per field, points from a frame, and the
owner columns of locate."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from gis.access.policy import visible_fields
from gis.crs.systems import InputCRS, epsg_of, parse_crs
from gis.errors import BadParameter, InvalidInput
from gis.owners.model import CHAIN_COLUMNS
from gis.registry.model import Layer
from layers.features import queryables

OWNER_COLUMNS = (
    *CHAIN_COLUMNS,  # district to grid, codes and names, as the owner index names them
    "unit_code",
    "unit_name",
    "locate_status",
    "on_boundary",
    "distance_m",
    "locate_error",
)
"""The columns locate adds (replacing columns of those names)."""


def check_where(layer: Layer, role: str, where: Mapping[str, Any] | None) -> dict[str, str]:
    """`where` as OGC API query values; BadParameter names a key that is no queryable."""
    allowed = queryables(layer, role)
    out = {}
    for key, value in (where or {}).items():
        if key not in allowed:
            raise BadParameter(
                "where",
                f"{str(key)[:40]!r} is not a queryable of {layer.id}: use {', '.join(allowed)}",
            )
        out[key] = str(value)
    return out


def bbox_text(bbox: Sequence[float] | None) -> str | None:
    if bbox is None:
        return None
    if len(bbox) != 4:
        raise BadParameter("bbox", "give (minlon, minlat, maxlon, maxlat) in CRS84")
    return ",".join(repr(float(v)) for v in bbox)


def typed(frame: gpd.GeoDataFrame, layer: Layer, role: str) -> gpd.GeoDataFrame:
    """The fields `role` sees of `layer`, in the registry's order, one dtype per JSON type
    (so a layer read from PostGIS and one read through the OGC API compare equal)."""
    out = gpd.GeoDataFrame(index=pd.RangeIndex(len(frame)))
    for field, _ in visible_fields(layer, role):
        col = frame[field.name] if field.name in frame else pd.Series([None] * len(frame))
        col = col.reset_index(drop=True)
        kind = field.json_type
        if kind == "integer":
            col = pd.Series(pd.to_numeric(col)).astype("Int64")
        elif kind == "number":
            col = pd.to_numeric(col).astype(float)
        elif kind == "boolean":
            col = pd.Series(col).astype("boolean")
        elif kind == "date-time":
            col = pd.to_datetime(col, utc=True, format="ISO8601").astype("datetime64[ns, UTC]")
        elif kind == "date":
            col = pd.to_datetime(col, format="ISO8601").astype("datetime64[ns]")
        else:
            col = col.astype(object).where(col.notna(), None)
        out[field.name] = col
    return out.set_geometry(
        gpd.GeoSeries(frame.geometry.reset_index(drop=True), crs="EPSG:4326"), crs="EPSG:4326"
    )


def points_of(
    frame: gpd.GeoDataFrame, crs: str | int | None
) -> tuple[NDArray[np.float64], NDArray[np.float64], InputCRS]:
    """The x and y of the frame's points and their CRS (`crs` if given, else the frame's)."""
    if not isinstance(frame, gpd.GeoDataFrame):
        raise InvalidInput("locate takes a GeoDataFrame of points")
    if crs is not None:
        parsed = parse_crs(crs)
    elif frame.crs is not None:
        parsed = parse_crs(epsg_of(frame.crs))
    else:
        raise InvalidInput(
            "the frame has no CRS: set one (frame.set_crs(4326)), or pass crs='GCJ02' or "
            "crs='BD09' for AMap, Tencent or Baidu coordinates"
        )
    geoms = frame.geometry
    bad = ~(geoms.geom_type == "Point") | geoms.is_empty
    if bad.any():
        first = int(np.flatnonzero(bad.to_numpy())[0])
        raise InvalidInput(
            f"row {first} is a {geoms.iloc[first].geom_type if geoms.iloc[first] else 'missing'}"
            " geometry: locate takes points (use .representative_point() for areas)"
        )
    return geoms.x.to_numpy(float), geoms.y.to_numpy(float), parsed


def with_owners(frame: gpd.GeoDataFrame, owners: pd.DataFrame) -> gpd.GeoDataFrame:
    """`frame` with the owner columns (empty codes and names as None, no distance inside)."""
    out = frame.drop(columns=[c for c in OWNER_COLUMNS if c in frame.columns]).copy()
    for col in OWNER_COLUMNS:
        values = owners[col].to_numpy(object)
        if col == "on_boundary":
            out[col] = pd.array([bool(v) if v is not None else None for v in values], "boolean")
        elif col == "distance_m":
            out[col] = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(float)
            out.loc[owners["locate_status"].to_numpy() == "inside", col] = np.nan
        else:
            out[col] = [v if isinstance(v, str) and v else None for v in values]
    return out
