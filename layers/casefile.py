"""Cases as files: the case views (already shaped by the access policy) flattened to CSV
(UTF-8 with a BOM, so Excel reads the Chinese) or a GeoJSON FeatureCollection."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from gis.access.policy import HIDDEN, visibility
from gis.cases.sql import CASES

COLUMNS = (
    "id", "category", "category_label", "major_label", "title", "description", "status",
    "address", "lon", "lat", "grid_code", "grid_name", "unit_code", "unit_name",
    "reported_at", "respond_by", "close_by", "responded_at", "closed_at", "overdue",
    "closed_on_time", "source",
)  # fmt: skip
FORMULA = ("=", "+", "-", "@", "\t", "\r")  # a cell starting so is a formula to a spreadsheet


def personal_columns(role: str) -> list[str]:
    """The cases layer's personal fields that `role` may see (the access policy)."""
    return [f.name for f in CASES.fields if f.personal and visibility(CASES, f, role) != HIDDEN]


def _cell(value: Any) -> Any:
    """A value safe to open in Excel: text that would start a formula is quoted with '."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA) else value


def flat(case: dict[str, Any]) -> dict[str, Any]:
    """A case view as one flat row; personal columns only where the view has them."""
    grid, unit = case.get("grid") or {}, case.get("unit") or {}
    row = {k: case.get(k) for k in COLUMNS}
    row.update(
        grid_code=grid.get("code"),
        grid_name=grid.get("name"),
        unit_code=unit.get("code"),
        unit_name=unit.get("name"),
    )
    if "reporter" in case:
        row.update(reporter_name=case["reporter"]["name"], reporter_phone=case["reporter"]["phone"])
    if "leader" in grid:
        row.update(
            grid_leader_name=grid["leader"]["name"], grid_leader_phone=grid["leader"]["phone"]
        )
    return row


def to_csv(cases: Iterable[dict[str, Any]], role: str) -> bytes:
    """CSV of the case views as `role` sees them (personal columns as the policy allows)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, [*COLUMNS, *personal_columns(role)])
    writer.writeheader()
    for case in cases:
        writer.writerow({k: _cell(v) for k, v in flat(case).items()})
    return ("\ufeff" + out.getvalue()).encode()


def to_geojson(cases: Iterable[dict[str, Any]]) -> bytes:
    """A FeatureCollection of the case views (EPSG:4326), properties flattened like the CSV."""
    features = [
        {
            "type": "Feature",
            "id": c["id"],
            "geometry": None
            if c["lon"] is None  # filed by an address not yet placed
            else {"type": "Point", "coordinates": [c["lon"], c["lat"]]},
            "properties": flat(c),
        }
        for c in cases
    ]
    return json.dumps(
        {"type": "FeatureCollection", "features": features}, ensure_ascii=False
    ).encode()
