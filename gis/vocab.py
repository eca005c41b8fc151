"""Controlled vocabularies: stable English codes with the Chinese labels people use."""

from __future__ import annotations

REGION_LEVELS = ("district", "town", "village")

CASE_STATUSES = {
    "reported": "信息收集",
    "registered": "案卷建立",
    "cancelled": "作废",
    "dispatched": "任务派遣",
    "in_progress": "任务处理",
    "responded": "处理反馈",
    "closed": "核查结案",
    "evaluated": "综合评价",
}

# A provisional flat list; the two-level GB/T 30428 scheme arrives with the case lifecycle.
CASE_CATEGORIES = {
    "dispute": "矛盾纠纷",
    "public_safety": "公共安全隐患",
    "waterlogging": "内涝积水",
    "illegal_construction": "违法建设",
    "sanitation": "环境卫生",
    "road_facility": "道路设施",
    "noise": "噪声扰民",
    "fire_hazard": "消防隐患",
    "livelihood": "民生服务",
    "greening": "园林绿化",
}

HOTSPOT_KINDS = {"waterlogging": "内涝点", "hazard": "隐患点"}
RISK_LEVELS = {"low": "低", "medium": "中", "high": "高", "severe": "极高"}

PARCEL_KINDS = {"demolition": "征迁地块", "illegal_building": "违建地块"}
PARCEL_STATUSES = {
    "surveyed": "已摸底",
    "negotiating": "洽谈中",
    "signed": "已签约",
    "demolished": "已拆除",
    "rectifying": "整改中",
}

STATION_KINDS = {
    "party_service_center": "党群服务中心",
    "convenience_point": "便民服务点",
    "grid_council_hall": "网格议事厅",
    "neighbourhood_center": "邻里中心",
    "elderly_care_center": "居家养老服务中心",
}


def normalise(vocabulary: dict[str, str], value: object) -> str | None:
    """The code for `value` given as a code or as its Chinese label; None when unknown."""
    if value is None:
        return None
    text = str(value).strip()
    if text in vocabulary:
        return text
    lowered = text.lower()
    if lowered in vocabulary:
        return lowered
    for code, label in vocabulary.items():
        if label == text:
            return code
    return None
