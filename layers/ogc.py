"""OGC API - Features, Part 1 (Core, GeoJSON, OpenAPI 3.0) documents, built from the registry.

Pure functions of the layer registry, a connection and the base URL: no HTTP here. The routes
in api/routes/ogc.py call them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import orjson
from sqlalchemy.engine import Connection

from gis.access.policy import may_read_features, scope_sql
from gis.access.roles import PUBLIC, Actor
from gis.registry.layers import LAYERS, get_layer
from gis.registry.model import Layer
from layers import features

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
GEOJSON, JSON, OAS30 = (
    "application/geo+json",
    "application/json",
    "application/vnd.oai.openapi+json;version=3.0",
)
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
]
TITLE = "OneMap (一张图) layers"


def _link(href: str, rel: str, type_: str, title: str = "") -> dict[str, str]:
    link = {"href": href, "rel": rel, "type": type_}
    if title:
        link["title"] = title
    return link


def landing(base: str) -> dict[str, Any]:
    return {
        "title": TITLE,
        "description": "Grids, units, cases, hotspots, parcels and stations of the whole city",
        "links": [
            _link(f"{base}/ogc", "self", JSON, "this document"),
            _link(f"{base}/ogc/openapi", "service-desc", OAS30, "the API definition"),
            _link(f"{base}/docs", "service-doc", "text/html", "the API documentation"),
            _link(f"{base}/ogc/conformance", "conformance", JSON, "conformance classes"),
            _link(f"{base}/ogc/collections", "data", JSON, "the layers"),
        ],
    }


def conformance() -> dict[str, Any]:
    return {"conformsTo": CONFORMANCE}


def collection(
    base: str, layer: Layer, bbox: Sequence[float] | None, times: Sequence[datetime] | None
) -> dict[str, Any]:
    url = f"{base}/ogc/collections/{layer.id}"
    doc: dict[str, Any] = {
        "id": layer.id,
        "title": layer.title,
        "description": layer.description,
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "links": [
            _link(url, "self", JSON, layer.title),
            _link(f"{url}/items", "items", GEOJSON, "features"),
            _link(
                f"{url}/queryables",
                "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                "application/schema+json",
                "queryable properties",
            ),
            _link(f"{base}/tiles/{layer.id}.json", "describedby", JSON, "TileJSON (vector tiles)"),
        ],
    }
    extent: dict[str, Any] = {}
    if bbox is not None:
        extent["spatial"] = {"bbox": [list(bbox)], "crs": CRS84}
    if times is not None:
        if not may_read_features(layer, PUBLIC):
            # collection documents are public: where the public reads no feature, the first and
            # last times are given to the day, so they cannot date a single case
            start, end = (t.astimezone(UTC) for t in times)
            day = timedelta(days=1)
            times = (
                start.replace(hour=0, minute=0, second=0, microsecond=0),
                end.replace(hour=0, minute=0, second=0, microsecond=0) + day,
            )
        extent["temporal"] = {
            "interval": [[t.astimezone(UTC).isoformat().replace("+00:00", "Z") for t in times]],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
        }
    if extent:
        doc["extent"] = extent
    return doc


def collections(conn: Connection, base: str) -> dict[str, Any]:
    return {
        "links": [_link(f"{base}/ogc/collections", "self", JSON, "the layers")],
        "collections": [
            collection(base, layer, features.extent(conn, layer), features.time_extent(conn, layer))
            for layer in LAYERS.values()
        ],
    }


def queryables(base: str, layer: Layer, role: str = "public") -> dict[str, Any]:
    types = {"date": ("string", "date"), "date-time": ("string", "date-time")}
    props: dict[str, Any] = {}
    for p in features.queryables(layer, role).values():
        kind, fmt = types.get(p.json_type, (p.json_type, None))
        entry: dict[str, Any] = {"title": p.name, "type": kind}
        if fmt:
            entry["format"] = fmt
        if p.enum:
            entry["enum"] = list(p.enum)
        if p.description:
            entry["description"] = p.description
        props[p.name] = entry
    return {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": f"{base}/ogc/collections/{layer.id}/queryables",
        "type": "object",
        "title": layer.title,
        "properties": props,
        "additionalProperties": False,
    }


def items_page(
    conn: Connection,
    base: str,
    layer_id: str,
    params: Mapping[str, Sequence[str]],
    actor: Actor = PUBLIC,
) -> str:
    """The items FeatureCollection as text (features are built by PostGIS)."""
    layer = get_layer(layer_id)
    scope_sql(layer, actor)  # 401/403 before the parameters are read
    q = features.parse_items_query(layer, params, actor.role)
    found, matched = features.items(conn, layer, q, actor)
    url = f"{base}/ogc/collections/{layer.id}/items"
    kept = {k: v[0] for k, v in params.items() if k not in ("offset", "limit")}

    def page(offset: int) -> str:
        return f"{url}?{urlencode({**kept, 'limit': q.limit, 'offset': offset})}"

    links = [
        _link(page(q.offset), "self", GEOJSON, "this page"),
        _link(f"{base}/ogc/collections/{layer.id}", "collection", JSON, layer.title),
    ]
    if q.offset + len(found) < matched:
        links.append(_link(page(q.offset + q.limit), "next", GEOJSON, "next page"))
    if q.offset > 0:
        links.append(_link(page(max(0, q.offset - q.limit)), "prev", GEOJSON, "previous page"))
    head = {
        "type": "FeatureCollection",
        "numberMatched": matched,
        "numberReturned": len(found),
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "links": links,
    }
    # The features are PostGIS's GeoJSON texts, embedded as they are.
    return orjson.dumps({**head, "features": [orjson.Fragment(f) for f in found]}).decode()


def item_doc(
    conn: Connection, base: str, layer_id: str, feature_id: str, actor: Actor = PUBLIC
) -> str | None:
    layer = get_layer(layer_id)
    text = features.item(conn, layer, feature_id, actor)
    if text is None:
        return None
    url = f"{base}/ogc/collections/{layer.id}"
    links = [
        _link(f"{url}/items/{feature_id}", "self", GEOJSON, "this feature"),
        _link(url, "collection", JSON, layer.title),
    ]
    return orjson.dumps({**orjson.loads(text), "links": links}).decode()
