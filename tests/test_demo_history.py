"""The demo city's case histories (gis/demo/history.py), read back by SQL: every history is a
walk of the lifecycle ending at the case's status, the stage times agree with it, the shares
are those of a working queue, and the draw is the seed's."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis.demo import history
from tests.conftest import DEMO_NOW

SEED = 20240917  # the demo template's (tests/conftest.py)
CUTOVER = DEMO_NOW - timedelta(days=300)
EDGES = {  # the lifecycle's transitions, written out here: (action, from, to)
    ("report", None, "reported"),
    ("register", "reported", "registered"),
    ("cancel", "reported", "cancelled"),
    ("dispatch", "registered", "dispatched"),
    ("start", "dispatched", "in_progress"),
    ("respond", "in_progress", "responded"),
    ("rework", "responded", "dispatched"),
    ("close", "responded", "closed"),
    ("evaluate", "closed", "evaluated"),
}
WORKER_STEPS = {"start", "respond"}


def _cases(engine: Engine) -> tuple[list[dict[str, Any]], dict[int, list[dict[str, Any]]]]:
    with engine.connect() as conn:
        cases = [
            dict(r)
            for r in conn.execute(
                sa.text(
                    "SELECT c.id, c.status, c.reported_at, c.responded_at, c.closed_at, "
                    "c.close_by, c.version, c.reported_at + cc.close_hours * interval '1 hour' "
                    "AS category_deadline FROM cases c JOIN case_categories cc "
                    "ON cc.code = c.category ORDER BY c.id"
                )
            ).mappings()
        ]
        rows: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for r in conn.execute(
            sa.text(
                "SELECT case_id, at, action, from_status, to_status, actor, actor_role "
                "FROM case_history ORDER BY id"
            )
        ).mappings():
            rows[r["case_id"]].append(dict(r))
    return cases, rows


def test_every_history_walks_the_lifecycle_to_the_cases_status(demo_ro: Engine) -> None:
    cases, rows = _cases(demo_ro)
    for c in cases:
        h = rows.get(c["id"], [])
        if not h:  # migrated from the old system: status only
            assert c["reported_at"] < CUTOVER, c
            assert c["responded_at"] is None and c["closed_at"] is None and c["version"] == 1
            continue
        assert c["reported_at"] >= CUTOVER
        assert (h[0]["action"], h[0]["at"]) == ("report", c["reported_at"])
        status = None
        for r in h:
            assert (r["action"], r["from_status"], r["to_status"]) in EDGES, r
            assert r["from_status"] == status, (c["id"], r)
            status = r["to_status"]
            worker = r["action"] in WORKER_STEPS
            assert (r["actor_role"], r["actor"]) == (
                ("grid_worker", "demo-grid-worker") if worker else ("dispatcher", "demo-dispatcher")
            )
        assert status == c["status"]
        ats = [r["at"] for r in h]
        assert ats == sorted(ats) and ats[-1] <= DEMO_NOW
        starts = [r["at"] for r in h if r["action"] == "start"]
        closes = [r["at"] for r in h if r["action"] == "close"]
        assert c["responded_at"] == (starts[0] if starts else None)
        assert c["closed_at"] == (closes[-1] if closes else None)
        assert c["version"] == len(h)  # one version per change after the report


def test_the_shares_are_those_of_a_working_queue(demo_ro: Engine) -> None:
    cases, rows = _cases(demo_ro)
    walked = [c for c in cases if c["id"] in rows]
    assert 0.8 <= len(walked) / len(cases) <= 0.95
    closed = [c for c in walked if c["closed_at"] is not None]
    late = [c for c in closed if c["closed_at"] > c["close_by"]]
    assert len(closed) > 0.5 * len(walked)
    assert 0.05 <= len(late) / len(closed) <= 0.35  # most on time, some late
    handled = [c for c in walked if any(r["action"] == "respond" for r in rows[c["id"]])]
    reworked = [c for c in handled if any(r["action"] == "rework" for r in rows[c["id"]])]
    assert 0.05 <= len(reworked) / len(handled) <= 0.2
    urgent = [c for c in walked if c["close_by"] < c["category_deadline"]]
    assert 0.02 <= len(urgent) / len(walked) <= 0.1  # a deadline shortened at intake
    untouched = [c for c in cases if c["id"] not in rows]
    assert all(c["close_by"] == c["category_deadline"] for c in untouched)


def test_the_draw_is_the_seeds(demo_ro: Engine) -> None:
    with demo_ro.connect() as conn:
        frame = pd.read_sql(
            sa.text(
                "SELECT c.id, c.status, c.reported_at, cc.respond_hours, cc.close_hours, "
                "c.grid_id FROM cases c JOIN case_categories cc ON cc.code = c.category"
            ),
            conn,
        )
        stored = pd.read_sql(
            sa.text(
                "SELECT case_id, at, action FROM case_history ORDER BY case_id, at, id",
            ),
            conn,
        )
    frame["reported_at"] = pd.to_datetime(frame["reported_at"], utc=True)
    first, stages = history.draw(frame, SEED, DEMO_NOW)
    again, _ = history.draw(frame.sample(frac=1, random_state=3), SEED, DEMO_NOW)
    other, _ = history.draw(frame, SEED + 1, DEMO_NOW)
    pd.testing.assert_frame_equal(first, again)  # whatever order the cases come in
    assert not first.equals(other)
    drawn = first.sort_values(["case_id", "at"], kind="stable")[["case_id", "at", "action"]]
    assert drawn["case_id"].tolist() == stored["case_id"].tolist()  # what the load wrote
    assert drawn["action"].tolist() == stored["action"].tolist()
    assert len(stages) == stored["case_id"].nunique()
