"""Grid-plan quality checks: invalid shapes, overlaps, gaps, children outside parents, duplicates.

The checks run on GeoDataFrames, so a plan can be checked as files before it is imported and
as it stands in the database; areas are in m² in the local CGCS2000 Gauss-Krüger zone.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy.engine import Engine

from gis.crs.systems import is_storage, local_metric_epsg, to_storage, transformer

LEVELS = ("districts", "towns", "villages", "grids", "units")
DEFAULT_MIN_AREA_M2 = 0.01


@dataclass(frozen=True)
class Finding:
    """One defect: which check, where (lon, lat), how big, and which codes are involved."""

    check: str
    layer: str
    codes: tuple[str, ...]
    lon: float
    lat: float
    area_m2: float | None
    detail: str

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["codes"] = list(self.codes)
        return d


class _Plan:
    """The layers of a plan in metric coordinates, with a way back to lon/lat for reporting."""

    def __init__(self, frames: dict[str, gpd.GeoDataFrame]) -> None:
        self.frames = {k: v.reset_index(drop=True) for k, v in frames.items() if k in LEVELS}
        all_bounds = np.array([f.total_bounds for f in self.frames.values() if len(f)])
        lon = (
            float((all_bounds[:, 0].min() + all_bounds[:, 2].max()) / 2) if len(all_bounds) else 120
        )
        self.epsg = local_metric_epsg(lon)
        fwd = transformer(4326, self.epsg)
        self.back = transformer(self.epsg, 4326)
        self.metric: dict[str, np.ndarray] = {}
        for name, frame in self.frames.items():
            geoms = np.asarray(frame.geometry.values, dtype=object)
            self.metric[name] = shapely.transform(
                geoms, lambda xy, t=fwd: np.column_stack(t.transform(xy[:, 0], xy[:, 1]))
            )

    def lonlat(self, geom: shapely.Geometry) -> tuple[float, float]:
        p = shapely.point_on_surface(geom) if not geom.is_empty else shapely.Point(0, 0)
        lon, lat = self.back.transform(p.x, p.y)
        return round(float(lon), 7), round(float(lat), 7)


def _invalid(plan: _Plan, layer: str) -> list[Finding]:
    out = []
    frame, geoms = plan.frames[layer], plan.metric[layer]
    valid = shapely.is_valid(geoms)
    for i in np.flatnonzero(~valid).tolist():
        reason = shapely.is_valid_reason(frame.geometry.iat[i])
        m = re.search(r"\[([-\d.eE]+) ([-\d.eE]+)\]", reason or "")
        lon, lat = (float(m.group(1)), float(m.group(2))) if m else plan.lonlat(geoms[i])
        out.append(
            Finding("invalid_geometry", layer, (str(frame["code"].iat[i]),), lon, lat, None, reason)
        )
    return out


def _duplicates(plan: _Plan, layer: str) -> list[Finding]:
    frame = plan.frames[layer]
    counts = frame["code"].value_counts()
    out = []
    for code in counts[counts > 1].index:
        idx = np.flatnonzero(frame["code"].to_numpy() == code)
        lon, lat = plan.lonlat(plan.metric[layer][idx[0]])
        out.append(
            Finding(
                "duplicate_code",
                layer,
                (str(code),),
                lon,
                lat,
                None,
                f"{len(idx)} features share code {code} (rows {', '.join(str(i + 1) for i in idx)})",
            )
        )
    return out


def _overlaps(plan: _Plan, layer: str, min_area: float) -> list[Finding]:
    frame, geoms = plan.frames[layer], plan.metric[layer]
    ok = shapely.is_valid(geoms)
    idx = np.flatnonzero(ok)
    tree = shapely.STRtree(geoms[idx])
    left, right = tree.query(geoms[idx], predicate="intersects")
    keep = left < right
    a, b = idx[left[keep]], idx[right[keep]]
    inner = ~shapely.touches(geoms[a], geoms[b])
    a, b = a[inner], b[inner]
    shared = shapely.intersection(geoms[a], geoms[b])
    areas = shapely.area(shared)
    out = []
    for i, j, g, area in zip(a, b, shared, areas, strict=True):
        if area > min_area:
            ci, cj = str(frame["code"].iat[i]), str(frame["code"].iat[j])
            lon, lat = plan.lonlat(g)
            out.append(
                Finding(
                    "overlap",
                    layer,
                    (ci, cj),
                    lon,
                    lat,
                    round(float(area), 2),
                    f"{layer} {ci} and {cj} overlap by {area:,.2f} m²",
                )
            )
    return out


def _pieces(
    plan: _Plan, geom: shapely.Geometry, min_area: float
) -> list[tuple[float, float, float]]:
    """(lon, lat, m²) of each part of `geom` larger than `min_area`."""
    out = []
    for part in shapely.get_parts(geom):
        area = float(part.area)
        if area > min_area:
            lon, lat = plan.lonlat(part)
            out.append((lon, lat, round(area, 2)))
    return out


def _parent_child(
    plan: _Plan, parent_layer: str, child_layer: str, min_area: float
) -> list[Finding]:
    """Gaps inside parents no child covers, children outside their parent, orphans."""
    parents, children = plan.frames[parent_layer], plan.frames[child_layer]
    pgeoms, cgeoms = plan.metric[parent_layer], plan.metric[child_layer]
    pvalid, cvalid = shapely.is_valid(pgeoms), shapely.is_valid(cgeoms)
    parent_index = {str(c): i for i, c in enumerate(parents["code"].tolist())}
    by_parent: dict[int, list[int]] = {}
    out = []
    child_name, parent_name = child_layer[:-1], parent_layer[:-1]
    for j, (code, parent_code) in enumerate(
        zip(children["code"].astype(str), children["parent_code"].astype(str), strict=True)
    ):
        i = parent_index.get(parent_code)
        if i is None:
            lon, lat = plan.lonlat(cgeoms[j])
            out.append(
                Finding(
                    "unknown_parent",
                    child_layer,
                    (code,),
                    lon,
                    lat,
                    None,
                    f"{child_name} {code} names {parent_name} {parent_code}, which does not exist",
                )
            )
            continue
        by_parent.setdefault(i, []).append(j)
        if not (cvalid[j] and pvalid[i]):
            continue
        outside = shapely.difference(cgeoms[j], pgeoms[i])
        for lon, lat, area in _pieces(plan, outside, min_area):
            out.append(
                Finding(
                    f"{child_name}_outside_{parent_name}",
                    child_layer,
                    (code, parent_code),
                    lon,
                    lat,
                    area,
                    f"{area:,.2f} m² of {child_name} {code} lie outside its {parent_name} {parent_code}",
                )
            )
    for i, pcode in enumerate(parents["code"].astype(str).tolist()):
        if not pvalid[i]:
            continue
        members = [j for j in by_parent.get(i, []) if cvalid[j]]
        covered = shapely.union_all(cgeoms[members]) if members else shapely.Polygon()
        gap = shapely.difference(pgeoms[i], covered)
        for lon, lat, area in _pieces(plan, gap, min_area):
            out.append(
                Finding(
                    "gap",
                    child_layer,
                    (pcode,),
                    lon,
                    lat,
                    area,
                    f"{area:,.2f} m² of {parent_name} {pcode} are in no {child_name}",
                )
            )
    return out


def check_plan(
    frames: dict[str, gpd.GeoDataFrame], min_area_m2: float = DEFAULT_MIN_AREA_M2
) -> list[Finding]:
    """Every finding for the boundary layers given (any of districts … units)."""
    plan = _Plan(frames)
    findings: list[Finding] = []
    present = [layer for layer in LEVELS if layer in plan.frames]
    for layer in present:
        findings += _invalid(plan, layer)
        findings += _duplicates(plan, layer)
        findings += _overlaps(plan, layer, min_area_m2)
    for parent, child in zip(LEVELS, LEVELS[1:], strict=False):
        if parent in plan.frames and child in plan.frames:
            findings += _parent_child(plan, parent, child, min_area_m2)
    return findings


def check_files(folder: Path, min_area_m2: float = DEFAULT_MIN_AREA_M2) -> list[Finding]:
    """Check a plan given as {districts,…,units}.{geojson,gpkg,shp} files in `folder`."""
    from gis.io.read import read_source

    frames = {}
    for layer in LEVELS:
        for ext in (".geojson", ".gpkg", ".shp"):
            path = folder / f"{layer}{ext}"
            if path.exists():
                source = read_source(path)
                frame = source.frame
                if not is_storage(source.crs):
                    xy = shapely.get_coordinates(frame.geometry.values)
                    lon, lat = to_storage(xy[:, 0], xy[:, 1], source.crs)
                    frame = frame.set_geometry(
                        shapely.set_coordinates(
                            np.asarray(frame.geometry.values, dtype=object).copy(),
                            np.column_stack([lon, lat]),
                        ),
                        crs=4326,
                    )
                frames[layer] = frame
                break
    return check_plan(frames, min_area_m2)


def check_database(engine: Engine, min_area_m2: float = DEFAULT_MIN_AREA_M2) -> list[Finding]:
    """Check the current plan in the database."""
    from gis.io.export import read_layer

    return check_plan({layer: read_layer(engine, layer) for layer in LEVELS}, min_area_m2)


def findings_frame(findings: list[Finding]) -> pd.DataFrame:
    """Findings as a table (for printing and CSV)."""
    return pd.DataFrame(
        [f.as_dict() for f in findings],
        columns=["check", "layer", "codes", "lon", "lat", "area_m2", "detail"],
    )
