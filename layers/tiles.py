"""Vector tiles (MVT via ST_AsMVT) and tile-ready GeoJSON, TileJSON, and a tile cache.

The tile's envelope is transformed once into the tables' SRID (EPSG:4326: Web Mercator
maps rectangles to rectangles, so the transformed envelope is exact) and compared with the
indexed geometry column; only the rows found are simplified to the zoom and projected.
Point layers are capped per tile, and cases below their registry zoom are drawn as counts
per grid from grid_case_counts (kept by triggers), so no tile counts a million rows.

A tile is cached under the versions of the tables it reads (layer_versions, bumped by
triggers in the same transaction as any change), so an edit shows on the next request.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import morecantile
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gis.access.policy import OWN_GRID, figure_limits, row_scope, scope_sql, visible_fields
from gis.access.roles import PUBLIC, Actor
from gis.cases.lifecycle import OPEN
from gis.errors import Forbidden, NotAuthenticated, TileOutOfRange
from gis.registry.layers import get_layer
from gis.registry.model import Layer
from layers.versions import last_versions, versions

EXTENT, BUFFER = 4096, 64  # MVT tile extent and buffer, in tile units
MAX_ZOOM = 22
# The one tile grid (the XYZ tiles of web maps), shared by the server, the bench and the
# page's tile list; the SQL side cuts the same tiles with ST_TileEnvelope.
TMS = morecantile.tms.get("WebMercatorQuad")


SIZES = (256, 512)  # a tile's width in screen pixels: 512 covers four 256-pixel tiles


@dataclass(frozen=True)
class Tile:
    z: int
    x: int
    y: int
    size: int = 256

    def __post_init__(self) -> None:
        if self.size not in SIZES:
            raise TileOutOfRange(f"tile size {self.size}: use 256 or 512 (pixels)")
        if not 0 <= self.z <= MAX_ZOOM:
            raise TileOutOfRange(f"zoom {self.z} is out of range: use 0..{MAX_ZOOM}")
        if not TMS.is_valid(morecantile.Tile(self.x, self.y, self.z)):
            last = TMS.matrix(self.z).matrixWidth - 1
            raise TileOutOfRange(
                f"tile {self.z}/{self.x}/{self.y} does not exist: at zoom {self.z}, "
                f"x and y run from 0 to {last}"
            )

    @property
    def pixel_deg(self) -> float:
        """One pixel of the tile, in degrees of longitude."""
        bounds = TMS.bounds(morecantile.Tile(self.x, self.y, self.z))
        return (bounds.right - bounds.left) / TMS.matrix(self.z).tileWidth / (self.size // 256)

    @property
    def level(self) -> int:
        """The zoom the tile is drawn at, which the layers' zoom rules follow: a 512-pixel
        tile at z shows what four 256-pixel tiles at z + 1 show."""
        return self.z + self.size // 512


def _tile_props(layer: Layer, role: str) -> list[str]:
    out = []
    for f, sql in visible_fields(layer, role, tiles=True):
        # MVT values are strings, numbers and booleans: times and dates go as ISO text.
        if f.json_type in ("date", "date-time"):
            sql = f"to_json({sql}) #>> '{{}}'"
        out.append(f"{sql} AS {f.name}")
    return out


_ENVELOPES = (
    "SELECT ST_TileEnvelope(:z, :x, :y) AS e3857, "
    "ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => :margin), 4326) AS e4326"
)


def _features_sql(layer: Layer, actor: Actor, geom_sql: str) -> tuple[str, dict[str, Any]]:
    scope, binds = scope_sql(layer, actor)
    cols = ", ".join([f"{geom_sql} AS geom", *_tile_props(layer, actor.role)])
    order = (
        f" ORDER BY {layer.field(layer.id_field).expr} DESC LIMIT :cap" if layer.tile_cap else ""
    )
    sql = (
        f"SELECT {cols} FROM {layer.source}, b "
        f"WHERE {layer.where} AND {scope} AND t.geom && b.e4326{order}"
    )
    return sql, binds


def min_count(layer: Layer, actor: Actor) -> int | None:
    """The smallest count the actor may see of this layer's aggregates (policy.figure_limits:
    the public's k); None: every count."""
    limits = figure_limits(layer, actor)
    return int(limits[1]) if limits is not None else None


