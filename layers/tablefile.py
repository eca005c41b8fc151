"""Aggregate tables (rows of an area's figures) as CSV: UTF-8 with a BOM so Excel reads the
Chinese, and text that a spreadsheet would take for a formula quoted as casefile does."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from layers.casefile import _cell


def to_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> bytes:
    """CSV of `rows` under `columns` (default: the first row's keys); None is an empty cell."""
    names = list(columns or (rows[0].keys() if rows else ()))
    out = io.StringIO()
    writer = csv.DictWriter(out, names, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return ("\ufeff" + out.getvalue()).encode()
