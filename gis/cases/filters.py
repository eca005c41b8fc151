"""The queue's filter and sort: what a list of cases may be narrowed by, checked and turned into
SQL over the case row (aliases of gis/cases/sql.py) with bound values only."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gis.cases.sql import ADDRESS, AREA_CODE, CASES, OPEN_SQL, OVERDUE, TITLE, text_sql
from gis.errors import BadParameter
from gis.registry.codes import code_problem
from gis.registry.vocab import CASE_STATUSES

MAX_QUERY = 100  # characters of free text (q)
SORT_KEYS = {
    # Every case holds its deadline since migration 0009 (sql.CLOSE_BY gives the same value),
    # so the column, indexed for the open queue, is the sort key.
    "close_by": "t.close_by",
    "reported_at": "t.reported_at",
    "id": "t.id",
    "updated_at": "t.updated_at",
}
SORTS = tuple(s for k in SORT_KEYS for s in (k, f"-{k}"))
DEFAULT_SORT = "-id"  # newest first


def query_text(param: str, value: str | None, required: bool = False) -> str | None:
    """Free text to search by: trimmed, at most MAX_QUERY characters, no control characters."""
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value or ""):
        raise BadParameter(param, "control characters are not allowed: send plain text")
    text = (value or "").strip()
    if not text:
        if required:
            raise BadParameter(param, "give some text to search for")
        return None
    if len(text) > MAX_QUERY:
        raise BadParameter(param, f"{len(text)} characters: at most {MAX_QUERY}")
    return text


def like_pattern(text: str) -> str:
    """An ILIKE pattern matching `text` anywhere, its wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def as_id(text: str) -> int | None:
    """`text` as a case id when it is a whole number that fits the column."""
    return int(text) if text.isdecimal() and text.isascii() and len(text) <= 18 else None


def order_sql(sort: str) -> str:
    """ORDER BY for a sort name (`-` first: descending), with the id as tie-breaker."""
    if sort not in SORTS:
        raise BadParameter("sort", f"{sort[:30]!r} is not a sort: use one of {', '.join(SORTS)}")
    desc = sort.startswith("-")
    key, way = SORT_KEYS[sort.lstrip("-")], "DESC" if desc else "ASC"
    return f"{key} {way}" + ("" if key == "t.id" else f", t.id {way}")


def _values(param: str, raw: str | None) -> list[str]:
    values = [v.strip() for v in (raw or "").split(",") if v.strip()]
    for v in values:
        if len(v) > 50 or any(unicodedata.category(ch) in ("Cc", "Cs") for ch in v):
            raise BadParameter(param, f"{v[:30]!r} is not a code: give codes separated by commas")
    return values


@dataclass
class CaseFilter:
    status: str | None = None  # one or several, comma-separated
    category: str | None = None  # one or several, comma-separated
    grid: str | None = None
    overdue: bool | None = None
    needs_location: bool | None = None  # True: filed by an address not yet placed (issue 14)
    open: bool | None = None  # True: the five open stages; False: closed, evaluated, cancelled
    bbox: tuple[float, float, float, float] | None = None
    reported_after: datetime | None = None
    reported_before: datetime | None = None
    q: str | None = None
    district: str | None = None
    town: str | None = None
    village: str | None = None
    sort: str = DEFAULT_SORT
    limit: int = 100
    offset: int = 0


def where_sql(f: CaseFilter, role: str) -> tuple[list[str], dict[str, Any]]:
    """The filter's conditions and their bound values; BadParameter naming a bad value. Free
    text is searched as `role` sees it (a masked number cannot be found by its digits)."""
    where: list[str] = []
    binds: dict[str, Any] = {}
    statuses = _values("status", f.status)
    for s in statuses:
        if s not in CASE_STATUSES:
            raise BadParameter(
                "status", f"unknown status {s[:30]!r}: use one of {', '.join(CASE_STATUSES)}"
            )
    if statuses:
        where.append("t.status = ANY(:statuses)")
        binds["statuses"] = statuses
    categories = _values("category", f.category)
    if categories:
        where.append("t.category = ANY(:categories)")
        binds["categories"] = categories
    if f.grid:
        where.append("g.code = :grid")
        binds["grid"] = f.grid
    for level in ("district", "town", "village"):
        code = getattr(f, level)
        if code is None:
            continue
        problem = code_problem(level, code)
        if problem:
            raise BadParameter(level, f"{code[:20]!r}: {problem}")
        where.append(f"{AREA_CODE[level]} = :{level}")
        binds[level] = code
    if f.open is not None:
        where.append(f"t.status {'' if f.open else 'NOT '}IN ({OPEN_SQL})")
    if f.overdue is not None:
        where.append(OVERDUE if f.overdue else f"NOT {OVERDUE}")
    if f.needs_location is not None:
        where.append("t.needs_location" if f.needs_location else "NOT t.needs_location")
    if f.bbox:
        where.append("t.geom && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326)")
        binds.update(zip(("minx", "miny", "maxx", "maxy"), f.bbox, strict=True))
    if f.reported_after:
        where.append("t.reported_at >= :after")
        binds["after"] = f.reported_after
    if f.reported_before:
        where.append("t.reported_at < :before")
        binds["before"] = f.reported_before
    q = query_text("q", f.q)
    if q is not None:
        texts = (TITLE, CASES.field("description"), ADDRESS)
        found = [f"{text_sql(c, role)} ILIKE :q ESCAPE '\\'" for c in texts]
        qid = as_id(q)
        if qid is not None:
            found.append("t.id = :qid")
            binds["qid"] = qid
        where.append(f"({' OR '.join(found)})")
        binds["q"] = like_pattern(q)
    return where, binds
