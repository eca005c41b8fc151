"""Case actions: a lifecycle step taken at the version the caller saw (If-Match), with one
append-only history row per change."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gis.access.policy import scope_sql
from gis.access.roles import Actor
from gis.cases.lifecycle import next_status
from gis.cases.read import get_case
from gis.cases.sql import CASES
from gis.cases.text import MAX_NOTE, text
from gis.errors import NotFound, PreconditionRequired, StaleVersion
from gis.registry.codes import is_digits

ETAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*')  # RFC 9110 entity-tag
ANY = "*"


def parse_if_match(if_match: str | None) -> list[str]:
    """The entity tags of an If-Match header (RFC 9110 §13.1.1), ["*"] for any; a weak tag
    ("W/...") is kept with its prefix, since If-Match compares strongly and it never matches.
    A bare version (3) is taken as "3" for hand-typed requests."""
    if if_match is None or not if_match.strip():
        raise PreconditionRequired(
            "send If-Match with the case's ETag (its version), as GET /api/v1/cases/{id} gave it"
        )
    raw = if_match.strip()
    if raw == ANY:
        return [ANY]
    if is_digits(raw, 9):
        return [raw]
    tags = []
    for part in raw.split(","):
        m = ETAG.fullmatch(part)
        if m is None:
            raise PreconditionRequired(
                f'If-Match {if_match[:40]!r} is not a case version: send the ETag, e.g. "3"'
            )
        tags.append(("W/" if m.group(1) else "") + m.group(2))
    return tags


def act(
    conn: Connection,
    case_id: int,
    action: str,
    note: str | None,
    actor: Actor,
    if_match: str | None,
) -> dict[str, Any]:
    """Take `action` on a case at the version the caller saw; one history row per change."""
    note = text("note", note, MAX_NOTE)
    status, grid_id = lock(conn, case_id, actor, if_match)
    to = next_status(status, action, actor.role, owned=grid_id is not None)
    conn.execute(
        sa.text(
            """
            UPDATE cases SET status = :to, version = version + 1, updated_at = now(),
                   responded_at = CASE WHEN :to = 'in_progress' AND responded_at IS NULL
                                       THEN now() ELSE responded_at END,
                   closed_at = CASE WHEN :to = 'closed' THEN now() ELSE closed_at END
             WHERE id = :id
            """
        ),
        {"to": to, "id": case_id},
    )
    record(conn, case_id, actor, action, status, to, note)
    return get_case(conn, case_id, actor)


def lock(
    conn: Connection, case_id: int, actor: Actor, if_match: str | None
) -> tuple[str, int | None]:
    """Lock a case the actor may see at the version they saw (If-Match): its status and grid
    id; PreconditionRequired (428), NotFound or StaleVersion (412) otherwise."""
    tags = parse_if_match(if_match)
    scope, binds = scope_sql(CASES, actor)
    row = conn.execute(
        sa.text(
            f"SELECT t.status, t.version, t.grid_id FROM {CASES.source} "
            f"WHERE t.id = :id AND {scope} FOR UPDATE OF t"
        ),
        {"id": case_id, **binds},
    ).first()
    if row is None:
        raise NotFound(f"no case {case_id} that you may see")
    status, current, grid_id = row
    if ANY not in tags and str(current) not in tags:
        weak = (
            " (If-Match compares strongly: send the ETag without W/)"
            if any(t.startswith("W/") for t in tags)
            else ""
        )
        raise StaleVersion(
            f"case {case_id} is at version {current}, not {', '.join(tags)[:60]}: someone "
            f"changed it; GET it again and decide anew{weak}"
        )
    return status, grid_id


def record(
    conn: Connection,
    case_id: int,
    actor: Actor,
    action: str,
    from_status: str | None,
    to_status: str,
    note: str | None,
) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO case_history (case_id, actor, actor_role, action, from_status, "
            "to_status, note) VALUES (:c, :a, :r, :act, :f, :t, :n)"
        ),
        {
            "c": case_id,
            "a": actor.name,
            "r": actor.role,
            "act": action,
            "f": from_status,
            "t": to_status,
            "n": note,
        },
    )
