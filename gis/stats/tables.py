"""Tables of figures as files people open: CSV (UTF-8 with a BOM, so Excel reads the Chinese)
and Excel (openpyxl), with Chinese headers."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from gis.stats.kpis import LABELS

HEADERS: dict[str, str] = {
    **LABELS,
    "district_code": "区县代码",
    "district_name": "区县名称",
    "town_code": "镇街代码",
    "town_name": "镇街名称",
    "village_code": "村社区代码",
    "village_name": "村社区名称",
    "grid_code": "网格代码",
    "grid_name": "网格名称",
    "unit_code": "单元代码",
    "unit_name": "单元名称",
    "status": "状态",
    "on_boundary": "位于边界",
    "distance_m": "距离(米)",
    "nearest_grid_code": "最近网格代码",
    "locate_error": "定位错误",
    "category": "类别",
    "title": "标题",
    "reported_at": "上报时间",
    "kind": "类型",
    "geometry": "几何(WKT)",
    "points": "点数",
}
"""Column -> Chinese header; columns not named here keep their names."""


def frame_of(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Rows of figures as a frame (lists, such as `withheld`, joined with commas)."""
    frame = pd.DataFrame([dict(r) for r in rows])
    for col in frame.columns:
        if frame[col].map(lambda v: isinstance(v, list)).any():
            frame[col] = frame[col].map(lambda v: ",".join(v) if isinstance(v, list) else v)
    return frame


def chinese(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with Chinese headers (and a geometry column as WKT text)."""
    out = pd.DataFrame(frame).copy()
    for col in out.columns:
        if str(out[col].dtype) == "geometry":
            out[col] = [None if g is None else g.wkt for g in out[col]]
        elif isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.tz_localize(None)  # Excel keeps no time zones
    return out.rename(columns={c: HEADERS.get(str(c), str(c)) for c in out.columns})


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return chinese(frame).to_csv(index=False).encode("utf-8-sig")


def xlsx_bytes(frame: pd.DataFrame, sheet: str = "绩效评价") -> bytes:
    buf = io.BytesIO()
    chinese(frame).to_excel(buf, sheet_name=sheet[:31], index=False, engine="openpyxl")
    return buf.getvalue()
