"""Codes and names of the demo city's areas (national statistical codes, top-down), leaders and
households, and the GeoDataFrames the areas become."""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from gis.demo.areas import LEVELS, SPECIAL_TOWN, Area
from gis.demo.names import NameMaker

CITY_PREFIX = "3599"  # province 35 (Fujian), city 99: a code no real city uses


def assign_codes(
    areas: dict[tuple[int, ...], Area],
    special: tuple[int, int] | None,
    rng: np.random.Generator,
    names: NameMaker,
) -> dict[tuple[int, ...], str]:
    """Statistical codes and names, top-down; returns each town's and village's kind."""
    kinds: dict[tuple[int, ...], str] = {}
    ordered = sorted(areas, key=lambda p: (len(p), p))
    seq: dict[tuple[tuple[int, ...], str], int] = {}
    for p in ordered:
        a = areas[p]
        parent = areas[p[:-1]] if len(p) > 1 else None
        if len(p) == 1:
            a.code = f"{CITY_PREFIX}{p[0] + 1:02d}000000"
            a.name = names.place("区")
        elif len(p) == 2:
            kind = "town" if p == special or rng.random() < 0.6 else "street"
            kinds[p] = kind
            base = 100 if kind == "town" else 0
            n = seq[(p[:-1], kind)] = seq.get((p[:-1], kind), 0) + 1
            assert parent is not None
            a.code = f"{parent.code[:6]}{base + n:03d}000"
            a.name = (
                SPECIAL_TOWN[0] if p == special else names.place("镇" if kind == "town" else "街道")
            )
        elif len(p) == 3:
            town_kind = kinds[p[:2]]
            is_village = (
                p[:2] == special
                or (town_kind == "town" and rng.random() < 0.85)
                or (town_kind == "street" and rng.random() < 0.1)
            )
            kind = "village" if is_village else "community"
            kinds[p] = kind
            base = 200 if kind == "village" else 0
            n = seq[(p[:-1], kind)] = seq.get((p[:-1], kind), 0) + 1
            assert parent is not None
            a.code = f"{parent.code[:9]}{base + n:03d}"
            a.name = names.place("村" if kind == "village" else "社区")
        elif len(p) == 4:
            assert parent is not None
            a.code = f"{parent.code}{p[-1] + 1:03d}"
            a.name = f"{parent.name}第{p[-1] + 1}网格"
        else:
            assert parent is not None
            a.code = f"{parent.code}{p[-1] + 1:03d}"
            a.name = f"{parent.name}{p[-1] + 1}单元"
    return kinds


def frames(
    areas: dict[tuple[int, ...], Area], names: NameMaker, rng: np.random.Generator
) -> dict[str, gpd.GeoDataFrame]:
    """One GeoDataFrame per level (EPSG:4326), with the fields the import reads."""
    out = {}
    for depth, layer in enumerate(LEVELS, start=1):
        rows = []
        for p in sorted(p for p in areas if len(p) == depth):
            a = areas[p]
            row: dict[str, object] = {
                "code": a.code,
                "name": a.name,
                "parent_code": areas[p[:-1]].code if depth > 1 else None,
            }
            if layer in ("grids", "units"):
                row["leader_name"] = names.person()
                row["leader_phone"] = names.phone()
            if layer == "units":
                households = int(rng.integers(15, 90))
                row["households"] = households
                row["party_contacts"] = int(rng.binomial(households, 0.12))
            row["geometry"] = a.geom
            rows.append(row)
        out[layer] = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    return out
