"""Cases as files: the case views (already shaped by the access policy) flattened to CSV
(UTF-8 with a BOM, so Excel reads the Chinese) or a GeoJSON FeatureCollection."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

COLUMNS = (
    "id", "category", "category_label", "major_label", "title", "description", "status",
    "address", "lon", "lat", "grid_code", "grid_name", "unit_code", "unit_name",
    "reported_at", "respond_by", "close_by", "responded_at", "closed_at", "overdue",
    "closed_on_time", "source",
)  # fmt: skip
PERSONAL_COLUMNS = ("reporter_name", "reporter_phone", "grid_leader_name", "grid_leader_phone")


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


def to_csv(cases: Iterable[dict[str, Any]], personal: bool) -> bytes:
    """CSV of the case views; `personal`: whether the reader's views carry personal columns."""
    out = io.StringIO()
    writer = csv.DictWriter(out, [*COLUMNS, *(PERSONAL_COLUMNS if personal else ())])
    writer.writeheader()
    for case in cases:
        writer.writerow(flat(case))
    return ("\ufeff" + out.getvalue()).encode()


def to_geojson(cases: Iterable[dict[str, Any]]) -> bytes:
    """A FeatureCollection of the case views (EPSG:4326), properties flattened like the CSV."""
    features = [
        {
            "type": "Feature",
            "id": c["id"],
            "geometry": {"type": "Point", "coordinates": [c["lon"], c["lat"]]},
            "properties": flat(c),
        }
        for c in cases
    ]
    return json.dumps(
        {"type": "FeatureCollection", "features": features}, ensure_ascii=False
    ).encode()
