"""Performance figures (绩效评价) per grid, unit, village, town or district for a period, and
their ranking: one SQL query per level, grouped by the area's code, under the access policy.

The period's cases are those reported in [since, until) whose grid (and, by unit, unit) is
known; a case keeps the grid it had when it was reported. Stages are those of
gis/cases/lifecycle.py; "deadline" is the case's deadline to close (`close_by`, set at intake,
else its category's hours). Of the period's cases:

- 上报数 reported: every case.
- 立案数 registered: cases registered (案卷建立) and not cancelled: status other than
  reported and cancelled.
- 应结案数 due_to_close: registered cases that are closed or past their deadline now
  (`due_to_close = "due"`, the default), or every registered case (`"registered"`).
- 结案数 closed: cases at closed or evaluated; 按期结案数 closed_on_time: of those, closed
  (`closed_at`) by the deadline. A case imported as closed without a close time counts as
  closed, never as closed on time.
- 应处置数 due_to_handle: dispatched cases (任务派遣 or later, not cancelled) that are handled or
  past their deadline (`"due"`, the default), or every dispatched case (`"dispatched"`).
- 处置数 handled: cases whose handling was reported back (处理反馈: responded, closed or
  evaluated); 按期处置数 handled_on_time: of those, the last `respond` in case_history by the
  deadline (no history: never on time).
- 返工数 reworked: cases sent back at least once (a `rework` in case_history);
  处置过 handled_once: cases handled at least once (handled now, or reworked).
- 当前超期 overdue: cases open now and past a deadline (gis/cases/sql.OVERDUE).
- 结案率 = 结案数 / 应结案数, 按期结案率 = 按期结案数 / 应结案数, 处置率 = 处置数 / 应处置数,
  按期处置率 = 按期处置数 / 应处置数, 返工率 = 返工数 / 处置过; a rate over 0 is None.
- median hours to respond (reported to `responded_at`, when handling started) and to close
  (reported to `closed_at`), over the cases that have those times.
- 综合指标值 score = 100 x the weighted sum of rates (kpi.toml: 按期结案率 50 %, 结案率 30 %,
  1 - 返工率 10 %, 按期处置率 10 %); a rate that cannot be computed counts as its worst value,
  so doing nothing never scores; None when nothing is due to close. Grades A/B/C/D by the
  lowest scores in kpi.toml (90, 80, 60).

Who sees what: a grid worker sees their own grid's figures only (by grid or unit); the public
(a reader of no single case) needs a period of at least the policy's days, sees counts and the
rates of shown counts with every count from 1 to k-1 withheld, and no medians (figure_limits).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gis.access.policy import OWN_GRID, figure_limits, figure_period, row_scope, scope_sql
from gis.access.roles import PUBLIC, Actor
from gis.cases.sql import AREA_CODE, CASES, CLOSE_BY, FROM, OVERDUE
from gis.errors import BadParameter, Forbidden
from gis.stats.kpi_config import WEIGHTED, KpiConfig, load_config

LEVELS: dict[str, str] = {"grid": "g.code", "unit": "u.code", **AREA_CODE}
"""Level -> the SQL of a case's area code at that level (module constants)."""

_HISTORY = ("grid", "unit")  # levels with plan generations: names from the latest row of a code
AREAS = {
    **{
        level: f"SELECT DISTINCT ON (code) code, name, valid_to IS NULL AS current "
        f"FROM {level}s ORDER BY code, valid_to DESC NULLS FIRST"
        for level in _HISTORY
    },
    **{
        level: f"SELECT code, name, true AS current FROM regions WHERE level = '{level}'"
        for level in ("village", "town", "district")
    },
}
OWN_AREAS = {"grid": "a.code = :scope_grid", "unit": "left(a.code, 15) = :scope_grid"}

