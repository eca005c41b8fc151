"""OneMap on the local store: PostGIS read with geopandas, the layer registry's fields and the
access policy's SQL (scope_sql, field_sql) — the same rules the OGC API serves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import sqlalchemy as sa

from gis.access.policy import visible_fields
from gis.access.roles import ROLES, Actor
from gis.access.users import authenticate
from gis.errors import BadParameter, InvalidInput
from gis.owners.cache import owner_index
from gis.owners.counts import count_columns
from gis.owners.model import DEFAULT_TOLERANCE_M
from gis.owners.pointcheck import cached_extent, check_points
from gis.registry.layers import get_layer
from gis.stats import coverage as cov
from gis.stats import hotspots as hs
from gis.stats import kpis as kpi
from gis.store.db import database_url, engine_for
from layers import features
from onemap.client import OneMap, When
from onemap.frames import OWNER_COLUMNS, bbox_text, check_where, points_of, typed, with_owners

# A plan generation in force at an instant (grids and units keep valid_from / valid_to).
IN_FORCE = "t.valid_from <= :plan_at AND (t.valid_to IS NULL OR t.valid_to > :plan_at)"
GENERATIONS = ("grids", "units")


class LocalOneMap(OneMap):
    """The local store (a PostGIS database URL, by default the settings')."""

    def __init__(
        self,
        url: str | None,
        token: str | None,
        role: str,
        grid: str | None,
        scheduler: str | None = None,
    ) -> None:
        self.engine = engine_for(url or database_url())
        self.scheduler = scheduler  # locate on Dask when set
        if token is not None:
            with self.engine.connect() as conn:
                self.actor = authenticate(conn, token)
        else:
            if role not in ROLES:
                raise InvalidInput(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
            self.actor = Actor(f"onemap ({role})", role, grid)

    def __repr__(self) -> str:
        where = self.engine.url.render_as_string(hide_password=True)
        return f"<OneMap {where} as {self.actor.role}>"

    def read_layer(
        self,
        name: str,
        bbox: Sequence[float] | None = None,
        where: Mapping[str, Any] | None = None,
        at: When = None,
    ) -> gpd.GeoDataFrame:
        layer = get_layer(name)
        role = self.actor.role
        params = {k: [v] for k, v in check_where(layer, role, where).items()}
        box = bbox_text(bbox)
        if box is not None:
            params["bbox"] = [box]
        q = features.parse_items_query(layer, params, role)  # the OGC API's own checks
        binds: dict[str, Any] = {}
        if at is not None:
            if layer.id not in GENERATIONS:
                raise BadParameter("at", f"only {' and '.join(GENERATIONS)} have plan generations")
            layer = replace(layer, where=IN_FORCE)
            binds["plan_at"] = kpi.instant(at, "at")
        cond, more = features._where(layer, q, self.actor)  # the OGC API's WHERE (policy scope)
        cols = ", ".join(f'{sql} AS "{f.name}"' for f, sql in visible_fields(layer, role))
        order = layer.field(layer.id_field).expr
        # registry and policy SQL only; request values are bound parameters
        sql = f"SELECT {cols}, t.geom AS geometry FROM {layer.source} WHERE {cond} ORDER BY {order}"  # noqa: S608
        with self.engine.connect() as conn:
            frame = gpd.read_postgis(
                sa.text(sql), conn, geom_col="geometry", crs="EPSG:4326", params={**more, **binds}
            )
        return typed(frame, layer, role)

    def locate(
        self,
        frame: gpd.GeoDataFrame,
        crs: str | int | None = None,
        tolerance_m: float = DEFAULT_TOLERANCE_M,
    ) -> gpd.GeoDataFrame:
        x, y, parsed = points_of(frame, crs)
        with self.engine.connect() as conn:
            index = owner_index(conn)
            if self.scheduler is not None:
                from gis.owners.bulk_dask import locate_points

                owned = locate_points(x, y, parsed, index, self.scheduler, tolerance_m)
                return with_owners(frame, owned)
            checked = check_points(x, y, parsed, cached_extent(conn))
        ok = np.array([p is None for p in checked.problems], dtype=bool)
        table = index.table(index.owners(checked.lon[ok], checked.lat[ok], tolerance_m))
        owners = pd.DataFrame({c: np.full(len(x), None, dtype=object) for c in OWNER_COLUMNS})
        for col in OWNER_COLUMNS[:-1]:
            owners.loc[ok, col] = table[col.replace("locate_", "")]
        owners.loc[~ok, "locate_status"] = "error"
        owners["locate_error"] = list(checked.problems)
        return with_owners(frame, owners)

    def count(
        self,
        frame: gpd.GeoDataFrame,
        by: str = "grid",
        columns: Sequence[str] | str = (),
        crs: str | int | None = None,
        tolerance_m: float = DEFAULT_TOLERANCE_M,
    ) -> pd.DataFrame:
        if self.scheduler is None:
            return super().count(frame, by, columns, crs, tolerance_m)
        from gis.owners.bulk import PointColumns
        from gis.owners.bulk_counts import count_points

        count_columns(by, columns, [str(c) for c in frame.columns])
        x, y, parsed = points_of(frame, crs)
        points = pd.DataFrame({c: frame[c].to_numpy() for c in columns})
        points["_x"], points["_y"] = x, y
        with self.engine.connect() as conn:
            index = owner_index(conn)
        return count_points(
            points,
            PointColumns("_x", "_y"),
            parsed,
            index,
            by,
            columns,
            self.scheduler,
            tolerance_m,
        )

    def _figures(
        self, what: str, by: str, since: datetime, until: datetime, bottom: int | None
    ) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            if what == "kpis":
                return kpi.kpis(conn, by, since, until, self.actor)
            return kpi.ranking(conn, by, since, until, self.actor, bottom)

    def _hotspots(self, a: hs.Analysis) -> list[dict[str, Any]]:
        hs.check_period(a, self.actor)
        with self.engine.connect() as conn:
            return hs.records(hs.for_actor(hs.analyse(conn, a), a, self.actor))

    def _coverage(
        self, kind: str | None, radius: int | None, level: str, uncovered: bool
    ) -> list[dict[str, Any]]:
        with self.engine.begin() as conn:  # a stale table is refreshed first
            return cov.table(conn, kind, radius, level, uncovered)
