"""The demo city's gazetteer, drawn from the seed and consistent with its boundaries: the
hierarchy's names, 村民小组 with house numbers in villages, roads with house numbers in
communities (some road names repeat across towns), residential compounds with buildings,
landmarks (the service stations among them), named areas, and other names of places (former
names, common miswritings) with their dates."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import numpy as np
import shapely

from gis.demo.names import PLACE_CHARS
from gis.demo.things import random_points_in

PROVINCE = ("350000000000", "福建省")
CITY = ("359900000000", "壶兰市")  # the demo city (code prefix 3599: no real city)
COMMON_ROADS = ("人民路", "建设路", "解放路", "新华街", "中山路", "文化街", "胜利路", "东风路")
ROAD_SUFFIXES = ("路", "街", "巷", "大道")
LANDMARKS = {  # kind: names common to many villages (written with the village to be placed)
    "landmark": ("番仔楼", "古榕树", "老党员工作室", "文化礼堂", "老人会", "大队部"),
    "temple": ("天后宫", "关帝庙", "龙潭宫", "凤山寺", "土地庙"),
}
COMPOUNDS = ("小区", "花园", "苑", "新村")
SUFFIXES = ("街道", "社区", "镇", "村", "区", "乡")


def short(name: str) -> str:
    """A place's name without its level word (阳昌村 -> 阳昌, 塘东街道 -> 塘东)."""
    for s in SUFFIXES:
        if name.endswith(s) and len(name) > len(s) + 1:
            return name[: -len(s)]
    return name


class _Rows:
    def __init__(self) -> None:
        self.rows: list[dict[str, object]] = []
        self.names: set[str] = set()

    def add(
        self, code: str, name: str, level: str, geom: object, parent: str | None, **kw: object
    ) -> None:
        self.rows.append(
            {"code": code, "name": name, "level": level, "parent_code": parent, "geometry": geom}
            | kw
        )


class _Pool:
    """Random points inside each grid, drawn at once (one vectorised call), handed out in turn."""

    def __init__(self, geoms: np.ndarray, rng: np.random.Generator, per: int = 120) -> None:
        self.geoms, self.rng = geoms, rng
        drawn = random_points_in(np.repeat(geoms, per), rng).reshape(len(geoms), per)
        self.left = [list(row) for row in drawn]

    def take(self, grids: list[int]) -> list[object]:
        out = []
        for g in grids:
            if not self.left[g]:
                self.left[g] = list(
                    random_points_in(np.repeat(self.geoms[g : g + 1], 50), self.rng)
                )
            out.append(self.left[g].pop())
        return out


def _fresh(rng: np.random.Generator, taken: set[str], suffix: str) -> str:
    for _ in range(1000):
        a, b = rng.choice(list(PLACE_CHARS), 2, replace=False)
        name = f"{a}{b}{suffix}"
        if name not in taken:
            taken.add(name)
            return name
    raise RuntimeError("no fresh name")