_STAGE = {  # the period's cases at each stage, over the statuses of gis/cases/lifecycle.py
    "registered": "status NOT IN ('reported', 'cancelled')",
    "dispatched": "status IN ('dispatched', 'in_progress', 'responded', 'closed', 'evaluated')",
    "handled": "status IN ('responded', 'closed', 'evaluated')",
    "closed": "status IN ('closed', 'evaluated')",
}
_DUE = {  # kpi.toml's denominators -> SQL over the flags of one case (module constants)
    ("close", "due"): "registered AND (closed OR past_due)",
    ("close", "registered"): "registered",
    ("handle", "due"): "dispatched AND (handled OR past_due)",
    ("handle", "dispatched"): "dispatched",
}
COUNTS = (
    "reported",
    "registered",
    "due_to_close",
    "closed",
    "closed_on_time",
    "due_to_handle",
    "handled",
    "handled_on_time",
    "handled_once",
    "reworked",
    "overdue",
)
RATES = {  # rate: (numerator, denominator)
    "closed_rate": ("closed", "due_to_close"),
    "closed_on_time_rate": ("closed_on_time", "due_to_close"),
    "handled_rate": ("handled", "due_to_handle"),
    "handled_on_time_rate": ("handled_on_time", "due_to_handle"),
    "rework_rate": ("reworked", "handled_once"),
}
MEDIANS = ("median_hours_to_respond", "median_hours_to_close")
LABELS = {
    "code": "代码",
    "name": "名称",
    "rank": "排名",
    "reported": "上报数",
    "registered": "立案数",
    "due_to_close": "应结案数",
    "closed": "结案数",
    "closed_on_time": "按期结案数",
    "due_to_handle": "应处置数",
    "handled": "处置数",
    "handled_on_time": "按期处置数",
    "handled_once": "处置过案件数",
    "reworked": "返工数",
    "overdue": "当前超期数",
    "closed_rate": "结案率",
    "closed_on_time_rate": "按期结案率",
    "handled_rate": "处置率",
    "handled_on_time_rate": "按期处置率",
    "rework_rate": "返工率",
    "median_hours_to_respond": "响应时长中位数(小时)",
    "median_hours_to_close": "结案时长中位数(小时)",
    "score": "综合指标值",
    "grade": "等级",
    "withheld": "不公开项",
}
"""Each figure's Chinese header (CSV and Excel files)."""
_TERM = {  # the weighted rates' SQL in the score (the worst value where it cannot be computed)
    "closed_on_time_rate": "coalesce(closed_on_time_rate, 0)",
    "closed_rate": "coalesce(closed_rate, 0)",
    "rework_free_rate": "coalesce(1 - rework_rate, 0)",
    "handled_rate": "coalesce(handled_rate, 0)",
    "handled_on_time_rate": "coalesce(handled_on_time_rate, 0)",
}


def _sql(level: str, scope: str, own_areas: str, config: KpiConfig) -> str:
    key = LEVELS[level]
    rates = ",\n".join(
        f"{num}::float8 / nullif({den}, 0) AS {rate}" for rate, (num, den) in RATES.items()
    )
    counts = ", ".join(f"coalesce(k.{c}, 0) AS {c}" for c in COUNTS)
    score = " + ".join(f":w_{name} * {_TERM[name]}" for name in WEIGHTED)
    return f"""
WITH c AS (
  SELECT {key} AS code, t.status, t.reported_at, t.responded_at, t.closed_at,
         {CLOSE_BY} AS close_by, {OVERDUE} AS overdue, h.handled_at, h.reworked
    {FROM}
   CROSS JOIN LATERAL (
         SELECT max(ch.at) FILTER (WHERE ch.action = 'respond') AS handled_at,
                coalesce(bool_or(ch.action = 'rework'), false) AS reworked
           FROM case_history ch WHERE ch.case_id = t.id) h
   WHERE {key} IS NOT NULL AND t.reported_at >= :since AND t.reported_at < :until AND {scope}
), s AS (
  SELECT c.*, {" , ".join(f"{sql} AS {name}" for name, sql in _STAGE.items())},
         now() >= close_by AS past_due
    FROM c
), k AS (
  SELECT code, count(*) AS reported,
         count(*) FILTER (WHERE registered) AS registered,
         count(*) FILTER (WHERE {_DUE["close", config.due_to_close]}) AS due_to_close,
         count(*) FILTER (WHERE closed) AS closed,
         count(*) FILTER (WHERE closed AND closed_at <= close_by) AS closed_on_time,
         count(*) FILTER (WHERE {_DUE["handle", config.due_to_handle]}) AS due_to_handle,
         count(*) FILTER (WHERE handled) AS handled,
         count(*) FILTER (WHERE handled AND handled_at <= close_by) AS handled_on_time,
         count(*) FILTER (WHERE handled OR reworked) AS handled_once,
         count(*) FILTER (WHERE reworked) AS reworked,
         count(*) FILTER (WHERE overdue) AS overdue,
         percentile_cont(0.5) WITHIN GROUP
             (ORDER BY extract(epoch FROM responded_at - reported_at) / 3600)
             AS median_hours_to_respond,
         percentile_cont(0.5) WITHIN GROUP
             (ORDER BY extract(epoch FROM closed_at - reported_at) / 3600)
             FILTER (WHERE closed) AS median_hours_to_close
    FROM s GROUP BY code
), n AS (
  SELECT a.code, a.name, {counts}, k.median_hours_to_respond, k.median_hours_to_close
    FROM ({AREAS[level]}) a LEFT JOIN k ON k.code = a.code
   WHERE (a.current OR k.code IS NOT NULL) AND {own_areas}
), r AS (
  SELECT n.*, {rates} FROM n
)
SELECT r.*, CASE WHEN due_to_close > 0 THEN 100 * ({score}) END AS score
  FROM r"""


def _grade(score: float | None, config: KpiConfig) -> str | None:
    if score is None:
        return None
    return next((g for g, low in config.grades if score >= low - 1e-9), "D")


