"""The access policy: which rows of each layer a role may read (row scope) and how it sees each
field (full, masked or hidden; free text whole or with phone and ID numbers masked). Every front
reads it — the cases API, OGC API Features, tiles, exports, Open311, the live stream and the map
page — and the scope is applied in SQL by one function, `scope_sql`, the masks by `field_sql`.
See docs/decisions.md for why a WHERE clause and not row-level security.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from gis.access.roles import (
    ADMIN,
    ANALYST,
    DISPATCHER,
    GRID_WORKER,
    INTAKE,
    PUBLIC_ROLE,
    ROLES,
    Actor,
)
from gis.errors import BadParameter, Forbidden, NotAuthenticated
from gis.registry.model import FREE_TEXT, PERSONAL, PUBLIC, Field, Layer
from gis.store.settings import get_settings

FULL, MASKED, HIDDEN = "full", "masked", "hidden"
IN_SCOPE = "full on own grid's rows"  # full where the layer is scoped to the role's grid
ALL, OWN_GRID, NONE = "all", "own grid", "none"

FIELD_VISIBILITY: dict[str, dict[str, str]] = {
    PUBLIC_ROLE: {PUBLIC: FULL, PERSONAL: HIDDEN},
    DISPATCHER: {PUBLIC: FULL, PERSONAL: FULL},
    GRID_WORKER: {PUBLIC: FULL, PERSONAL: IN_SCOPE},
    ANALYST: {PUBLIC: FULL, PERSONAL: MASKED},
    ADMIN: {PUBLIC: FULL, PERSONAL: FULL},
    INTAKE: {PUBLIC: FULL, PERSONAL: HIDDEN},  # as the public
}
"""Role x visibility class -> how the role sees a field of that class. IN_SCOPE is FULL on a
layer whose rows the role reads for its own grid only (cases), and HIDDEN on the layers it reads
whole (another grid's leaders, stations' contacts). FREE_TEXT follows PERSONAL (visibility):
whole to whoever sees the row's personal fields in full, else with its numbers masked."""

CASEWORK_SCOPE = {
    PUBLIC_ROLE: NONE,  # the public sees cases as counts per grid, never one case
    DISPATCHER: ALL,
    GRID_WORKER: OWN_GRID,
    ANALYST: ALL,
    ADMIN: ALL,
    INTAKE: NONE,  # files cases, reads none back (as the public)
}
"""Role -> the rows of a casework layer (cases) it may read; other layers are open to all."""

TILES_SHOW = (PUBLIC,)
"""Tiles are cached and shared: they carry public fields only, for every role."""

_D = "[0-9]"  # ASCII digits only (PostgreSQL's \d takes other scripts' digits too)
_DATE = "(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])"  # MMDD of a birth date
_NUMBERS = (
    # (what, pattern, replacement): PostgreSQL regular expressions, applied in this order; each
    # number stands alone (no digit either side) and keeps its first three and last two digits
    # around **** like a masked phone field (a +86 before a mobile and a landline's area code
    # stay too).
    # 18-digit resident ID: area 6, born 19YY/20YY MMDD, sequence 3, check digit or X
    (
        "resident ID (18)",
        f"(^|[^0-9])([1-9]{_D}{{2}}){_D}{{3}}(19|20){_D}{{2}}{_DATE}{_D}{{2}}({_D}[0-9Xx])(?![0-9])",
        r"\1\2****\6",
    ),
    # 15-digit resident ID (before 1999): area 6, born 19YY MMDD with YY 20-99, sequence 3. A
    # grid code of a street or town (town part 001-199: 7th digit 0 or 1) never looks like one.
    (
        "resident ID (15)",
        f"(^|[^0-9])([1-9]{_D}{{2}}){_D}{{3}}[2-9]{_D}{_DATE}{_D}({_D}{{2}})(?![0-9])",
        r"\1\2****\5",
    ),
    # mobile: 1[3-9] and 9 digits, spaces or dashes as 3-4-4, +86 (or 86) in front
    (
        "mobile",
        f"(^|[^0-9])(\\+?86[- ]?)?(1[3-9]{_D})[- ]?{_D}{{4}}[- ]?{_D}{{2}}({_D}{{2}})(?![0-9])",
        r"\1\2\3****\4",
    ),
    # landline: an area code of 0 and 2-3 digits (in brackets or not), then 7-8 digits; the
    # area code (a city, nobody's number) stays as written: 0595-****78, (010)****78
    (
        "landline",
        f"(^|[^0-9])(\\(?0[1-9]{_D}{_D}?\\)?[- ]?){_D}{{5,6}}({_D}{{2}})(?![0-9])",
        r"\1\2****\3",
    ),
)
"""The numbers masked in free text: phones and resident ID numbers. A case id, a date
(2026-12-02), a grid (15 digits, town part below 200) or unit code (18 digits) stays."""


def _text_mask() -> str:
    sql = "{x}"
    for _what, pattern, replacement in _NUMBERS:
        sql = f"regexp_replace({sql}, '{pattern}', '{replacement}', 'g')"
    return sql


