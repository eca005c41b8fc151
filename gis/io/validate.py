"""Check every row of an import before anything is written; say what is wrong, row by row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import shapely

from gis.crs.systems import InputCRS, is_lonlat, is_storage, to_storage
from gis.errors import InvalidInput, RowError
from gis.io.read import Source
from gis.owners.extent import Extent
from gis.registry.codes import PARENT_LEVEL, code_problem, implied_parent
from gis.registry.model import Field, Layer
from gis.registry.vocab import normalise

LOCAL_TZ = "Asia/Shanghai"
STRINGS = pd.StringDtype("pyarrow")  # vectorised string kernels (strip, len, regex) for big files
GEOM_TYPE_NAMES = {
    0: "Point",
    1: "LineString",
    2: "LinearRing",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}


@dataclass
class Context:
    """What the database already holds that an import is checked against."""

    extent: Extent
    existing_codes: set[str]
    parent_codes: set[str] | None = None


def _column(frame: pd.DataFrame, name: str) -> str | None:
    """The frame's column for field `name`: exact, case-insensitive or Shapefile-truncated."""
    lowered = {str(c).lower(): c for c in frame.columns}
    for candidate in (name, name[:10]):
        if candidate in lowered:
            return str(lowered[candidate])
    return None


class _Collector:
    def __init__(self) -> None:
        self.errors: list[RowError] = []
        self.bad: set[int] = set()

    def add(self, idx: int, fieldname: str, value: object, reason: str) -> None:
        self.errors.append(RowError(idx + 1, fieldname, value, reason))
        self.bad.add(idx)

    def add_many(
        self, mask: np.ndarray, fieldname: str, values: pd.Series | np.ndarray, reason: str
    ) -> None:
        for i in np.flatnonzero(mask).tolist():
            self.add(
                i, fieldname, values[i] if isinstance(values, np.ndarray) else values.iat[i], reason
            )


def _check_geometry(
    geoms: np.ndarray, spec: Layer, epsg: InputCRS, extent: Extent, out: _Collector
) -> np.ndarray:
    """Geometries in EPSG:4326 (2D); problems recorded in `out`."""
    missing = shapely.is_missing(geoms)
    geoms = geoms.copy()
    present = ~missing
    geoms[present] = shapely.force_2d(geoms[present])
    empty = present & shapely.is_empty(np.where(present, geoms, shapely.Point()))
    reported = np.isin(np.arange(len(geoms)), list(out.bad))  # e.g. a CSV cell not a number
    out.add_many(
        (missing | empty) & ~reported,
        "geometry",
        np.full(len(geoms), None),
        "the feature has no geometry",
    )
    ok = present & ~empty
    allowed = set(spec.geometry)
    type_ids = shapely.get_type_id(np.where(ok, geoms, shapely.Point()))
    wrong = ok & ~np.isin(type_ids, [k for k, v in GEOM_TYPE_NAMES.items() if v in allowed])
    for i in np.flatnonzero(wrong).tolist():
        out.add(
            i,
            "geometry",
            GEOM_TYPE_NAMES.get(int(type_ids[i]), "?"),
            f"wrong geometry type; layer {spec.name} takes {' or '.join(spec.geometry)}",
        )
    ok &= ~wrong
    if not is_storage(epsg) and ok.any():

        def fn(xy: np.ndarray) -> np.ndarray:
            lon, lat = to_storage(xy[:, 0], xy[:, 1], epsg)
            return np.column_stack([lon, lat])

        geoms[ok] = shapely.transform(geoms[ok], fn)
    bounds = shapely.bounds(np.where(ok, geoms, shapely.Point(0, 0)))
    finite = np.isfinite(bounds).all(axis=1)
    inside = _inside(bounds, extent)
    swapped = _inside(bounds[:, [1, 0, 3, 2]], extent) & ~inside
    for i in np.flatnonzero(ok & ~inside).tolist():
        x, y = float(bounds[i, 0]), float(bounds[i, 1])
        if not finite[i]:
            out.add(i, "geometry", None, "coordinates are not finite numbers")
        elif swapped[i] and is_lonlat(epsg):
            out.add(
                i,
                "geometry",
                f"({x:.6f}, {y:.6f})",
                "coordinates look swapped (lat, lon): give longitude first, then latitude",
            )
        else:
            where = f"({x:.6f}, {y:.6f})" if is_lonlat(epsg) else f"(lon {x:.6f}, lat {y:.6f})"
            out.add(
                i,
                "geometry",
                where,
                f"outside {extent.describe()}; check the coordinates and the CRS (--crs)",
            )
    ok &= inside
    valid = np.ones(len(geoms), dtype=bool)
    valid[ok] = shapely.is_valid(geoms[ok])
    for i in np.flatnonzero(~valid).tolist():
        out.add(
            i,
            "geometry",
            shapely.is_valid_reason(geoms[i]),
            "invalid geometry; repair it (QGIS: Fix Geometries; PostGIS: ST_MakeValid)",
        )
    return geoms


