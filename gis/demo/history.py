"""The demo city's case histories: each case walked through the lifecycle to the status it was
drawn with, leaving the history rows and stage times a real queue would have left.

Everything is drawn from the demo seed, so a load is the same every time. What the draw models:

- the cut-over: cases reported more than `CUTOVER_DAYS` before the load came from the old
  system with their status only (no history, no stage times), as migrated cases do;
- each grid's **pace** (lognormal around 1): slow grids respond and close late more often,
  so a ranking has laggards for the bulletin (倒数5名通报);
- every stage takes a share of the category's hours to respond and to close, times the pace;
  some cases stall at handling (`STALL`), some get a deadline shortened at intake (`URGENT`),
  and some are sent back once after their first response (`REWORK`);
- a case whose steps would run past the load's instant has them squeezed before it.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gis.access.roles import DISPATCHER, GRID_WORKER
from gis.cases.lifecycle import ACTIONS

CUTOVER_DAYS = 300
PACE_SIGMA = 0.45
STALL, URGENT, REWORK = 0.08, 0.05, 0.12
ACTORS = {DISPATCHER: "demo-dispatcher", GRID_WORKER: "demo-grid-worker"}  # `onemap demo tokens`
HANDLING = ("start", "respond")  # the grid worker's steps; the dispatcher takes the others

# The steps that lead to each status (the rework loop is added to some cases at responded).
_LADDER = ("register", "dispatch", "start", "respond", "close", "evaluate")
_RUNG = {"reported": 0, "registered": 1, "dispatched": 2, "in_progress": 3, "responded": 4}
_RUNG |= {"closed": 5, "evaluated": 6}
_DRAWS = 14  # uniform draws per case, taken whatever its path (the draw stays aligned)


def steps(status: str, reworked: bool) -> list[str]:
    """The actions from `reported` to `status` (after the intake's `report`)."""
    if status == "cancelled":
        return ["cancel"]
    path = list(_LADDER[: _RUNG[status]])
    if reworked and _RUNG[status] >= 4:
        k = path.index("respond") + 1
        path[k:k] = ["rework", "start", "respond"]
    return path


def _hours(action: str, u: float, rh: float, ch: float, pace: float, stall: float) -> float:
    """The hours a step took: a share of the category's hours, times the grid's pace."""
    span = {
        "cancel": 0.2 + 4 * u,
        "register": (0.1 + 1.9 * u) * pace,
        "dispatch": (0.1 + 1.9 * u) * pace,
        "start": rh * (0.1 + 0.9 * u) * pace * stall,
        "respond": ch * (0.1 + 0.4 * u) * pace * stall,
        "rework": 1 + 7 * u,
        "close": (0.5 + max(0.5, 0.15 * ch) * u) * pace,
        "evaluate": 12 + 60 * u,
    }
    return span[action]


def draw(cases: pd.DataFrame, seed: int, now: datetime) -> tuple[pd.DataFrame, pd.DataFrame]:
    """History rows (case_id, at, actor, actor_role, action, from_status, to_status) and stage
    times (id, responded_at, closed_at, close_by, version, updated_at) for `cases` (id, status,
    reported_at, respond_hours, close_hours, grid_id), in id order; cases left as migrated
    have no rows in either."""
    rng = np.random.default_rng([seed, 2])
    cases = cases.sort_values("id", kind="stable").reset_index(drop=True)
    grids = np.unique(cases["grid_id"].dropna().to_numpy(np.int64))
    pace_of = dict(zip(grids.tolist(), rng.lognormal(0.0, PACE_SIGMA, len(grids)), strict=True))
    u = rng.random((len(cases), _DRAWS))
    cutover = now - timedelta(days=CUTOVER_DAYS)
    ids = cases["id"].to_numpy(np.int64).tolist()
    statuses = cases["status"].astype(str).tolist()
    reports: list[datetime] = [t.to_pydatetime() for t in cases["reported_at"]]
    rhs = cases["respond_hours"].to_numpy(float).tolist()
    chs = cases["close_hours"].to_numpy(float).tolist()
    paces = [pace_of.get(int(g), 1.0) if pd.notna(g) else 1.0 for g in cases["grid_id"]]
    hist: list[tuple[object, ...]] = []
    times: list[tuple[object, ...]] = []
    for i, cid in enumerate(ids):
        reported, rh, ch = reports[i], rhs[i], chs[i]
        if reported < cutover:
            continue
        urgent = bool(u[i, 13] < URGENT)
        pace = paces[i] * (0.4 if urgent else 1.0)  # hurried, and still late more often
        stall = 2 + 2 * u[i, 1] if u[i, 0] < STALL else 1.0
        path = steps(statuses[i], bool(u[i, 2] < REWORK))
        hours = np.cumsum([_hours(a, u[i, 3 + k], rh, ch, pace, stall) for k, a in enumerate(path)])
        room = (now - reported).total_seconds() / 3600
        if len(hours) and hours[-1] > room:  # squeezed before the load's instant
            hours = hours * (room * (0.5 + 0.45 * u[i, 12]) / hours[-1])
        ats = [reported + timedelta(hours=float(h)) for h in hours]
        status = "reported"
        hist.append((cid, reported, *_actor("report"), "report", None, "reported"))
        for action, at in zip(path, ats, strict=True):
            to = ACTIONS[action].to
            hist.append((cid, at, *_actor(action), action, status, to))
            status = to
        starts = [at for a, at in zip(path, ats, strict=True) if a == "start"]
        closes = [at for a, at in zip(path, ats, strict=True) if a == "close"]
        close_by = reported + timedelta(hours=ch / 4) if urgent else None
        times.append(
            (
                cid,
                starts[0] if starts else None,
                closes[-1] if closes else None,
                close_by,
                1 + len(path),
                ats[-1] if ats else reported,
            )
        )
    history = pd.DataFrame(
        hist,
        columns=["case_id", "at", "actor", "actor_role", "action", "from_status", "to_status"],
    )
    stages = pd.DataFrame(
        times, columns=["id", "responded_at", "closed_at", "close_by", "version", "updated_at"]
    )
    return history, stages


def _actor(action: str) -> tuple[str, str]:
    role = GRID_WORKER if action in HANDLING else DISPATCHER
    return ACTORS[role], role


def _copy(conn: Connection, target: str, frame: pd.DataFrame) -> None:
    """COPY `frame`'s columns into `target` (CSV; an empty field is NULL)."""
    raw = conn.connection.driver_connection
    assert raw is not None
    buf = io.StringIO()
    frame.to_csv(buf, header=False, index=False)
    with (
        raw.cursor() as cur,
        cur.copy(f"COPY {target} ({', '.join(frame.columns)}) FROM STDIN (FORMAT csv)") as copy,
    ):
        copy.write(buf.getvalue())


def write(conn: Connection, seed: int, now: datetime) -> int:
    """Draw the histories of the cases in the store and write them (history rows, stage
    times, versions); returns the history rows written."""
    cases = pd.DataFrame(
        conn.execute(
            sa.text(
                "SELECT c.id, c.status, c.reported_at, cc.respond_hours, cc.close_hours, "
                "c.grid_id FROM cases c JOIN case_categories cc ON cc.code = c.category "
                "ORDER BY c.id"
            )
        ).all(),
        columns=["id", "status", "reported_at", "respond_hours", "close_hours", "grid_id"],
    )
    cases["reported_at"] = pd.to_datetime(cases["reported_at"], utc=True)
    history, stages = draw(cases, seed, now)
    if history.empty:
        return 0
    _copy(conn, "case_history", history)
    conn.execute(
        sa.text(
            "CREATE TEMP TABLE _stages (id bigint, responded_at timestamptz, "
            "closed_at timestamptz, close_by timestamptz, version int, updated_at timestamptz) "
            "ON COMMIT DROP"
        )
    )
    _copy(conn, "_stages", stages)
    conn.execute(
        sa.text(
            "UPDATE cases c SET responded_at = v.responded_at, closed_at = v.closed_at, "
            "close_by = coalesce(v.close_by, c.close_by), version = v.version, "
            "updated_at = v.updated_at FROM _stages v WHERE c.id = v.id"
        )
    )
    conn.execute(sa.text("DROP TABLE _stages"))
    return len(history)
