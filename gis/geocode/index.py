"""The gazetteer in memory for geocoding: names to entries, numbered children (组, 号, 栋), each
entry's chain of parents and owner in the current plan, grid shares of areas, and the house
points per grid for reverse geocoding. Built from the table and the plan's owner index."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gis.crs.systems import transformer
from gis.geocode.levels import ADMIN
from gis.owners.index import OwnerIndex
from gis.owners.levels import LEVELS

VERSION_SQL = sa.text("SELECT version FROM layer_versions WHERE tbl = 'gazetteer'")
ROWS_SQL = sa.text(
    "SELECT id, code, name, level, kind, number, parent_id, alias_of, valid_to, norm, "
    "ST_X(geom) AS lon, ST_Y(geom) AS lat, "
    "CASE WHEN area IS NOT NULL AND level NOT IN ('village', 'town', 'district') "
    "THEN ST_AsBinary(area) END AS area FROM gazetteer ORDER BY id"
)
NUMBERED = ("group", "house", "building")  # found by their parent and number, not by name
LEVEL_WORDS = ("街道", "社区", "大道", "镇", "乡", "村", "区", "县", "路", "街", "巷", "市", "省")
SUFFIXES = ("街道", "社区", "镇", "村", "区", "乡", "县")  # stripped for short names
SHORT_LEVELS = ("district", "town", "village")
MAX_SHARES = 20


class GazetteerIndex:
    """The gazetteer's entries as arrays and dictionaries, with owners from `plan`."""

    def __init__(self, conn: Connection, plan: OwnerIndex) -> None:
        self.version = f"{conn.execute(VERSION_SQL).scalar_one()}|{plan.version}"
        self.plan = plan
        rows = conn.execute(ROWS_SQL).mappings().all()
        self.n = len(rows)
        pos = {r["id"]: i for i, r in enumerate(rows)}
        self.code = [r["code"] for r in rows]
        self.name = [r["name"] for r in rows]
        self.level = [r["level"] for r in rows]
        self.kind = [r["kind"] for r in rows]
        self.norm = [r["norm"] for r in rows]
        self.number = [r["number"] for r in rows]
        self.parent = [pos.get(r["parent_id"], -1) for r in rows]
        self.place = [pos.get(r["alias_of"], i) for i, r in enumerate(rows)]  # alias -> named
        self.alias_kind = [r["kind"] if r["alias_of"] else None for r in rows]
        self.valid_to = [r["valid_to"] for r in rows]
        self.lon = np.array([r["lon"] for r in rows], dtype=float)
        self.lat = np.array([r["lat"] for r in rows], dtype=float)
        self.area = {i: shapely.from_wkb(bytes(r["area"])) for i, r in enumerate(rows) if r["area"]}
        self.by_code = {c: i for i, c in enumerate(self.code)}
        self._names()
        self._chains()
        self._owners()
        self._per_grid()

    def _names(self) -> None:
        self.names: dict[str, list[int]] = defaultdict(list)
        self.children: dict[tuple[int, str, str], int] = {}
        self.fuzzy: dict[tuple[str, int], list[int]] = defaultdict(list)
        for i in range(self.n):
            if self.level[i] in NUMBERED and self.number[i]:
                self.children[(self.parent[i], self.level[i], self.number[i])] = i
                continue
            self.names[self.norm[i]].append(i)
            for w in LEVEL_WORDS:
                if self.norm[i].endswith(w):
                    self.fuzzy[(w, len(self.norm[i]))].append(i)
                    break
        self.short: dict[str, list[int]] = defaultdict(list)
        for i in range(self.n):
            if self.level[self.place[i]] not in SHORT_LEVELS:
                continue
            for s in SUFFIXES:
                base = self.norm[i][: -len(s)]
                if self.norm[i].endswith(s) and len(base) >= 2 and base not in self.names:
                    self.short[base].append(i)
                    break
        self.max_len = max((len(k) for k in self.names), default=1)
        # text -> (entry, place, how it names it) for every name and short name
        self.lookup: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
        for text, entries in self.names.items():
            for e in entries:
                kind = self.alias_kind[e]
                how = (
                    "name"
                    if kind is None
                    else kind
                    if kind in ("miswriting", "short")
                    else "former"
                )
                self.lookup[text].append((e, self.place[e], how))
        for text, entries in self.short.items():
            self.lookup[text] += [(e, self.place[e], "short") for e in entries]
        # names ending in a level word, keyed with one character of the name before that
        # word blanked (阳?村): the names one character off a text are a few lookups away
        self.one_off: dict[str, list[int]] = defaultdict(list)
        for (word, _), entries in self.fuzzy.items():
            for e in entries:
                base = self.norm[e][: -len(word)]
                for k in range(len(base)):
                    self.one_off[base[:k] + "?" + self.norm[e][k + 1 :]].append(e)
        # every proper prefix of a name: a scan stops as soon as the text leaves them all
        self.prefixes = {k[:j] for k in (*self.names, *self.short) for j in range(1, len(k))}
        self._shares: dict[int, list[dict[str, Any]]] = {}
        self._owner_of: dict[int, dict[str, Any]] = {}

    def _chains(self) -> None:
        """Each place's parents up the chain, and its district, town and village."""
        self.ancestors: list[tuple[int, ...]] = []
        self.admin: list[dict[str, int]] = []
        for i in range(self.n):
            chain, p, seen = [], self.parent[self.place[i]], {i}
            while p >= 0 and p not in seen:
                chain.append(p)
                seen.add(p)
                p = self.parent[self.place[p]]
            self.ancestors.append(tuple(chain))
            own = self.place[i]
            self.admin.append({self.level[a]: a for a in (own, *chain) if self.level[a] in ADMIN})

    def _owners(self) -> None:
        o = self.plan.owners(self.lon, self.lat)
        self.owners = o
        self.grid = np.where(o.status == "outside", -1, o.grid)

    def _per_grid(self) -> None:
        """House (else any point) entries per grid, in metres, for the reverse answer."""
        houses = [i for i in range(self.n) if self.level[i] in ("house", "building", "poi")]
        by_grid: dict[int, list[int]] = defaultdict(list)
        for i in houses:
            if self.grid[i] >= 0:
                by_grid[int(self.grid[i])].append(i)
        self.to_metric = transformer(4326, self.plan.metric_epsg)
        x, y = self.to_metric.transform(self.lon, self.lat)
        self.xy = np.column_stack([x, y])
        rank = {"house": 0, "building": 1, "poi": 2}
        self.in_grid = {
            g: np.array(sorted(ix, key=lambda i: rank[self.level[i]]), dtype=np.int64)
            for g, ix in by_grid.items()
        }
        self.rank = np.array([rank.get(self.level[i], 3) for i in range(self.n)])

    def owner_of(self, i: int) -> dict[str, Any]:
        """The owner chain (district to unit: code and name) of an entry's point (a copy)."""
        got = self._owner_of.get(i)
        if got is None:
            d = self.plan.describe(self.owners, i, float(self.lon[i]), float(self.lat[i]))
            got = self._owner_of[i] = {lv: d.as_dict()[lv] for lv in LEVELS}
        return {lv: dict(v) if v else None for lv, v in got.items()}

    def shares(self, i: int) -> list[dict[str, Any]]:
        """The grids an area entry covers, largest share first (at most MAX_SHARES)."""
        if i not in self._shares:
            self._shares[i] = self._grid_shares(i)
        return self._shares[i]

    def _grid_shares(self, i: int) -> list[dict[str, Any]]:
        own = self.place[i]
        level, code = self.level[own], self.code[own]
        plan = self.plan
        if level in ("district", "town", "village"):
            cols = plan.columns[f"{level}_code"][:-1]
            idx = np.flatnonzero(cols == code)
            areas = shapely.area(plan.grid_metric[idx])
        elif own in self.area:
            poly = self.area[own]
            t = self.to_metric
            metric = shapely.transform(poly, lambda xy: np.column_stack(t.transform(*xy.T)))
            idx = plan.grid_metric_tree.query(metric, predicate="intersects")
            inter = shapely.intersection(plan.grid_metric[idx], metric)
            areas = shapely.area(inter)
            keep = areas > 0
            idx, areas = idx[keep], areas[keep]
        else:
            return []
        total = float(areas.sum()) or 1.0
        order = np.argsort(-areas)[:MAX_SHARES]
        return [
            {
                "code": plan.grid_rows[int(idx[k])]["code"],
                "name": plan.grid_rows[int(idx[k])]["name"],
                "share": round(float(areas[k]) / total, 4),
            }
            for k in order
        ]

    def address(self, i: int) -> str:
        """The place's full written address: district down to the place (网格 and 单元 only
        when they are the place itself)."""
        own = self.place[i]
        parts = [own, *self.ancestors[i]]
        skip = ("province", "city", "grid", "unit")
        words = [self.name[p] for p in reversed(parts) if p == own or self.level[p] not in skip]
        return "".join(words)
