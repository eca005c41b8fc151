"""The demo city's thematic layers (cases, hotspots, parcels, stations), drawn from the seed.

Points are placed by picking a unit at random (so downtown, where units are small, is dense)
and a random point inside it. Names and people are synthetic.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.demo.names import NameMaker
from gis.registry.vocab import CASE_CATEGORIES

CASE_WEIGHTS = {
    "dispute": 0.22,
    "sanitation": 0.18,
    "road_facility": 0.12,
    "public_safety": 0.10,
    "illegal_construction": 0.08,
    "waterlogging": 0.07,
    "noise": 0.08,
    "fire_hazard": 0.05,
    "livelihood": 0.07,
    "greening": 0.03,
}
CASE_TITLES = {
    "dispute": [
        "邻里噪音纠纷",
        "宅基地边界纠纷",
        "房屋租赁纠纷",
        "婚姻家庭矛盾",
        "土地承包纠纷",
        "物业服务纠纷",
        "劳资欠薪纠纷",
    ],
    "public_safety": ["道路井盖缺失", "广告牌松动", "危房安全隐患", "电线私拉乱接", "护栏损坏"],
    "waterlogging": ["路段积水严重", "地下通道积水", "排水沟堵塞", "雨水箅子堵塞"],
    "illegal_construction": ["违规搭建彩钢棚", "楼顶违建", "占道违建", "私自扩建围墙"],
    "sanitation": ["垃圾清运不及时", "河道漂浮物", "卫生死角", "污水外溢", "占道晾晒"],
    "road_facility": ["路灯不亮", "人行道破损", "交通标志缺失", "路面坑洼"],
    "noise": ["夜间施工扰民", "广场舞噪音", "商铺高音喇叭"],
    "fire_hazard": ["消防通道堵塞", "电动车楼道充电", "灭火器过期", "群租房消防隐患"],
    "livelihood": ["独居老人需帮扶", "低保申请咨询", "医保办理求助", "就业困难求助"],
    "greening": ["树木倒伏", "绿化带毁损", "树枝遮挡路灯"],
}
STATION_KINDS = {  # kind: (share, name suffix, hours)
    "party_service_center": (0.33, "党群服务中心", "08:30-12:00, 14:30-17:30"),
    "convenience_point": (0.33, "便民服务点", "08:00-20:00"),
    "grid_council_hall": (0.17, "网格议事厅", "周二、周五 19:00-21:00"),
    "neighbourhood_center": (0.10, "邻里中心", "07:30-21:30"),
    "elderly_care_center": (0.07, "居家养老服务中心", "08:00-17:30"),
}


def random_points_in(geoms: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One uniformly random point inside each polygon (vectorised rejection sampling)."""
    bounds = shapely.bounds(geoms)
    out = np.empty(len(geoms), dtype=object)
    todo = np.arange(len(geoms))
    while len(todo):
        b = bounds[todo]
        x = rng.uniform(b[:, 0], b[:, 2])
        y = rng.uniform(b[:, 1], b[:, 3])
        hit = shapely.contains_xy(geoms[todo], x, y)
        out[todo[hit]] = shapely.points(x[hit], y[hit])
        todo = todo[~hit]
    return out


