"""Feature queries over registry layers: parameters checked, SQL built from the registry.

Used by OGC API Features (layers/ogc.py). A request's layer and field names are looked up
in the registry and its values are bound parameters; nothing from a request is spliced
into SQL text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gis.access.policy import scope_sql, visible_fields
from gis.access.roles import PUBLIC, Actor
from gis.errors import BadParameter
from gis.registry.codes import is_digits
from gis.registry.model import Field, Layer
from layers.versions import memo

DEFAULT_LIMIT, MAX_LIMIT = 100, 10_000
MAX_OFFSET = 10_000_000  # past every layer; a larger offset is a mistake (or an attack)
COMMON_PARAMS = ("limit", "offset", "bbox", "datetime", "f")


@dataclass
class ItemsQuery:
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    bbox: tuple[float, float, float, float] | None = None
    interval: tuple[datetime | None, datetime | None] | None = None
    equals: dict[str, str] = field(default_factory=dict)


def _int(name: str, raw: str, low: int, high: int | None = None) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise BadParameter(name, f"{raw[:40]!r} is not an integer") from None
    if value < low:
        raise BadParameter(name, f"must be at least {low}, not {value}")
    if high is not None and value > high:
        raise BadParameter(
            name, f"must be at most {high:,}, not {str(value)[:20]}: narrow the query instead"
        )
    return value


def parse_bbox(raw: str) -> tuple[float, float, float, float]:
    parts = raw.split(",")
    if len(parts) not in (4, 6):
        raise BadParameter("bbox", "give minlon,minlat,maxlon,maxlat (CRS84, 4 numbers)")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        raise BadParameter("bbox", f"{raw[:80]!r} is not a list of numbers") from None
    if len(nums) == 6:
        nums = [nums[0], nums[1], nums[3], nums[4]]
    minx, miny, maxx, maxy = nums
    if not all(math.isfinite(v) for v in nums):
        raise BadParameter("bbox", "numbers must be finite")
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise BadParameter(
            "bbox",
            f"{raw[:80]!r} is not lon/lat in CRS84: longitudes -180..180 come first, "
            "latitudes -90..90 second (were they swapped?)",
        )
    if minx > maxx:
        raise BadParameter(
            "bbox", "minlon is greater than maxlon (boxes across 180° are not served)"
        )
    return minx, miny, maxx, maxy


def _instant(raw: str) -> datetime | None:
    if raw in ("..", ""):
        return None
    text = raw.replace("Z", "+00:00").replace("z", "+00:00")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise BadParameter(
            "datetime", f"{raw[:40]!r} is not RFC 3339 (e.g. 2026-01-01T00:00:00Z)"
        ) from None
    if value.tzinfo is None:
        raise BadParameter("datetime", f"{raw[:40]!r} has no time zone: add Z or +08:00")
    return value


def _interval(raw: str) -> tuple[datetime | None, datetime | None]:
    if "/" in raw:
        start_s, _, end_s = raw.partition("/")
        start, end = _instant(start_s), _instant(end_s)
        if start is None and end is None:
            raise BadParameter("datetime", "an interval needs at least one end")
        if start and end and start > end:
            raise BadParameter("datetime", "the interval's start is after its end")
        return start, end
    if raw in ("..", ""):
        raise BadParameter("datetime", "give an instant or an interval start/end")
    instant = _instant(raw)
    return instant, instant


def parse_items_query(
    layer: Layer, params: Mapping[str, Sequence[str]], role: str = "public"
) -> ItemsQuery:
    """Check a request's parameters against the registry; BadParameter names the culprit."""
    queryable = queryables(layer, role)
    q = ItemsQuery()
    for name, values in params.items():
        if len(values) > 1:
            raise BadParameter(name, "given more than once")
        raw = values[0]
        if name == "limit":
            # Above the maximum the server answers with the maximum (OGC API Features 1.0,
            # /req/core/fc-limit-response-1), as GDAL and QGIS expect.
            q.limit = min(_int(name, raw, 1), MAX_LIMIT)
        elif name == "offset":
            q.offset = _int(name, raw, 0, MAX_OFFSET)
        elif name == "bbox":
            q.bbox = parse_bbox(raw)
        elif name == "datetime":
            if layer.datetime_field is None:
                raise BadParameter(name, f"layer {layer.id!r} has no time; remove datetime")
            q.interval = _interval(raw)
        elif name == "f":
            if raw.lower() not in ("json", "geojson"):
                raise BadParameter(name, f"{raw[:20]!r} is not served; use f=json")
        elif name in queryable:
            prop = queryable[name]
            if prop.enum and raw not in prop.enum:
                raise BadParameter(name, f"{raw[:40]!r} is not one of: {', '.join(prop.enum)}")
            if len(raw) > 200:
                raise BadParameter(name, "longer than 200 characters")
            q.equals[name] = raw
        else:
            allowed = [*COMMON_PARAMS[:3], *(["datetime"] if layer.datetime_field else [])]
            raise BadParameter(
                name[:40],
                f"unknown parameter for {layer.id!r}; use {', '.join(allowed)} or a queryable: "
                f"{', '.join(queryable) or 'none'}",
            )
    return q


