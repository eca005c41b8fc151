"""What the console's map fetches per view: several layers in one GeoJSON tile (the boundaries,
hotspots, parcels and stations drawn at that zoom), keyed by the plan's version so a browser
may keep it, and the case counts of a whole view in one answer.

Cases change all the time, so they are never in a combined tile: a tile of the other layers
stays valid until one of the tables they read changes (their versions make `plan_version`).
"""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gis.access.policy import row_scope, visible_fields
from gis.access.roles import PUBLIC, PUBLIC_ROLE, Actor
from gis.errors import BadParameter
from gis.registry.layers import LAYERS, get_layer
from layers import tiles
from layers.versions import versions

# The layers a combined tile may carry: all but casework (cases: counts per view instead).
COMBINABLE = tuple(k for k, v in LAYERS.items() if not v.casework)
PLAN_TABLES = tuple(sorted({t for k in COMBINABLE for t in LAYERS[k].reads}))
MAX_VIEW_TILES = 24  # a counts box spans at most this many 256-pixel tiles each way


def plan_version(table_versions: dict[str, int]) -> str:
    """A short stamp of the tables the combinable layers read: a new one after any edit."""
    raw = ",".join(f"{t}:{table_versions.get(t, 0)}" for t in PLAN_TABLES)
    return hashlib.blake2b(raw.encode(), digest_size=6).hexdigest()


def layer_list(raw: str) -> list[str]:
    """The layers asked for (comma-separated, each once, in the given order)."""
    ids: list[str] = []
    for name in (p.strip() for p in raw.split(",")):
        if not name or name in ids:
            continue
        if name not in COMBINABLE:
            get_layer(name)  # an unknown name is a 404 naming the layers there are
            raise BadParameter(
                "layers",
                f"{name!r} changes with every case: draw it from /api/v1/cases/counts.geojson "
                f"or /tiles/{name}/{{z}}/{{x}}/{{y}}.geojson; combinable: {', '.join(COMBINABLE)}",
            )
        ids.append(name)
    if not ids:
        raise BadParameter("layers", f"name one or more of {', '.join(COMBINABLE)}")
    return ids


def shared(ids: list[str], actor: Actor) -> bool:
    """Whether these layers' tiles are the same for every reader (all rows, public fields),
    so any cache may keep them."""
    for i in ids:
        layer = get_layer(i)
        if row_scope(layer, actor) != row_scope(layer, PUBLIC):
            return False
        mine = [f.name for f, _ in visible_fields(layer, actor.role, tiles=True)]
        if mine != [f.name for f, _ in visible_fields(layer, PUBLIC_ROLE, tiles=True)]:
            return False
    return True


def combined(
    conn: Connection, ids: list[str], tile: tiles.Tile, actor: Actor = PUBLIC
) -> tuple[str, str, bytes]:
    """(ETag, plan version, body) of one tile of several layers: a JSON object mapping each
    layer with features there to its FeatureCollection (whole features, simplified to the
    zoom, as /tiles/{layer}/...geojson?clip=false)."""
    current = versions(conn)
    reader = actor if not shared(ids, actor) else PUBLIC
    parts, keys = [], []
    for i in ids:
        key, body = tiles.render(conn, i, tile, "geojson-whole", reader, current)
        keys.append(key)
        if body:
            parts.append(b'"' + i.encode() + b'":' + body)
    etag = hashlib.blake2b("|".join(keys).encode(), digest_size=12).hexdigest()
    return etag, plan_version(current), b"{" + b",".join(parts) + b"}"


def view_counts(
    conn: Connection, bbox: tuple[float, float, float, float], zoom: int, actor: Actor = PUBLIC
) -> dict[str, Any]:
    """The case counts the map draws for a view at `zoom`, as the case tiles would: per
    village below the cases layer's village zoom, else per grid, at the area's label point
    (no case details). The public's counts from 1 to k-1 are null, and `min_count` says k."""
    layer = get_layer("cases")
    k = tiles.min_count(layer, actor)
    features: list[dict[str, Any]] = []
    if zoom < layer.min_zoom:
        return {"type": "FeatureCollection", "min_count": k, "features": features}
    w, s, e, n = bbox
    span = MAX_VIEW_TILES * 360.0 / 2**zoom
    if e - w > span or n - s > span:
        raise BadParameter(
            "bbox",
            f"{e - w:.4f} x {n - s:.4f} degrees is too large for zoom {zoom}: at most "
            f"{span:.4f} degrees each way (zoom out, or ask for a smaller box)",
        )
    villages = layer.aggregate_villages_below is not None and zoom < layer.aggregate_villages_below
    key = "village_code" if villages else "grid_code"
    point = "r.label_point" if villages else "g.label_point"
    sql = (
        "WITH b AS (SELECT ST_MakeEnvelope(:w, :s, :e, :n, 4326) AS e4326) "  # noqa: S608
        f"SELECT ST_X(q.geom) AS x, ST_Y(q.geom) AS y, q.{key} AS code, q.cases, q.open "
        f"FROM ({tiles.aggregate_sql(point, villages, k)}) q"
    )
    for r in conn.execute(sa.text(sql), {"w": w, "s": s, "e": e, "n": n}).mappings():
        features.append(
            {
                "type": "Feature",
                "id": r["code"],
                "geometry": {"type": "Point", "coordinates": [round(r["x"], 6), round(r["y"], 6)]},
                "properties": {key: r["code"], "cases": r["cases"], "open": r["open"]},
            }
        )
    return {"type": "FeatureCollection", "min_count": k, "features": features}
