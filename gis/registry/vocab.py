"""Controlled vocabularies: stable English codes with the Chinese labels people use."""

from __future__ import annotations

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

# Case categories in the two-level scheme of GB/T 30428 (大类/小类), for social-governance
# cases. A case carries its minor class; each major class groups minors. The deadlines are
# defaults (hours to respond, hours to close) that migration 0004 seeds into
# case_categories, where they can be changed (`onemap categories set`).
CASE_MAJORS = {
    "disputes": "矛盾纠纷",
    "safety": "安全隐患",
    "environment": "市容环境",
    "construction": "违法建设",
    "facilities": "市政设施",
    "livelihood": "民生服务",
}
# minor code: (major code, label, respond hours, close hours)
CASE_MINORS = {
    "dispute": ("disputes", "矛盾纠纷", 24, 168),
    "neighbour_dispute": ("disputes", "邻里纠纷", 24, 168),
    "land_dispute": ("disputes", "土地山林纠纷", 48, 720),
    "labour_dispute": ("disputes", "劳资纠纷", 24, 336),
    "public_safety": ("safety", "公共安全隐患", 2, 48),
    "fire_hazard": ("safety", "消防隐患", 2, 24),
    "gas_hazard": ("safety", "燃气隐患", 1, 24),
    "sanitation": ("environment", "环境卫生", 4, 48),
    "noise": ("environment", "噪声扰民", 2, 24),
    "greening": ("environment", "园林绿化", 24, 168),
    "illegal_construction": ("construction", "违法建设", 24, 720),
    "road_facility": ("facilities", "道路设施", 12, 120),
    "waterlogging": ("facilities", "内涝积水", 1, 12),
    "livelihood": ("livelihood", "民生服务", 24, 168),
}
CASE_CATEGORIES = {code: label for code, (_, label, _, _) in CASE_MINORS.items()}


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
