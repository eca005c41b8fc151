"""Geocoding quality you can measure: a test set of addresses with known points, written the
many ways people write them, drawn from a gazetteer file (its points are the truth), and the
scores of an answer set: grid and village hit shares, median error, confident-and-wrong."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.geocode.normalise import normalise

DIGITS_CN = "零一二三四五六七八九"
FULL = str.maketrans("0123456789", "０１２３４５６７８９")
TYPO_CHARS = "荔木兰壶凤霞溪兴宁海清华东西南新安平泉梅桥龙山江湖塘洋岭林坑埔厝坂洲美和福庄前后"
EXTRA_BEFORE = ("福建省壶兰市", "壶兰市", "福建省")
EXTRA_AFTER = ("张三家", "门前", "的一户人家", "旁边那户", "")
RELATIONS = ("旁", "对面", "附近", "旁边", "门口")
HOUSE_VARIANTS = {  # name: weight (the mix of ways of writing an address with a house number)
    "full": 8,
    "no_district": 14,
    "village_only": 12,
    "town_only": 6,
    "chinese_numerals": 10,
    "fullwidth": 7,
    "committee": 5,
    "typo": 8,
    "alias": 6,
    "short_name": 6,
    "extra_words": 8,
    "ordinal": 5,
    "spaces": 5,
    "road_typo": 4,
    "mixed": 6,
}


def chinese(n: int) -> str:
    """12 -> 十二, 20 -> 二十, 105 -> 一百零五 (as people write numbers)."""
    if n < 10:
        return DIGITS_CN[n]
    if n < 20:
        return "十" + (DIGITS_CN[n % 10] if n % 10 else "")
    if n < 100:
        return DIGITS_CN[n // 10] + "十" + (DIGITS_CN[n % 10] if n % 10 else "")
    rest = n % 100
    tail = "" if rest == 0 else ("零" + chinese(rest) if rest < 10 else chinese(rest))
    if 10 <= rest < 20:
        tail = "一" + chinese(rest)
    return DIGITS_CN[n // 100] + "百" + tail


@dataclass
class _Place:
    district: str
    town: str
    village: str
    vcode: str
    kind: str  # group | road | building
    middle: str  # the road or compound name; the group number
    number: str
    lon: float
    lat: float


def _places(g: gpd.GeoDataFrame) -> list[_Place]:
    rows = {r.code: r for r in g.itertuples()}
    out = []
    for r in g[g["level"].isin(["house", "building"])].itertuples():
        parent = rows[r.parent_code]
        village = rows[parent.parent_code]
        if village.level != "village":
            continue
        town = rows[village.parent_code]
        district = rows[town.parent_code]
        kind = {"group": "group", "road": "road", "poi": "building"}[parent.level]
        middle = parent.number if kind == "group" else parent.name
        out.append(
            _Place(
                district.name,
                town.name,
                village.name,
                village.code,
                kind,
                middle,
                r.number,
                r.geometry.x,
                r.geometry.y,
            )
        )
    return out


def _short(name: str) -> str:
    for s in ("社区", "村"):
        if name.endswith(s):
            return name[: -len(s)]
    return name


def _tail(p: _Place, numerals: str = "arabic") -> str:
    n = int(p.number)
    num = chinese(n) if numerals == "chinese" else str(n)
    if p.kind == "group":
        g = int(p.middle)
        group = chinese(g) if numerals == "chinese" else str(g)
        if numerals == "ordinal":
            return f"第{chinese(g)}村民小组{n}号"
        return f"{group}组{num}号"
    word = "栋" if p.kind == "building" else "号"
    if numerals == "ordinal":
        return f"{p.middle}{n}{'幢' if p.kind == 'building' else '号'}"
    return f"{p.middle}{num}{word}"


def make_test_set(
    gazetteer: gpd.GeoDataFrame, seed: int, houses: int = 5000, others: int = 1000
) -> pd.DataFrame:
    """`houses` addresses with house (or building) numbers and `others` landmark and village
    phrases, each with its true point: columns address, lon, lat, variant, numbered (has a
    house number), village (the code of the village it names, else None)."""
    rng = np.random.default_rng([seed, 1414])
    places = _places(gazetteer)
    names = {normalise(str(n)) for n in gazetteer["name"]}
    aliases: dict[str, list[str]] = {}
    for r in gazetteer[gazetteer["alias_of"].notna()].itertuples():
        aliases.setdefault(r.alias_of, []).append(r.name)
    neighbours: dict[str, list[str]] = {}  # town name -> its villages' names
    by_code = dict(zip(gazetteer["code"], gazetteer["name"], strict=True))
    current = gazetteer[(gazetteer["level"] == "village") & gazetteer["alias_of"].isna()]
    for name, parent in zip(current["name"], current["parent_code"], strict=True):
        neighbours.setdefault(by_code[parent], []).append(name)
    roads: dict[str, list[str]] = {}  # town name -> its road names
    for p in places:
        if p.kind == "road":
            roads.setdefault(p.town, [])
            if p.middle not in roads[p.town]:
                roads[p.town].append(p.middle)
    variants = list(HOUSE_VARIANTS)
    weights = np.array(list(HOUSE_VARIANTS.values()), dtype=float)
    rows: list[dict[str, Any]] = []
    for k in rng.choice(len(places), houses, replace=len(places) < houses):
        p = places[int(k)]
        v = str(rng.choice(variants, p=weights / weights.sum()))
        text, names_village = _write(p, v, rng, names, aliases, neighbours, roads)
        if text is None:
            v, (text, names_village) = (
                "no_district",
                _write(p, "no_district", rng, names, aliases, neighbours, roads),
            )
        rows.append(
            {
                "address": text,
                "lon": p.lon,
                "lat": p.lat,
                "variant": v,
                "numbered": True,
                "village": p.vcode if names_village else None,
            }
        )
    rows += _landmarks(gazetteer, rng, others)
    return pd.DataFrame(rows)


def _one_off(a: str, b: str) -> bool:
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) == 1


def _write(
    p: _Place,
    v: str,
    rng: np.random.Generator,
    names: set[str],
    aliases: dict[str, list[str]],
    neighbours: dict[str, list[str]],
    roads: dict[str, list[str]],
) -> tuple[str | None, bool]:
    """The address of `p` written in variant `v`; None when the variant does not apply."""
    d, t, vil = p.district, p.town, p.village
    if v == "full":
        return d + t + vil + _tail(p), True
    if v == "no_district":
        return t + vil + _tail(p), True
    if v == "village_only":
        return vil + _tail(p), True
    if v == "town_only":
        return (t + _tail(p), False) if p.kind == "road" else (None, False)
    if v == "chinese_numerals":
        return t + vil + _tail(p, "chinese"), True
    if v == "fullwidth":
        return (t + vil + _tail(p)).translate(FULL), True
    if v == "committee":
        office = vil[:-1] + "村委会" if vil.endswith("村") else _short(vil) + "居委会"
        return t + office + _tail(p), True
    if v == "typo":  # one character wrong, still nearer its own village than any other
        base = _short(vil)
        for _ in range(20):
            i = int(rng.integers(len(base)))
            c = str(rng.choice(list(TYPO_CHARS)))
            wrong = base[:i] + c + base[i + 1 :] + vil[len(base) :]
            near = [o for o in neighbours[t] if _one_off(wrong, o)]
            if c != base[i] and normalise(wrong) not in names and near == [vil]:
                return t + wrong + _tail(p), True
        return None, False
    if v == "alias":
        other = aliases.get(p.vcode)
        return (t + str(rng.choice(other)) + _tail(p), True) if other else (None, False)
    if v == "short_name":
        return t + _short(vil) + _tail(p), True
    if v == "extra_words":
        return str(rng.choice(EXTRA_BEFORE)) + d + t + vil + _tail(p) + str(
            rng.choice(EXTRA_AFTER)
        ), True
    if v == "ordinal":
        return t + vil + _tail(p, "ordinal"), True
    if v == "spaces":
        return f"{t} {vil}，{_tail(p)}", True
    if v == "road_typo":  # a road's name one character off, still nearest its own road
        if p.kind != "road":
            return None, False
        road, suffix = p.middle[:2], p.middle[2:]
        for _ in range(20):
            i = int(rng.integers(2))
            c = str(rng.choice(list(TYPO_CHARS)))
            wrong = road[:i] + c + road[i + 1 :] + suffix
            near = [o for o in roads[t] if _one_off(wrong, o)]
            if c != road[i] and normalise(wrong) not in names and set(near) == {p.middle}:
                return t + wrong + _tail(p)[len(p.middle) :], False
        return None, False
    if v == "mixed":  # several habits at once
        office = vil[:-1] + "村委会" if vil.endswith("村") else _short(vil) + "居委会"
        tail = _tail(p, "chinese" if rng.random() < 0.5 else "arabic").translate(FULL)
        return f"{t} {office}{tail}{rng.choice(EXTRA_AFTER)}", True
    raise ValueError(v)


def _landmarks(g: gpd.GeoDataFrame, rng: np.random.Generator, n: int) -> list[dict[str, Any]]:
    """Landmark phrases (名胜 + 旁/对面) and villages by name, with their true points."""
    rows = {r.code: r for r in g.itertuples()}
    pois = g[(g["level"] == "poi") & g["parent_code"].notna()]
    villages = g[(g["level"] == "village") & g["alias_of"].isna()]
    out = []
    for _ in range(n):
        if rng.random() < 0.7:
            r = pois.iloc[int(rng.integers(len(pois)))]
            vil = rows[r["parent_code"]]
            town = rows[vil.parent_code]
            text = f"{town.name}{vil.name}{r['name']}{rng.choice(RELATIONS)}"
            variant = "landmark"
        else:
            r = villages.iloc[int(rng.integers(len(villages)))]
            vil = rows[r["code"]]
            town = rows[vil.parent_code]
            text = f"{town.name}{vil.name}"
            variant = "village"
        pt = r["geometry"].representative_point() if variant == "village" else r["geometry"]
        out.append(
            {
                "address": text,
                "lon": pt.x,
                "lat": pt.y,
                "variant": variant,
                "numbered": False,
                "village": vil.code,
            }
        )
    return out


def scores(
    table: pd.DataFrame, truth_grid: np.ndarray, truth_village: np.ndarray, confident: float
) -> dict[str, float]:
    """Shares of a scored test set. `table` holds the test set and its best answers (found,
    grid, answer_village, answer_lon, answer_lat, score); the truths come from elsewhere."""
    found = table["found"].to_numpy(dtype=bool)
    grid_ok = (table["grid"].to_numpy() == truth_grid) & found
    numbered = table["numbered"].to_numpy(dtype=bool)
    names_village = table["village"].notna().to_numpy()
    village_ok = table["answer_village"].to_numpy() == truth_village
    lat0 = np.radians(table["lat"].to_numpy(dtype=float))
    dx = (table["answer_lon"].to_numpy(dtype=float) - table["lon"].to_numpy(dtype=float)) * np.cos(
        lat0
    )
    dy = table["answer_lat"].to_numpy(dtype=float) - table["lat"].to_numpy(dtype=float)
    error = np.hypot(dx, dy) * 111_320.0
    sure = table["score"].fillna(0).to_numpy(dtype=float) >= confident
    return {
        "addresses": float(len(table)),
        "grid_hit_numbered": float(grid_ok[numbered].mean()),
        "village_hit_naming_village": float(village_ok[names_village].mean()),
        "grid_hit_all": float(grid_ok.mean()),
        "median_error_m": float(np.nanmedian(error[found])) if found.any() else float("nan"),
        "confident_wrong": float((sure & ~grid_ok).mean()),
        "not_found": float((~found).mean()),
    }