_MASKS = {
    # 张三丰 -> 张**: the family name and one star per remaining character
    "name": "left(nullif({x}, ''), 1) || repeat('*', greatest(1, char_length({x}) - 1))",
    # 138-0000-1234 -> 138****34: the first three and last two digits
    "phone": "CASE WHEN nullif({x}, '') IS NULL THEN NULL "
    "WHEN length(regexp_replace({x}, '[^0-9]', '', 'g')) >= 7 THEN "
    "left(regexp_replace({x}, '[^0-9]', '', 'g'), 3) || '****' || "
    "right(regexp_replace({x}, '[^0-9]', '', 'g'), 2) ELSE '****' END",
    # 电话13812345678 -> 电话138****78, 350502199001011234 -> 350****34: every number above
    "text": _text_mask(),
}


def _role(actor: Actor) -> str:
    if actor.role not in ROLES:
        raise Forbidden(f"unknown role {actor.role!r}")
    return actor.role


def row_scope(layer: Layer, actor: Actor) -> str:
    """ALL, OWN_GRID or NONE: which rows of `layer` the actor may read."""
    return CASEWORK_SCOPE[_role(actor)] if layer.casework else ALL


def visibility(layer: Layer, field: Field, role: str, tiles: bool = False) -> str:
    """FULL, MASKED or HIDDEN: how `role` sees `field` of `layer` (in tiles, if `tiles`)."""
    if tiles and field.visibility not in TILES_SHOW:
        return HIDDEN
    if field.visibility == FREE_TEXT:  # whole where the row's personal fields are seen whole
        return FULL if visibility(layer, Field("", visibility=PERSONAL), role) == FULL else MASKED
    seen = FIELD_VISIBILITY[role][field.visibility]
    if seen == IN_SCOPE:
        return FULL if layer.casework and CASEWORK_SCOPE[role] == OWN_GRID else HIDDEN
    return seen


def scope_sql(layer: Layer, actor: Actor) -> tuple[str, dict[str, Any]]:
    """The SQL condition (over the layer's source) limiting rows to what `actor` may read, and
    its bound values; NotAuthenticated or Forbidden where the actor may read no feature."""
    scope = row_scope(layer, actor)
    if scope == ALL:
        return "TRUE", {}
    if scope == OWN_GRID and actor.grid_code and layer.grid_code_sql:
        return f"{layer.grid_code_sql} = :scope_grid", {"scope_grid": actor.grid_code}
    if actor.role == PUBLIC_ROLE:
        raise NotAuthenticated(
            f"{layer.id} need a token (Authorization: Bearer ...); without one, the public "
            f"sees counts per grid (/api/v1/cases/counts, /tiles/{layer.id}/...)"
        )
    if scope == NONE:  # an intake key: it files cases and reads what the public reads
        raise Forbidden(f"the {actor.role} role may not read {layer.id}; it may file them")
    raise Forbidden(f"a {actor.role} without a grid may not read {layer.id}")


def in_scope(layer: Layer, actor: Actor, grid_code: str | None) -> bool:
    """Whether a row owned by `grid_code` is in the actor's scope (for what is not SQL: the
    live stream's events). The same rule as scope_sql."""
    scope = row_scope(layer, actor)
    return scope == ALL or (
        scope == OWN_GRID and grid_code is not None and grid_code == actor.grid_code
    )


def figure_limits(layer: Layer, actor: Actor) -> tuple[float, int] | None:
    """For a reader of no single feature of `layer` (the public, of cases): the shortest period
    in days and the smallest count (k) that statistics may show them; None for the others."""
    if row_scope(layer, actor) != NONE:
        return None
    settings = get_settings()
    return settings.public_min_days, settings.public_min_count


def figure_period(
    layer: Layer, actor: Actor, since: datetime, until: datetime
) -> tuple[float, int] | None:
    """figure_limits, once [since, until) is known to be long enough for them: BadParameter
    (since) naming the period and the shortest the reader may ask for."""
    limits = figure_limits(layer, actor)
    if limits is not None and until - since < timedelta(days=limits[0]):
        raise BadParameter(
            "since",
            f"the period {since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} is shorter than "
            f"{limits[0]:g} days: the public's figures cover at least that (sign in for less)",
        )
    return limits


def may_read_features(layer: Layer, actor: Actor) -> bool:
    return row_scope(layer, actor) != NONE


def field_sql(layer: Layer, field: Field, role: str, tiles: bool = False) -> str | None:
    """The SQL expression giving `field` as `role` may see it, or None when hidden."""
    seen = visibility(layer, field, role, tiles)
    if seen == HIDDEN:
        return None
    if seen == MASKED:
        mask = field.mask or ("text" if field.free_text else "name")
        return "(" + _MASKS[mask].replace("{x}", field.expr) + ")"
    return field.expr


def visible_fields(layer: Layer, role: str, tiles: bool = False) -> list[tuple[Field, str]]:
    """The fields `role` may see, each with the SQL that gives it as they may see it."""
    out = []
    for f in layer.fields:
        if tiles and not f.in_tiles:
            continue
        sql = field_sql(layer, f, role, tiles)
        if sql is not None:
            out.append((f, sql))
    return out
