"""OneMap on a remote server: layers through OGC API Features (page by page), owners through
POST /api/v1/locate (Arrow IPC both ways), figures through /api/v1/stats; the server applies the access policy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import geopandas as gpd
import httpx
import pandas as pd
import pyarrow as pa
import shapely.geometry

from gis.access.roles import Actor
from gis.crs.systems import crs_name
from gis.errors import (
    BadParameter,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    OneMapError,
    TooLarge,
)
from gis.owners.model import DEFAULT_TOLERANCE_M
from gis.registry.layers import get_layer
from gis.stats.hotspots import Analysis
from layers.features import MAX_LIMIT
from onemap.client import OneMap, When
from onemap.frames import OWNER_COLUMNS, bbox_text, check_where, points_of, typed, with_owners

BATCH = 10_000  # points per locate request (what the server takes even from the public)
SIGNED_BATCH = 1_000_000  # with a token: 16 MB of Arrow, well within the body limit
ARROW = "application/vnd.apache.arrow.stream"
ERRORS: dict[int, type[OneMapError]] = {
    401: NotAuthenticated,
    403: Forbidden,
    404: NotFound,
    413: TooLarge,
}


class RemoteOneMap(OneMap):
    """A OneMap server at `base` (http://host:port), as the holder of `token`."""

    def __init__(self, base: str, token: str | None, timeout: float = 120.0) -> None:
        self.base = base.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=self.base, headers=headers, timeout=timeout)
        self.anonymous = token is None
        who = self._json("GET", "/api/v1/session")
        self.actor = Actor(who["name"], who["role"], who.get("grid_code"))
        self.page_size = MAX_LIMIT

    def __repr__(self) -> str:
        return f"<OneMap {self.base} as {self.actor.role}>"

    def _send(self, method: str, path: str, **kw: Any) -> httpx.Response:
        try:
            r = self.http.request(method, path, **kw)
        except httpx.TransportError as exc:
            raise OneMapError(f"cannot reach {self.base}: {exc}") from None
        if r.status_code >= 400:
            raise _error(r)
        return r

    def _json(self, method: str, path: str, **kw: Any) -> Any:
        return self._send(method, path, **kw).json()

    def read_layer(
        self,
        name: str,
        bbox: Sequence[float] | None = None,
        where: Mapping[str, Any] | None = None,
        at: When = None,
    ) -> gpd.GeoDataFrame:
        layer = get_layer(name)
        if at is not None:
            raise BadParameter(
                "at",
                "the OGC API serves the current plan only: read older generations through "
                "a local connection (onemap.connect() or a postgresql:// URL)",
            )
        params: dict[str, Any] = {
            "limit": self.page_size,
            **check_where(layer, self.actor.role, where),
        }
        box = bbox_text(bbox)
        if box is not None:
            params["bbox"] = box
        found: list[dict[str, Any]] = []
        url: str | None = f"/ogc/collections/{layer.id}/items"
        query: dict[str, Any] | None = params
        while url is not None:
            doc = self._json("GET", url, params=query)
            found += doc["features"]
            url = next((x["href"] for x in doc["links"] if x["rel"] == "next"), None)
            query = None  # the next link carries them (an empty dict would replace them)
            if not doc["features"]:
                break
        frame = gpd.GeoDataFrame(
            [f["properties"] for f in found],
            geometry=[shapely.geometry.shape(f["geometry"]) for f in found],
            crs="EPSG:4326",
        )
        return typed(frame, layer, self.actor.role)

    def locate(
        self,
        frame: gpd.GeoDataFrame,
        crs: str | int | None = None,
        tolerance_m: float = DEFAULT_TOLERANCE_M,
    ) -> gpd.GeoDataFrame:
        x, y, parsed = points_of(frame, crs)
        # Arrow IPC both ways (the bulk form of POST /api/v1/locate); bad points come back
        # marked, as locally. The public may send at most BATCH points a request.
        step = BATCH if self.anonymous else SIGNED_BATCH
        params = {"crs": crs_name(parsed), "tolerance_m": tolerance_m, "bad_rows": "mark"}
        parts = []
        for start in range(0, len(x), step):
            table = pa.table({"x": x[start : start + step], "y": y[start : start + step]})
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, table.schema) as w:
                w.write_table(table)
            r = self._send(
                "POST",
                "/api/v1/locate",
                params=params,
                content=sink.getvalue().to_pybytes(),
                headers={"Content-Type": ARROW},
            )
            parts.append(pa.ipc.open_stream(r.content).read_all().select(list(OWNER_COLUMNS)))
        owners = pa.concat_tables(parts).to_pandas() if parts else pd.DataFrame()
        return with_owners(frame, owners.reindex(columns=list(OWNER_COLUMNS)))

    def _figures(
        self, what: str, by: str, since: datetime, until: datetime, bottom: int | None
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"by": by, "since": since.isoformat(), "until": until.isoformat()}
        if bottom is not None:
            params["bottom"] = bottom
        areas = self._json("GET", f"/api/v1/stats/{what}", params=params)["areas"]
        return list(areas.values()) if isinstance(areas, dict) else list(areas)

    def _hotspots(self, a: Analysis) -> list[dict[str, Any]]:
        params: dict[str, Any] = {
            "subject": a.subject,
            "permutations": a.permutations,
            "seed": a.seed,
        }
        for name in ("category", "since", "until"):
            value = getattr(a, name)
            if value is not None:
                params[name] = value.isoformat() if isinstance(value, datetime) else value
        return list(self._json("GET", "/api/v1/hotspots", params=params)["grids"])

    def _coverage(
        self, kind: str | None, radius: int | None, level: str, uncovered: bool
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"level": level, "uncovered": str(uncovered).lower()}
        if kind is not None:
            params["kind"] = kind
        if radius is not None:
            params["radius"] = radius
        return list(self._json("GET", "/api/v1/coverage", params=params)["areas"])


def _error(r: httpx.Response) -> OneMapError:
    """The server's problem (RFC 9457 or the OGC API exception) as a domain error."""
    try:
        doc = r.json()
    except ValueError:
        doc = {}
    if isinstance(doc, list):
        doc = doc[0] if doc else {}
    detail = str(doc.get("detail") or doc.get("description") or r.text[:200])
    if r.status_code in (400, 422):
        param = doc.get("parameter")
        return BadParameter(param, detail) if param else InvalidInput(detail)
    return ERRORS.get(r.status_code, OneMapError)(f"{r.status_code}: {detail}")