def aggregate_sql(geom_sql: str, villages: bool, k: int | None = None) -> str:
    """Cases as counts per current grid (or per village), drawn at its label point; with `k`,
    each count from 1 to k-1 is withheld (NULL), as the public's figures are."""
    open_list = ", ".join(f"'{s}'" for s in OPEN)  # the lifecycle's constants
    n, o = "sum(c.n)", f"coalesce(sum(c.n) FILTER (WHERE c.status IN ({open_list})), 0)"
    if k is not None:
        k = int(k)  # a setting, written into the statement as a number
        n = f"CASE WHEN {n} >= {k} THEN {n} END"
        o = f"CASE WHEN {o} = 0 OR {o} >= {k} THEN {o} END"
    sums = f"({n})::bigint AS cases, ({o})::bigint AS open, sum(c.n) AS total"
    if villages:  # from village_case_counts (kept by triggers): a few rows per village
        return (
            f"SELECT {geom_sql} AS geom, r.code AS village_code, s.cases, s.open "
            "FROM regions r CROSS JOIN b CROSS JOIN LATERAL ("
            f"  SELECT {sums} FROM village_case_counts c WHERE c.village_code = r.code) s "
            "WHERE r.level = 'village' AND r.geom && b.e4326 AND r.label_point && b.e4326 "
            "AND s.total > 0"
        )
    return (
        f"SELECT {geom_sql} AS geom, g.code AS grid_code, s.cases, s.open "
        "FROM grids g CROSS JOIN b CROSS JOIN LATERAL ("
        f"  SELECT {sums} FROM grid_case_counts c WHERE c.grid_id = g.id) s "
        "WHERE g.valid_to IS NULL AND g.geom && b.e4326 AND g.label_point && b.e4326 "
        "AND s.total > 0"
    )


def _by_village(layer: Layer, tile: Tile) -> bool:
    return (
        layer.aggregate_villages_below is not None and tile.level < layer.aggregate_villages_below
    )


def _simplified(layer: Layer, tile: Tile) -> str:
    if layer.is_point:
        return "t.geom"
    low = layer.generalised_below is not None and tile.level < layer.generalised_below
    return f"ST_Simplify({'t.geom_lo' if low else 't.geom'}, :tolerance, true)"


def _binds(tile: Tile, layer: Layer, margin: float) -> dict[str, Any]:
    binds: dict[str, Any] = {
        "z": tile.z,
        "x": tile.x,
        "y": tile.y,
        "margin": margin,
        "tolerance": tile.pixel_deg,  # one screen pixel
    }
    if layer.tile_cap:
        binds["cap"] = layer.tile_cap
    return binds


def aggregated(layer: Layer, tile: Tile, actor: Actor = PUBLIC) -> bool:
    """Counts per grid: below the layer's aggregation zoom, and at every zoom for a role
    that may not read its features (the public sees case counts, never cases)."""
    if layer.aggregate_below is None:
        return False
    return tile.level < layer.aggregate_below or not _readable(layer, actor)


def _readable(layer: Layer, actor: Actor) -> bool:
    try:
        scope_sql(layer, actor)
    except (NotAuthenticated, Forbidden):
        return False
    return True


def mvt(conn: Connection, layer: Layer, tile: Tile, actor: Actor = PUBLIC) -> bytes:
    """The layer's Mapbox Vector Tile (possibly empty bytes)."""
    if tile.level < layer.min_zoom:
        return b""
    mvt_geom = "ST_AsMVTGeom(ST_Transform({g}, 3857), b.e3857, {e}, {buf}, true)"
    scope: dict[str, Any] = {}
    if aggregated(layer, tile, actor):
        villages = _by_village(layer, tile)
        point = "r.label_point" if villages else "g.label_point"
        geom = mvt_geom.format(g=point, e=EXTENT, buf=BUFFER)
        inner = aggregate_sql(geom, villages, min_count(layer, actor))
    elif not _readable(layer, actor):
        return b""
    else:
        geom = mvt_geom.format(g=_simplified(layer, tile), e=EXTENT, buf=BUFFER)
        inner, scope = _features_sql(layer, actor, geom)
    sql = (
        f"WITH b AS ({_ENVELOPES}) "
        f"SELECT ST_AsMVT(q, :name, {EXTENT}, 'geom') FROM ({inner}) q WHERE q.geom IS NOT NULL"
    )
    binds = {**_binds(tile, layer, BUFFER / EXTENT), "name": layer.id, **scope}
    return bytes(conn.execute(sa.text(sql), binds).scalar_one() or b"")


def geojson(
    conn: Connection, layer: Layer, tile: Tile, actor: Actor = PUBLIC, clip: bool = True
) -> bytes:
    """The layer's features in the tile (clipped to it plus a buffer), as GeoJSON text."""
    if tile.level < layer.min_zoom:
        return b""
    digits = max(0, min(7, math.ceil(-math.log10(tile.pixel_deg)) + 1))
    margin = BUFFER / EXTENT
    scope: dict[str, Any] = {}
    if aggregated(layer, tile, actor):
        villages = _by_village(layer, tile)
        key = "village_code" if villages else "grid_code"
        point = "r.label_point" if villages else "g.label_point"
        inner = aggregate_sql(point, villages, min_count(layer, actor))
        props = f"json_build_object('{key}', q.{key}, 'cases', q.cases, 'open', q.open)"
        fid = f"q.{key}"
    elif not _readable(layer, actor):
        return b""
    else:
        clipped = "ST_ClipByBox2D({g}, b.e4326)" if clip and not layer.is_point else "{g}"
        inner, scope = _features_sql(layer, actor, clipped.format(g=_simplified(layer, tile)))
        names = [f.name for f, _ in visible_fields(layer, actor.role, tiles=True)]
        props = "json_build_object(" + ", ".join(f"'{n}', q.{n}" for n in names) + ")"
        fid = f"q.{layer.id_field}"
    sql = (  # PostgreSQL's JSON functions build the whole text; no row when the tile is empty
        f"WITH b AS ({_ENVELOPES}) "
        "SELECT json_build_object('type', 'FeatureCollection', 'features', "
        "json_agg(json_build_object('type', 'Feature', 'id', "
        f"{fid}, 'geometry', ST_AsGeoJSON(q.geom, {digits})::json, 'properties', {props})))::text "
        f"FROM ({inner}) q WHERE NOT ST_IsEmpty(q.geom) HAVING count(*) > 0"
    )
    body = conn.execute(sa.text(sql), {**_binds(tile, layer, margin), **scope}).scalar()
    return b"" if body is None else str(body).encode()