def _statuses(age_days: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Plausible stages: recent cases are open, old ones mostly closed."""
    early = np.array(["reported", "registered", "dispatched", "in_progress", "responded"])
    late = np.array(["closed", "evaluated", "closed", "evaluated", "cancelled"])
    p_closed = np.clip(age_days / 20.0, 0.0, 0.97)
    closed = rng.random(len(age_days)) < p_closed
    out = np.where(
        closed,
        rng.choice(late, len(age_days), p=[0.3, 0.45, 0.1, 0.1, 0.05]),
        rng.choice(early, len(age_days)),
    )
    return out


def make_cases(
    units: gpd.GeoDataFrame, n: int, rng: np.random.Generator, now: datetime
) -> gpd.GeoDataFrame:
    """`n` cases over the last 12 months."""
    names = NameMaker(rng)
    pick = rng.integers(0, len(units), n)
    geoms = random_points_in(np.asarray(units.geometry.values, dtype=object)[pick], rng)
    cats = np.array(list(CASE_WEIGHTS))
    category = rng.choice(cats, n, p=np.array(list(CASE_WEIGHTS.values())))
    titles = np.empty(n, dtype=object)
    for c in cats:
        idx = np.flatnonzero(category == c)
        titles[idx] = rng.choice(np.array(CASE_TITLES[c], dtype=object), len(idx))
    age = rng.power(0.8, n) * 365.0
    reported = pd.Timestamp(now) - pd.to_timedelta(age, unit="D")
    unit_names = units["name"].to_numpy()[pick]
    people = np.array([names.person() for _ in range(min(n, 2000))], dtype=object)
    phones = np.array([f"100-0000-{i:04d}" for i in range(10000)], dtype=object)
    frame = pd.DataFrame(
        {
            "category": category,
            "title": titles,
            "description": [
                f"{u}居民反映：{t}，请尽快处理。" for u, t in zip(unit_names, titles, strict=True)
            ],
            "status": _statuses(age, rng),
            "reported_at": reported.floor("s"),
            "reporter_name": rng.choice(people, n),
            "reporter_phone": rng.choice(phones, n),
        }
    )
    return gpd.GeoDataFrame(frame, geometry=geoms, crs="EPSG:4326")


def make_hotspots(
    units: gpd.GeoDataFrame, n: int, rng: np.random.Generator, now: datetime
) -> gpd.GeoDataFrame:
    """`n` waterlogging and hazard spots; one in five is an area rather than a point."""
    pick = rng.integers(0, len(units), n)
    unit_geoms = np.asarray(units.geometry.values, dtype=object)[pick]
    geoms = random_points_in(unit_geoms, rng)
    areas = rng.random(n) < 0.2
    # A small area (about 30-60 m across) kept inside its unit.
    radius = rng.uniform(0.00015, 0.0003, n)
    blobs = shapely.intersection(shapely.buffer(geoms, radius, quad_segs=4), unit_geoms)
    use = areas & (shapely.get_type_id(blobs) == 3)
    geoms[use] = blobs[use]
    kind = np.where(rng.random(n) < 0.75, "waterlogging", "hazard")
    unit_names = units["name"].to_numpy()[pick]
    label = np.where(kind == "waterlogging", "积水点", "隐患点")
    frame = pd.DataFrame(
        {
            "name": [
                f"{u}{lab}{i + 1}" for i, (u, lab) in enumerate(zip(unit_names, label, strict=True))
            ],
            "kind": kind,
            "risk_level": rng.choice(
                ["low", "medium", "high", "severe"], n, p=[0.4, 0.35, 0.2, 0.05]
            ),
            "last_inspected": [
                (now - timedelta(days=int(d))).date() for d in rng.integers(0, 120, n)
            ],
        }
    )
    return gpd.GeoDataFrame(frame, geometry=geoms, crs="EPSG:4326")


def make_parcels(grids: gpd.GeoDataFrame, n: int, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """`n` rotated rectangular parcels; a third are centred on a grid edge, so they straddle."""
    grid_geoms = np.asarray(grids.geometry.values, dtype=object)
    pick = rng.integers(0, len(grids), n)
    centres = random_points_in(grid_geoms[pick], rng)
    straddle = rng.random(n) < 0.35
    edges = shapely.boundary(grid_geoms[pick])
    on_edge = shapely.line_interpolate_point(edges, rng.random(n), normalized=True)
    centres[straddle] = on_edge[straddle]
    polys = []
    for c, w, h, a in zip(
        centres,
        rng.uniform(0.0004, 0.0012, n),
        rng.uniform(0.0003, 0.0008, n),
        rng.uniform(0, np.pi, n),
        strict=True,
    ):
        corners = np.array([[-w, -h], [w, -h], [w, h], [-w, h]]) / 2
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        pts = corners @ rot.T + [c.x, c.y]
        polys.append(shapely.MultiPolygon([shapely.Polygon(np.round(pts, 7))]))
    kind = np.where(rng.random(n) < 0.6, "demolition", "illegal_building")
    status = np.where(
        kind == "demolition",
        rng.choice(["surveyed", "negotiating", "signed", "demolished"], n),
        rng.choice(["surveyed", "rectifying", "demolished"], n),
    )
    names = grids["name"].to_numpy()[pick]
    frame = pd.DataFrame(
        {
            "code": [f"ZQ{2025 + (i % 2)}-{i + 1:04d}" for i in range(n)],
            "name": [
                f"{g}{'征迁' if k == 'demolition' else '违建'}地块{i + 1}"
                for i, (g, k) in enumerate(zip(names, kind, strict=True))
            ],
            "kind": kind,
            "status": status,
        }
    )
    return gpd.GeoDataFrame(frame, geometry=polys, crs="EPSG:4326")


def make_stations(
    villages: gpd.GeoDataFrame, units: gpd.GeoDataFrame, n: int, rng: np.random.Generator
) -> gpd.GeoDataFrame:
    """`n` service stations of several kinds, named after their village or community."""
    names = NameMaker(rng)
    kinds = list(STATION_KINDS)
    kind = rng.choice(kinds, n, p=[STATION_KINDS[k][0] for k in kinds])
    pick = rng.integers(0, len(units), n)
    geoms = random_points_in(np.asarray(units.geometry.values, dtype=object)[pick], rng)
    village_names = dict(zip(villages["code"], villages["name"], strict=True))
    unit_codes = units["code"].to_numpy()[pick]
    rows = []
    for i, (k, ucode) in enumerate(zip(kind, unit_codes, strict=True)):
        village = village_names.get(ucode[:12], "")
        rows.append(
            {
                "name": f"{village}{STATION_KINDS[k][1]}"
                + (f"（{i + 1}）" if k == "convenience_point" else ""),
                "kind": k,
                "hours": STATION_KINDS[k][2],
                "address": f"{village}{int(rng.integers(1, 300))}号",
                "contact_name": names.person(),
                "contact_phone": names.phone(),
            }
        )
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs="EPSG:4326")


def make_things(
    boundaries: dict[str, gpd.GeoDataFrame],
    seed: int,
    now: datetime,
    cases: int = 5000,
    hotspots: int = 200,
    parcels: int = 100,
    stations: int = 300,
) -> dict[str, gpd.GeoDataFrame]:
    """All four thematic layers for the given boundaries."""
    assert set(CASE_WEIGHTS) <= set(CASE_CATEGORIES)
    rng = np.random.default_rng([seed, 1])
    units = boundaries["units"]
    return {
        "cases": make_cases(units, cases, rng, now),
        "hotspots": make_hotspots(units, hotspots, rng, now),
        "parcels": make_parcels(boundaries["grids"], parcels, rng),
        "stations": make_stations(boundaries["villages"], units, stations, rng),
    }