def make_gazetteer(
    boundaries: dict[str, gpd.GeoDataFrame], stations: gpd.GeoDataFrame | None, seed: int
) -> gpd.GeoDataFrame:
    """The gazetteer of the demo city (EPSG:4326), with the fields its import reads."""
    rng = np.random.default_rng([seed, 14])
    out = _Rows()
    out.names = {str(n) for f in boundaries.values() for n in f["name"]}
    city = shapely.union_all(np.asarray(boundaries["districts"].geometry.values))
    centre = city.point_on_surface()
    out.add(PROVINCE[0], PROVINCE[1], "province", centre, None)
    out.add(CITY[0], CITY[1], "city", centre, PROVINCE[0])
    for layer, level in (("districts", "district"), ("towns", "town"), ("villages", "village")):
        for r in boundaries[layer].itertuples():
            parent = r.parent_code if isinstance(r.parent_code, str) else CITY[0]
            out.add(r.code, r.name, level, r.geometry, parent)
    for layer, level in (("grids", "grid"), ("units", "unit")):
        f = boundaries[layer]
        for code, name, parent, p in zip(
            f["code"],
            f["name"],
            f["parent_code"],
            shapely.point_on_surface(f.geometry.values),
            strict=True,
        ):
            out.add(code, name, level, p, parent)
    grids = boundaries["grids"]
    by_village: dict[str, list[int]] = {}
    for i, v in enumerate(grids["parent_code"]):
        by_village.setdefault(v, []).append(i)
    pool = _Pool(np.asarray(grids.geometry.values, dtype=object), rng)
    town_roads: dict[str, set[str]] = {}
    towns = dict(zip(boundaries["towns"]["code"], boundaries["towns"]["name"], strict=True))
    for v in boundaries["villages"].itertuples():
        gi = by_village[v.code]
        if int(v.code[9:]) >= 200:
            _groups(out, v.code, gi, pool, rng)
        else:
            _roads(out, v.code, gi, pool, rng, town_roads.setdefault(v.code[:9], set()))
            _compound(out, v.code, v.name, gi, pool, rng)
        _landmarks(out, v.code, v.name, gi, pool, rng)
        _aliases(out, v.code, v.name, v.geometry, rng)
    for code, name in towns.items():
        _town_extras(out, code, name, boundaries["towns"], rng)
    if stations is not None:
        _stations(out, stations, boundaries["villages"])
    frame = gpd.GeoDataFrame(out.rows, geometry="geometry", crs="EPSG:4326")
    for c in ("kind", "number", "alias_of", "valid_from", "valid_to"):
        if c not in frame:
            frame[c] = None
    return frame


def _groups(out: _Rows, vcode: str, gi: list[int], pool: _Pool, rng: np.random.Generator) -> None:
    """村民小组 1..n, each in one grid of the village (every grid has one), with houses."""
    n = max(len(gi), min(15, max(3, 2 * len(gi))))  # at least one group per grid
    where = [gi[k % len(gi)] for k in range(n)]
    centres = pool.take(where)
    for k in range(n):
        gcode = f"{vcode}G{k + 1:02d}"
        out.add(gcode, f"{k + 1}组", "group", centres[k], vcode, number=str(k + 1))
        m = int(rng.integers(8, 26))
        for j, p in enumerate(pool.take([where[k]] * m)):
            out.add(f"{gcode}H{j + 1:03d}", f"{j + 1}号", "house", p, gcode, number=str(j + 1))