def _inside(b: np.ndarray, e: Extent) -> np.ndarray:
    return (b[:, 0] >= e.minx) & (b[:, 1] >= e.miny) & (b[:, 2] <= e.maxx) & (b[:, 3] <= e.maxy)


def _parse_times(text: pd.Series) -> pd.Series:
    """Times in LOCAL_TZ; strings without an offset are taken as local (Beijing) time."""
    if pd.api.types.is_datetime64_any_dtype(text):
        if getattr(text.dt, "tz", None) is None:
            return text.dt.tz_localize(LOCAL_TZ, ambiguous="NaT", nonexistent="NaT")
        return text.dt.tz_convert(LOCAL_TZ)
    strings = text.astype(STRINGS)
    aware = strings.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True).fillna(False)
    result = pd.Series(pd.NaT, index=text.index, dtype=f"datetime64[ns, {LOCAL_TZ}]")
    if aware.any():
        parsed = pd.to_datetime(
            strings[aware].astype(object), errors="coerce", format="mixed", utc=True
        )
        result[aware] = parsed.dt.tz_convert(LOCAL_TZ)
    naive = ~aware & strings.notna()
    if naive.any():
        parsed = pd.to_datetime(strings[naive].astype(object), errors="coerce", format="mixed")
        result[naive] = parsed.dt.tz_localize(LOCAL_TZ, ambiguous="NaT", nonexistent="NaT")
    return result


def _check_field(frame: pd.DataFrame, f: Field, out: _Collector) -> pd.Series:
    n = len(frame)
    col = _column(frame, f.name)
    if col is None:
        if f.required:
            raise InvalidInput(
                f"the file has no {f.name!r} column, which layer needs; its columns are "
                f"{', '.join(str(c) for c in frame.columns if c != 'geometry')}"
            )
        return pd.Series([f.default] * n, dtype=object)
    raw = frame[col].reset_index(drop=True)
    if raw.dtype == object or pd.api.types.is_string_dtype(raw):
        text = raw.astype(STRINGS).str.strip()
        text = text.mask(text == "")
    else:
        text = raw
    missing = text.isna().to_numpy()
    if f.required:
        out.add_many(missing, f.name, raw, "missing; this field is required")
    if f.kind == "text":
        values = text.astype(STRINGS)
        if f.max_len:
            too_long = (values.str.len() > f.max_len).fillna(False).to_numpy(dtype=bool)
            out.add_many(too_long, f.name, raw, f"longer than {f.max_len} characters")
        return values.astype(object).where(~missing, None)
    if f.kind == "int":
        num = pd.to_numeric(text, errors="coerce")
        bad = (~missing) & (num.isna() | (num % 1 != 0)).to_numpy()
        out.add_many(bad, f.name, raw, "not a whole number")
        neg = (~missing) & ~bad & (num < 0).to_numpy()
        out.add_many(neg, f.name, raw, "must be zero or more")
        return num.astype("Int64").astype(object).where(~(missing | bad), None)
    if f.kind in ("date", "datetime"):
        parsed = _parse_times(text)
        bad = (~missing) & parsed.isna().to_numpy()
        hint = "YYYY-MM-DD" if f.kind == "date" else "ISO 8601, e.g. 2026-05-01T08:30:00+08:00"
        out.add_many(bad, f.name, raw, f"not a {'date' if f.kind == 'date' else 'time'} ({hint})")
        future = parsed > pd.Timestamp(datetime.now(UTC) + timedelta(days=1))
        out.add_many(future.fillna(False).to_numpy(dtype=bool), f.name, raw, "lies in the future")
        if f.kind == "date":
            return parsed.dt.date.astype(object).where(~(missing | bad), None)
        return parsed.astype(object).where(~(missing | bad), None)
    assert f.vocabulary is not None
    mapping = {u: normalise(f.vocabulary, u) for u in text.dropna().unique()}
    codes = text.map(mapping)
    unknown = (~missing) & codes.isna().to_numpy()
    options = ", ".join(f"{k} ({v})" for k, v in f.vocabulary.items())
    out.add_many(unknown, f.name, raw, f"unknown value; use one of {options}")
    if f.default is not None:
        codes = codes.where(~pd.Series(missing), f.default)
    return codes.astype(object).where(codes.notna(), None)