def check_period(since: datetime, until: datetime, actor: Actor) -> tuple[datetime, datetime]:
    """The period, checked: time zones, order, and for the public the policy's shortest one."""
    for name, value in (("since", since), ("until", until)):
        if value.tzinfo is None:
            raise BadParameter(name, f"{value.isoformat()} has no time zone: add Z or +08:00")
    if since >= until:
        raise BadParameter(
            "until",
            f"{until.isoformat()} is not after since ({since.isoformat()}): give a later until",
        )
    figure_period(CASES, actor, since, until)
    return since, until


CHINA = timezone(timedelta(hours=8))


def instant(value: datetime | date | str | None, name: str) -> datetime | None:
    """A period's bound from a date-time, a date or ISO text; a date or a date-time without a
    zone is taken in China's time (+08:00), a date at its start (for scripts and the CLI)."""
    if value is None or isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    else:
        try:
            parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            raise BadParameter(
                name, f"{str(value)[:40]!r} is not a date (2026-10-01) or an ISO date-time"
            ) from None
    return parsed if parsed is None or parsed.tzinfo else parsed.replace(tzinfo=CHINA)


def default_period(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    """since and until, by default the fortnight up to now (the bi-weekly bulletin)."""
    end = until or datetime.now(UTC)
    return since or end - timedelta(days=14), end


def kpis(
    conn: Connection,
    by: str,
    since: datetime,
    until: datetime,
    actor: Actor = PUBLIC,
    config: KpiConfig | None = None,
) -> list[dict[str, Any]]:
    """Every figure of each area at level `by` for cases reported in [since, until), as
    `actor` may see them, ordered by code."""
    return _rows(conn, by, since, until, actor, config, "code")


def ranking(
    conn: Connection,
    by: str,
    since: datetime,
    until: datetime,
    actor: Actor = PUBLIC,
    bottom: int | None = None,
    config: KpiConfig | None = None,
) -> list[dict[str, Any]]:
    """The areas with a score, best first (score, then code), each with its rank (1 = best);
    with `bottom`, the last `bottom` of them, worst first (the bulletin's 倒数 N 名)."""
    if bottom is not None and not 1 <= bottom <= 1000:
        raise BadParameter("bottom", f"must be from 1 to 1000, not {bottom}")
    rows = _rows(conn, by, since, until, actor, config, "score DESC NULLS LAST, code")
    ranked = [r for r in rows if r["score"] is not None]
    for i, r in enumerate(ranked, 1):
        r["rank"] = i
    return ranked[::-1][:bottom] if bottom is not None else ranked


def _rows(
    conn: Connection,
    by: str,
    since: datetime,
    until: datetime,
    actor: Actor,
    config: KpiConfig | None,
    order: str,
) -> list[dict[str, Any]]:
    if by not in LEVELS:
        raise BadParameter("by", f"unknown level {by[:20]!r}: use one of {', '.join(LEVELS)}")
    check_period(since, until, actor)
    config = config or load_config()
    binds: dict[str, Any] = {"since": since, "until": until}
    if figure_limits(CASES, actor) is not None:
        scope, own = "TRUE", "TRUE"  # aggregates only, with small counts withheld (_public)
    else:
        scope, more = scope_sql(CASES, actor)
        binds.update(more)
        own = "TRUE"
        if row_scope(CASES, actor) == OWN_GRID:
            if by not in OWN_AREAS:
                raise Forbidden(
                    f"a {actor.role} sees the figures of their own grid only: use by=grid or "
                    f"by=unit, not by={by}"
                )
            own = OWN_AREAS[by]
    weights = dict(config.weights)
    binds.update({f"w_{name}": weights.get(name, 0.0) for name in WEIGHTED})
    sql = f"SELECT * FROM ({_sql(by, scope, own, config)}) q ORDER BY {order}"
    out = []
    for r in conn.execute(sa.text(sql), binds).mappings():
        row = dict(r)
        row["grade"] = _grade(row["score"], config)
        out.append(_public(_rounded(row), actor, config))
    return out


def _rounded(row: dict[str, Any]) -> dict[str, Any]:
    for name in (*RATES, "score", *MEDIANS):
        if row[name] is not None:
            row[name] = round(float(row[name]), 2 if name in ("score", *MEDIANS) else 4)
    return row


def _public(row: dict[str, Any], actor: Actor, config: KpiConfig) -> dict[str, Any]:
    """The row as `actor` may see it: for the public, counts from 1 to k-1, the rates resting
    on them, the score resting on those, and every median withheld (named in `withheld`)."""
    limits = figure_limits(CASES, actor)
    if limits is None:
        return row
    k = limits[1]
    small = [c for c in COUNTS if 0 < row[c] < k]
    rates = [r for r, (num, den) in RATES.items() if {num, den} & set(small)]
    weighted = {"rework_rate" if w == "rework_free_rate" else w for w, v in config.weights if v > 0}
    hidden = [*small, *rates, *MEDIANS]
    if set(rates) & weighted:
        hidden += ["score", "grade"]
    for name in hidden:
        row[name] = None
    row["withheld"] = hidden
    return row