def _roads(
    out: _Rows,
    vcode: str,
    gi: list[int],
    pool: _Pool,
    rng: np.random.Generator,
    in_town: set[str],
) -> None:
    """Roads through pairs of the community's grids, houses numbered along each."""
    for k, start in enumerate(range(0, len(gi), 2)):
        span = gi[start : start + 2]
        common = [c for c in COMMON_ROADS if c not in in_town]
        if common and rng.random() < 0.25:
            name = str(rng.choice(common))
        else:
            name = _fresh(rng, out.names, str(rng.choice(ROAD_SUFFIXES)))
        in_town.add(name)
        m = int(rng.integers(12, 36)) * len(span)
        houses = np.array(pool.take([g for g in span for _ in range(m // len(span))]))
        axis = rng.uniform(0, np.pi)
        order = np.argsort(
            shapely.get_x(houses) * np.cos(axis) + shapely.get_y(houses) * np.sin(axis)
        )
        rcode = f"{vcode}R{k + 1:02d}"
        out.add(rcode, name, "road", houses[order[len(order) // 2]], vcode)
        for j, h in enumerate(houses[order]):
            out.add(f"{rcode}H{j + 1:03d}", f"{j + 1}号", "house", h, rcode, number=str(j + 1))
        if rng.random() < 0.15:  # a road renamed: its old name still in use
            old = _fresh(rng, out.names, "路")
            out.add(
                f"{rcode}F1",
                old,
                "road",
                houses[order[len(order) // 2]],
                vcode,
                alias_of=rcode,
                kind="former",
                valid_to=date(2018, 6, 30),
            )


def _compound(
    out: _Rows, vcode: str, vname: str, gi: list[int], pool: _Pool, rng: np.random.Generator
) -> None:
    """One residential compound of the community, its buildings 1..k栋 in one grid."""
    name = _fresh(rng, out.names, str(rng.choice(COMPOUNDS)))
    g = gi[int(rng.integers(len(gi)))]
    k = int(rng.integers(4, 13))
    pts = pool.take([g] * (k + 1))
    ccode = f"{vcode}C01"
    out.add(ccode, name, "poi", pts[0], vcode, kind="residential")
    for b in range(1, k + 1):
        out.add(f"{ccode}B{b:02d}", f"{b}栋", "building", pts[b], ccode, number=str(b))


def _landmarks(
    out: _Rows, vcode: str, vname: str, gi: list[int], pool: _Pool, rng: np.random.Generator
) -> None:
    """A school named after the village, and one or two landmarks whose names repeat."""
    pts = pool.take([int(g) for g in rng.choice(gi, 3)])
    out.add(f"{vcode}P1", f"{short(vname)}小学", "poi", pts[0], vcode, kind="school")
    for j in range(int(rng.integers(1, 3))):
        kind = "landmark" if rng.random() < 0.6 else "temple"
        name = str(rng.choice(LANDMARKS[kind]))
        if any(r["name"] == name and r["parent_code"] == vcode for r in out.rows[-3:]):
            continue
        out.add(f"{vcode}P{j + 2}", name, "poi", pts[j + 1], vcode, kind=kind)


def _aliases(out: _Rows, vcode: str, vname: str, geom: object, rng: np.random.Generator) -> None:
    """Former names (a community that was a village) and common miswritings."""
    point = shapely.point_on_surface(geom)
    if vname.endswith("社区") and rng.random() < 0.4:
        former = f"{short(vname)}村"
        if former not in out.names:
            out.names.add(former)
            year = int(rng.integers(2012, 2022))
            out.add(
                f"{vcode}F1",
                former,
                "village",
                point,
                None,
                alias_of=vcode,
                kind="former",
                valid_to=date(year, 12, 31),
            )
    if rng.random() < 0.15:
        base = short(vname)
        i = int(rng.integers(len(base)))
        wrong = base[:i] + str(rng.choice(sorted(set(PLACE_CHARS) - set(base)))) + base[i + 1 :]
        miswritten = wrong + vname[len(base) :]
        if miswritten not in out.names:
            out.names.add(miswritten)
            out.add(
                f"{vcode}M1", miswritten, "village", point, None, alias_of=vcode, kind="miswriting"
            )


def _town_extras(
    out: _Rows, code: str, name: str, towns: gpd.GeoDataFrame, rng: np.random.Generator
) -> None:
    """A named area (地片) across several grids, and a street's former name as a town."""
    geom = towns.loc[towns["code"] == code, "geometry"].iloc[0]
    centre = random_points_in(np.array([geom], dtype=object), rng)[0]
    area = shapely.intersection(shapely.buffer(centre, 0.006, quad_segs=8), geom)
    label = "工业区" if rng.random() < 0.5 else "片区"
    area_name = f"{short(name)}{label}"
    out.add(f"{code}A01", area_name, "area", area, code, kind=label)
    if name.endswith("街道") and rng.random() < 0.6:
        former = f"{short(name)}镇"
        if former not in out.names:
            out.names.add(former)
            out.add(
                f"{code}F1",
                former,
                "town",
                shapely.point_on_surface(geom),
                None,
                alias_of=code,
                kind="former",
                valid_to=date(2016, 12, 31),
            )


def _stations(out: _Rows, stations: gpd.GeoDataFrame, villages: gpd.GeoDataFrame) -> None:
    """The demo's service stations as landmarks, under the village they stand in."""
    pts = np.asarray(stations.geometry.values, dtype=object)
    tree = shapely.STRtree(np.asarray(villages.geometry.values, dtype=object))
    pt_idx, v_idx = tree.query(pts, predicate="intersects")
    village = dict(zip(pt_idx.tolist(), villages["code"].to_numpy()[v_idx], strict=True))
    for i, (name, kind) in enumerate(zip(stations["name"], stations["kind"], strict=True)):
        out.add(f"S{i + 1:04d}", name, "poi", pts[i], village.get(i), kind=kind)
