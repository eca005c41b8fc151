"""The gazetteer's levels, their precision (GB/T 37149) and the words that mark them."""

from __future__ import annotations

LEVELS = {
    "province": "省",
    "city": "市",
    "district": "区县",
    "town": "乡镇/街道",
    "village": "村/社区",
    "grid": "网格",
    "unit": "单元",
    "road": "道路街巷",
    "group": "村民小组",
    "house": "门牌",
    "building": "楼牌",
    "area": "地片",
    "poi": "兴趣点",
}
"""Level code -> label: the vocabulary of the gazetteer layer's `level` field."""

PRECISION = {
    "province": "区县",
    "city": "区县",
    "district": "区县",
    "town": "乡镇/街道",
    "village": "村/社区",
    "grid": "地片",
    "unit": "地片",
    "group": "地片",
    "area": "地片",
    "road": "道路街巷",
    "house": "门牌",
    "building": "楼牌",
    "poi": "兴趣点",
}
"""The precision an answer at each level has: GB/T 37149's levels (乡镇/街道, 村/社区, 道路街巷,
地片, 门牌, 楼牌, 兴趣点), and 区县 for an answer no finer than a district. Grids, units and
村民小组 are named areas (地片)."""

ADMIN = ("province", "city", "district", "town", "village")
"""The administrative levels, outermost first: an address names them in this order."""

POINT_LIKE = ("house", "building", "poi", "road")
"""Levels answered by a point; the others are areas (their polygon, when they have one)."""

ALIAS_KINDS = {"former": "曾用名", "short": "简称", "miswriting": "常见误写"}
"""What another name of a place is (the `kind` of an alias row)."""
