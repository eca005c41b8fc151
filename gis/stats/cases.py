"""Case statistics per area: the public per-grid counts and the fortnight's ranking figures
(aggregates only, no case details)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gis.access.policy import figure_period
from gis.access.roles import PUBLIC, Actor
from gis.cases.sql import AREA_CODE, CASES, CLOSE_BY, FROM, OPEN_SQL, OVERDUE
from gis.errors import InvalidInput


def counts_by_grid(conn: Connection) -> list[dict[str, Any]]:
    """Per current grid: cases in all and open ones (what the public may see)."""
    rows = conn.execute(
        sa.text(
            f"""
            SELECT g.code, g.name, sum(n)::bigint AS total,
                   coalesce(sum(n) FILTER (WHERE status IN ({OPEN_SQL})), 0)::bigint AS open
              FROM grid_case_counts k JOIN grids g ON g.id = k.grid_id
             WHERE g.valid_to IS NULL
             GROUP BY g.code, g.name ORDER BY g.code
            """
        )
    ).mappings()
    return [dict(r) for r in rows]


STATS_LEVELS = AREA_CODE


def stats(
    conn: Connection,
    level: str,
    since: datetime,
    until: datetime | None = None,
    actor: Actor = PUBLIC,
) -> list[dict[str, Any]]:
    """Per area: cases reported in [since, until), open, overdue, closed and closed on time
    (the on-time rate the city ranks grids by). Aggregates only: no case details. For a reader
    of no single case (the public) the period must be long enough and small counts are
    withheld, so no figure points at one case (gis/access/policy.figure_limits)."""
    limits = figure_period(CASES, actor, since, until or datetime.now(UTC))
    k = limits[1] if limits is not None else None
    key = STATS_LEVELS.get(level)
    if key is None:
        raise InvalidInput(f"unknown level {level[:20]!r}: use one of {', '.join(STATS_LEVELS)}")
    rows = conn.execute(
        sa.text(
            f"""
            SELECT {key} AS code, count(*) AS reported,
                   count(*) FILTER (WHERE t.status IN ({OPEN_SQL})) AS open,
                   count(*) FILTER (WHERE {OVERDUE}) AS overdue,
                   count(*) FILTER (WHERE t.closed_at IS NOT NULL) AS closed,
                   count(*) FILTER (WHERE t.closed_at IS NOT NULL AND t.closed_at <= {CLOSE_BY})
                       AS closed_on_time
              {FROM}
             WHERE g.id IS NOT NULL AND t.reported_at >= :since {"AND t.reported_at < :until" if until else ""}
             GROUP BY 1
             ORDER BY 1
            """
        ),
        {"since": since, "until": until},
    ).mappings()
    out = []
    for r in rows:
        row = dict(r)
        row["on_time_rate"] = round(r["closed_on_time"] / r["closed"], 4) if r["closed"] else None
        out.append(row if k is None else _withhold(row, k))
    return out


COUNTS = ("reported", "open", "overdue", "closed", "closed_on_time")


def _withhold(row: dict[str, Any], k: int) -> dict[str, Any]:
    """The row with every count from 1 to k-1 replaced by None and named in `withheld` (and the
    on-time rate with them when it rests on a withheld count)."""
    small = [c for c in COUNTS if 0 < row[c] < k]
    for c in small:
        row[c] = None
    if {"closed", "closed_on_time"} & set(small):
        row["on_time_rate"] = None
    row["withheld"] = small
    return row