def tile_key(
    layer: Layer, tile: Tile, fmt: str, actor: Actor, table_versions: dict[str, int]
) -> str:
    """The cache key and ETag of a tile: its layer, address, format, reader and data versions."""
    stamp = ",".join(f"{t}:{table_versions.get(t, 0)}" for t in layer.reads)
    # Tiles carry public fields only, so readers with the same row scope share a tile.
    scope = row_scope(layer, actor)
    reader = f"{scope}:{actor.grid_code}" if scope == OWN_GRID else scope
    raw = f"{layer.id}/{tile.z}/{tile.x}/{tile.y}@{tile.size}.{fmt}|{reader}|{stamp}"
    return hashlib.blake2b(raw.encode(), digest_size=12).hexdigest()


ENTRY_BYTES = 200  # a cached tile's key and bookkeeping: empty tiles count too


class TileCache:
    """An in-process LRU of tile bodies bounded in bytes; keys carry data versions, so a
    changed layer misses and stale entries age out."""

    def __init__(self, max_bytes: int = 256 << 20) -> None:
        self.max_bytes, self.size = max_bytes, 0
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> bytes | None:
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
            return body

    def put(self, key: str, body: bytes) -> None:
        with self._lock:
            if key in self._items:
                return
            self._items[key] = body
            self.size += len(body) + ENTRY_BYTES
            while self.size > self.max_bytes and self._items:
                _, old = self._items.popitem(last=False)
                self.size -= len(old) + ENTRY_BYTES


CACHE = TileCache()


def render(
    conn: Connection,
    layer_id: str,
    tile: Tile,
    fmt: str,
    actor: Actor = PUBLIC,
    table_versions: dict[str, int] | None = None,
) -> tuple[str, bytes]:
    """(ETag, body) of a tile, from the cache when the layer has not changed."""
    layer = get_layer(layer_id)
    key = tile_key(layer, tile, fmt, actor, table_versions or versions(conn))
    body = CACHE.get(key)
    if body is None:
        if fmt == "mvt":
            body = mvt(conn, layer, tile, actor)
        else:  # "geojson" is clipped to the tile plus a buffer; "geojson-whole" is not
            body = geojson(conn, layer, tile, actor, clip=fmt == "geojson")
        CACHE.put(key, body)
    return key, body


def cached(
    url: str, layer_id: str, tile: Tile, fmt: str, actor: Actor = PUBLIC
) -> tuple[str, bytes] | None:
    """(ETag, body) of a tile from the cache alone, under the data versions last read from the
    database at `url`, for when that database does not answer; None when it is not cached."""
    known = last_versions(url)
    if known is None:
        return None
    key = tile_key(get_layer(layer_id), tile, fmt, actor, known)
    body = CACHE.get(key)
    return None if body is None else (key, body)


def tilejson(
    base: str, layer_id: str, bounds: tuple[float, float, float, float] | None
) -> dict[str, Any]:
    """TileJSON 3.0.0 of a layer's vector tiles."""
    layer = get_layer(layer_id)
    types = {"integer": "Number", "number": "Number", "boolean": "Boolean"}
    fields = {
        f.name: types.get(f.json_type, "String")
        for f, _ in visible_fields(layer, PUBLIC.role, tiles=True)
    }
    if layer.aggregate_below is not None:
        fields.update(grid_code="String", village_code="String", cases="Number", open="Number")
    west, south, east, north = bounds or (-180.0, -85.0511, 180.0, 85.0511)
    min_zoom = layer.min_zoom
    doc: dict[str, Any] = {
        "tilejson": "3.0.0",
        "name": layer.id,
        "description": layer.description,
        "scheme": "xyz",
        "tiles": [f"{base}/tiles/{layer.id}/{{z}}/{{x}}/{{y}}.mvt"],
        "minzoom": min_zoom,
        "maxzoom": layer.max_zoom,
        "bounds": [west, south, east, north],
        "center": [(west + east) / 2, (south + north) / 2, max(min_zoom, 12)],
        "vector_layers": [
            {
                "id": layer.id,
                "description": layer.title,
                "minzoom": min_zoom,
                "maxzoom": layer.max_zoom,
                "fields": fields,
            }
        ],
    }
    if layer.aggregate_below is not None:
        doc["vector_layers"][0]["description"] += (
            f"; below zoom {layer.aggregate_below}, counts per grid (grid_code, cases, open), "
            f"below {layer.aggregate_villages_below} per village (village_code, cases, open); "
            "for the public, counts at every zoom"
        )
    return doc