def queryables(layer: Layer, role: str = "public") -> dict[str, Field]:
    """The fields of `layer` that `role` may see and filter on."""
    return {f.name: f for f, _ in visible_fields(layer, role) if f.queryable}


def _where(layer: Layer, q: ItemsQuery, actor: Actor) -> tuple[str, dict[str, Any]]:
    scope, binds = scope_sql(layer, actor)
    clauses: list[str] = [layer.where, scope]
    if q.bbox is not None:
        clauses.append(
            "t.geom && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326) AND "
            "ST_Intersects(t.geom, ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326))"
        )
        binds.update(zip(("minx", "miny", "maxx", "maxy"), q.bbox, strict=True))
    if q.interval is not None and layer.datetime_field is not None:
        column = layer.field(layer.datetime_field).expr
        start, end = q.interval
        if start is not None:
            clauses.append(f"{column} >= :dt_start")
            binds["dt_start"] = start
        if end is not None:
            clauses.append(f"{column} <= :dt_end")
            binds["dt_end"] = end
    for i, (name, value) in enumerate(sorted(q.equals.items())):
        column = layer.field(name).expr  # a registry entry: its SQL is ours
        clauses.append(f"{column}::text = :eq{i}")
        binds[f"eq{i}"] = value
    return " AND ".join(clauses), binds


def _select(layer: Layer, role: str) -> str:
    props = ", ".join(f"'{f.name}', {sql}" for f, sql in visible_fields(layer, role))
    fid = layer.field(layer.id_field).expr
    return (
        f"SELECT {fid} AS fid, ST_AsGeoJSON(t.geom, 7) AS geometry, "
        f"json_build_object({props})::text AS properties FROM {layer.source}"
    )


def _feature(fid: Any, geometry: str | None, properties: str) -> str:
    """A GeoJSON Feature around PostGIS's geometry and properties texts (kept as they are)."""
    return orjson.dumps(
        {
            "type": "Feature",
            "id": fid,
            "geometry": None if geometry is None else orjson.Fragment(geometry),  # unlocated
            "properties": orjson.Fragment(properties),
        }
    ).decode()


def items(
    conn: Connection, layer: Layer, q: ItemsQuery, actor: Actor = PUBLIC
) -> tuple[list[str], int]:
    """One page of features (GeoJSON texts, in id order) and how many match in all."""
    role = actor.role
    where, binds = _where(layer, q, actor)
    fid = layer.field(layer.id_field).expr
    rows = conn.execute(
        sa.text(f"{_select(layer, role)} WHERE {where} ORDER BY {fid} LIMIT :lim OFFSET :off"),
        {**binds, "lim": q.limit, "off": q.offset},
    ).all()

    def count() -> int:
        sql = f"SELECT count(*) FROM {layer.source} WHERE {where}"
        return int(conn.execute(sa.text(sql), binds).scalar_one())

    # A client paging through a layer asks for the same count on every page (GDAL: 100
    # pages of a million cases): remembered until the layer changes.
    what = f"count:{layer.id}:{where}:{sorted(binds.items())!r}"
    return [_feature(*row) for row in rows], memo(conn, what, layer.reads, count)


def item(conn: Connection, layer: Layer, feature_id: str, actor: Actor = PUBLIC) -> str | None:
    """One feature's GeoJSON text, or None."""
    scope, binds = scope_sql(layer, actor)
    id_field = layer.field(layer.id_field)
    if id_field.json_type == "integer":
        if not is_digits(feature_id, 18):
            return None
        value: Any = int(feature_id)
    else:
        value = feature_id
    row = conn.execute(
        sa.text(
            f"{_select(layer, actor.role)} WHERE {layer.where} AND {scope} AND {id_field.expr} = :fid"
        ),
        {"fid": value, **binds},
    ).first()
    return _feature(*row) if row else None


def extent(conn: Connection, layer: Layer) -> tuple[float, float, float, float] | None:
    """The layer's CRS84 bounding box, or None when it is empty (remembered until the layer
    changes: on a million cases it takes ~150 ms, and QGIS asks on every connect)."""
    return memo(conn, f"extent:{layer.id}", layer.reads, lambda: _extent(conn, layer))


def time_extent(conn: Connection, layer: Layer) -> tuple[datetime, datetime] | None:
    """The first and last time of a layer with a time, remembered like extent()."""
    if layer.datetime_field is None:
        return None
    return memo(conn, f"time:{layer.id}", layer.reads, lambda: _time_extent(conn, layer))


def _extent(conn: Connection, layer: Layer) -> tuple[float, float, float, float] | None:
    row = conn.execute(
        sa.text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            f"(SELECT ST_Extent(t.geom) AS e FROM {layer.source} WHERE {layer.where}) s"
        )
    ).one()
    return None if row[0] is None else tuple(float(v) for v in row)  # type: ignore[return-value]


def _time_extent(conn: Connection, layer: Layer) -> tuple[datetime, datetime] | None:
    assert layer.datetime_field is not None
    column = layer.field(layer.datetime_field).expr
    row = conn.execute(
        sa.text(f"SELECT min({column}), max({column}) FROM {layer.source} WHERE {layer.where}")
    ).one()
    return None if row[0] is None else (row[0], row[1])