def _check_codes(values: dict[str, pd.Series], spec: Layer, ctx: Context, out: _Collector) -> None:
    level = spec.level
    codes = values["code"]
    seen: dict[str, int] = {}
    for i, code in enumerate(codes.tolist()):
        if code is None:
            continue
        if level:
            problem = code_problem(level, code)
            if problem:
                out.add(i, "code", code, problem)
                continue
        if code in seen:
            out.add(i, "code", code, f"duplicate code; row {seen[code] + 1} has it too")
            continue
        seen[code] = i
        if code in ctx.existing_codes:
            out.add(
                i,
                "code",
                code,
                "already in the database; remove the row, or delete the existing one first",
            )
    if not level:
        return
    parents = values["parent_code"]
    parent_level = PARENT_LEVEL[level]
    for i, (code, parent) in enumerate(zip(codes.tolist(), parents.tolist(), strict=True)):
        if code is None or i in out.bad and code_problem(level, code):
            continue
        implied = implied_parent(level, code)
        if parent is None:
            parents.iat[i] = implied
            parent = implied
        if parent != implied:
            out.add(
                i,
                "parent_code",
                parent,
                f"does not match the code {code}, which belongs to {parent_level} {implied}",
            )
        elif parent_level and ctx.parent_codes is not None and parent not in ctx.parent_codes:
            out.add(
                i,
                "parent_code",
                parent,
                f"unknown {parent_level}: import the {parent_level}s first, or fix the code",
            )


def validate(source: Source, spec: Layer, ctx: Context) -> tuple[pd.DataFrame, list[RowError]]:
    """The rows ready to write (fields by name, plus `geom` in EPSG:4326) and every problem."""
    frame = source.frame.reset_index(drop=True)
    out = _Collector()
    out.errors.extend(source.errors)
    out.bad.update(e.row - 1 for e in source.errors)
    geoms = _check_geometry(
        np.asarray(frame.geometry.values, dtype=object), spec, source.crs, ctx.extent, out
    )
    values: dict[str, pd.Series] = {}
    for f in spec.import_fields:
        if f.name == "parent_code" and _column(frame, f.name) is None:
            values[f.name] = pd.Series([None] * len(frame), dtype=object)
            continue
        values[f.name] = _check_field(frame, f, out)
    if "code" in values:
        _check_codes(values, spec, ctx, out)
    if spec.name == "units":
        hh, pc = values["households"], values["party_contacts"]
        both = hh.notna() & pc.notna()
        over = both & (pc.where(both, 0).astype(int) > hh.where(both, 0).astype(int))
        out.add_many(
            over.to_numpy(dtype=bool),
            "party_contacts",
            pc,
            "more party-member contact households than households",
        )
    result = pd.DataFrame(values)
    if "MultiPolygon" in spec.geometry and "Point" not in spec.geometry:
        polys = (
            shapely.get_type_id(np.where(shapely.is_missing(geoms), shapely.Point(), geoms)) == 3
        )
        geoms[polys] = [shapely.MultiPolygon([g]) for g in geoms[polys]]
    result["geom"] = geoms
    out.errors.sort(key=lambda e: e.row)
    return result, out.errors
