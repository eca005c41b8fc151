"""The case lifecycle (GB/T 30428 stages): which action leads from which stage to which, and
which roles may take it. Pure rules; gis/cases/ applies them to the database.

reported (信息收集) -> registered (案卷建立) or cancelled (作废) -> dispatched (任务派遣)
-> in_progress (任务处理) -> responded (处理反馈) -> closed (核查结案), or back to
dispatched for rework -> evaluated (综合评价).
"""

from __future__ import annotations

from dataclasses import dataclass

from gis.access.roles import DISPATCHER, DISPATCHERS, HANDLERS
from gis.errors import Forbidden, IllegalTransition
from gis.registry.vocab import CASE_STATUSES

OPEN = ("reported", "registered", "dispatched", "in_progress", "responded")


@dataclass(frozen=True)
class Action:
    name: str
    from_: tuple[str, ...]
    to: str
    roles: tuple[str, ...]
    label: str
    needs_owner: bool = False  # refused while the case has no grid (no point yet)


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action("register", ("reported",), "registered", DISPATCHERS, "案卷建立 register"),
        Action("cancel", ("reported",), "cancelled", DISPATCHERS, "作废 cancel"),
        Action("dispatch", ("registered",), "dispatched", DISPATCHERS, "任务派遣 dispatch", True),
        Action("start", ("dispatched",), "in_progress", HANDLERS, "任务处理 start handling"),
        Action("respond", ("in_progress",), "responded", HANDLERS, "处理反馈 respond"),
        Action("close", ("responded",), "closed", DISPATCHERS, "核查结案 verify and close"),
        Action("rework", ("responded",), "dispatched", DISPATCHERS, "返工 send back"),
        Action("evaluate", ("closed",), "evaluated", DISPATCHERS, "综合评价 evaluate"),
    )
}


def allowed(status: str, role: str) -> list[str]:
    """The actions `role` may take on a case at `status`."""
    return [a.name for a in ACTIONS.values() if status in a.from_ and role in a.roles]


PLACE = "place"
"""Placing a case (setting its point, hence its grid and unit): not a lifecycle step, the
stage stays; written to the history under this action name."""
PLACERS = DISPATCHERS
"""Who may place or re-place a case: whoever registers and dispatches it."""


def check_place(status: str, role: str) -> None:
    """Whether `role` may place a case at `status`: any open stage, by PLACERS."""
    if role not in PLACERS:
        raise Forbidden(f"a {role} may not place cases ({', '.join(PLACERS)} may)")
    if status not in OPEN:
        raise IllegalTransition(
            f"cannot place a case that is {status}: only open cases ({', '.join(OPEN)}) move"
        )


def next_status(status: str, action: str, role: str, owned: bool = True) -> str:
    """The stage `action` leads to, or an error naming what is allowed instead; `owned`:
    whether the case has a grid (a case filed by a vague address has none until placed)."""
    act = ACTIONS.get(action)
    if act is None:
        raise IllegalTransition(f"unknown action {action[:40]!r}: use one of {', '.join(ACTIONS)}")
    if status not in act.from_:
        # what this role may do now; for a role that may do nothing, what a dispatcher may
        here = allowed(status, role) if role in HANDLERS else allowed(status, DISPATCHER)
        raise IllegalTransition(
            f"cannot {action} a case that is {status}: {action} applies to "
            f"{' or '.join(act.from_)} cases; allowed now: {', '.join(here) or 'nothing (final)'}"
        )
    if role not in act.roles:
        raise Forbidden(
            f"a {role} may not {action} cases ({', '.join(act.roles)} may); "
            f"allowed for you now: {', '.join(allowed(status, role)) or 'nothing'}"
        )
    if act.needs_owner and not owned:
        raise IllegalTransition(
            f"cannot {action} a case with no grid: its address could not be placed; place it "
            "first (POST /api/v1/cases/{id}/location with lon and lat, or an address)"
        )
    return act.to


def describe() -> dict[str, list[dict[str, object]]]:
    """The stages in lifecycle order with their labels, and every action: from which stages,
    to which, by which roles (what a page needs so as never to hard-code them)."""
    return {
        "stages": [{"code": code, "label": label} for code, label in CASE_STATUSES.items()],
        "actions": [
            {
                "name": a.name,
                "label": a.label,
                "from": list(a.from_),
                "to": a.to,
                "roles": list(a.roles),
            }
            for a in ACTIONS.values()
        ],
    }
