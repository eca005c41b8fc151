"""The case lifecycle over real HTTP: every stage, every illegal move, who sees what, versions
under concurrency, the append-only history, bad input, Open311 and the live stream."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis.access.users import add_user
from gis.registry.vocab import CASE_STATUSES
from tests.conftest import Server, _copy, bearer, counts
from tests.helpers import CHINA_VECTORS, ServerProcess, as_owner, run_cli

INSIDE = (119.01, 25.43)  # in grid 359902103205003


@dataclass
class Env:
    engine: Engine
    server: ServerProcess
    tokens: dict[str, str]
    grid: str  # the grid of INSIDE; "grid_worker" works there
    other_grid: str
    http: httpx.Client = field(default_factory=httpx.Client)  # one pool: no TLS set-up per call

    def url(self, path: str) -> str:
        return self.server.base + path

    def h(self, role: str) -> dict[str, str]:
        return bearer(self.tokens[role]) if role != "public" else {}

    def new_case(self, role: str = "dispatcher", **over: Any) -> dict[str, Any]:
        body = {
            "category": "waterlogging",
            "title": "小区门口积水",
            "description": "雨后积水没过脚踝",
            "location": {"lon": INSIDE[0], "lat": INSIDE[1]},
            "reporter": {"name": "测试人", "phone": "139-1234-5678"},
            **over,
        }
        r = self.http.post(self.url("/api/v1/cases"), json=body, headers=self.h(role))
        assert r.status_code == 201, r.text
        return r.json()

    def act(
        self, case_id: int, action: str, role: str = "dispatcher", version: Any = None
    ) -> httpx.Response:
        if version is None:
            version = self.http.get(
                self.url(f"/api/v1/cases/{case_id}"), headers=self.h("dispatcher")
            ).headers["etag"]
        return self.http.post(
            self.url(f"/api/v1/cases/{case_id}/actions"),
            json={"action": action, "note": f"{action} by {role}"},
            headers={**self.h(role), "If-Match": str(version)},
        )


@pytest.fixture(scope="module")
def env(server: Server, demo_template: str) -> Iterator[Env]:
    for engine in _copy(server, demo_template):
        with engine.begin() as conn:
            grid = conn.execute(
                sa.text(
                    "SELECT code FROM grids WHERE valid_to IS NULL AND "
                    "ST_Covers(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326))"
                ),
                {"x": INSIDE[0], "y": INSIDE[1]},
            ).scalar_one()
            other = conn.execute(
                sa.text("SELECT min(code) FROM grids WHERE valid_to IS NULL AND code <> :g"),
                {"g": grid},
            ).scalar_one()
            tokens = {r: add_user(conn, f"c-{r}", r) for r in ("dispatcher", "analyst", "admin")}
            tokens["grid_worker"] = add_user(conn, "c-worker", "grid_worker", grid)
            tokens["other_worker"] = add_user(conn, "c-other", "grid_worker", other)
        srv = ServerProcess(engine.url.render_as_string(hide_password=False))
        env = Env(engine, srv, tokens, grid, other)
        try:
            yield env
        finally:
            env.http.close()
            srv.stop()


def _rows(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        extra = {
            t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()  # noqa: S608
            for t in ("case_history", "users")
        }
        versions = conn.execute(sa.text("SELECT sum(version) FROM cases")).scalar_one()
    return {**counts(engine), **extra, "versions": int(versions)}


# --- the lifecycle ------------------------------------------------------------------------


def test_a_case_walks_every_stage(env: Env) -> None:
    case = env.new_case()
    assert case["status"] == "reported" and case["grid"]["code"] == env.grid
    assert case["unit"]["code"].startswith(env.grid)
    assert case["respond_by"] < case["close_by"] and case["overdue"] is False
    assert case["allowed_actions"] == ["register", "cancel"]
    cid = case["id"]
    path = [
        ("register", "dispatcher", "registered"),
        ("dispatch", "dispatcher", "dispatched"),
        ("start", "grid_worker", "in_progress"),
        ("respond", "grid_worker", "responded"),
        ("rework", "dispatcher", "dispatched"),
        ("start", "grid_worker", "in_progress"),
        ("respond", "grid_worker", "responded"),
        ("close", "dispatcher", "closed"),
        ("evaluate", "dispatcher", "evaluated"),
    ]
    for i, (action, role, to) in enumerate(path, start=2):
        r = env.act(cid, action, role)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == to and r.headers["etag"] == f'"{i}"'
    final = r.json()
    assert final["closed_on_time"] is True and final["closed_at"] and final["responded_at"]
    hist = httpx.get(env.url(f"/api/v1/cases/{cid}/history"), headers=env.h("dispatcher")).json()
    steps = [(h["action"], h["from_status"], h["to_status"]) for h in hist["history"]]
    assert steps[0] == ("report", None, "reported")
    assert [s[0] for s in steps[1:]] == [p[0] for p in path]
    assert all(h["actor"] and h["at"] for h in hist["history"])
    assert (
        hist["history"][3]["actor"] == "c-worker"
        and hist["history"][3]["note"] == "start by grid_worker"
    )


def test_cancel_is_final(env: Env) -> None:
    cid = env.new_case()["id"]
    assert env.act(cid, "cancel").json()["status"] == "cancelled"
    r = env.act(cid, "register")
    assert r.status_code == 409 and "nothing (final)" in r.json()["detail"]


def _reach(env: Env, status: str) -> int:
    route = {
        "reported": [],
        "registered": ["register"],
        "cancelled": ["cancel"],
        "dispatched": ["register", "dispatch"],
        "in_progress": ["register", "dispatch", "start"],
        "responded": ["register", "dispatch", "start", "respond"],
        "closed": ["register", "dispatch", "start", "respond", "close"],
        "evaluated": ["register", "dispatch", "start", "respond", "close", "evaluate"],
    }[status]
    cid = env.new_case()["id"]
    for action in route:
        assert env.act(cid, action).status_code == 200
    return int(cid)


# The lifecycle written out by hand (GB/T 30428 stages): action -> (from, to, who may take it).
# A grid worker acts only on their own grid's cases.
LIFECYCLE = {
    "register": ("reported", "registered", ("dispatcher",)),
    "cancel": ("reported", "cancelled", ("dispatcher",)),
    "dispatch": ("registered", "dispatched", ("dispatcher",)),
    "start": ("dispatched", "in_progress", ("dispatcher", "grid_worker")),
    "respond": ("in_progress", "responded", ("dispatcher", "grid_worker")),
    "close": ("responded", "closed", ("dispatcher",)),
    "rework": ("responded", "dispatched", ("dispatcher",)),
    "evaluate": ("closed", "evaluated", ("dispatcher",)),
}
STAGES = (
    "reported",
    "registered",
    "cancelled",
    "dispatched",
    "in_progress",
    "responded",
    "closed",
    "evaluated",
)
ACTING_ROLES = ("dispatcher", "grid_worker", "analyst", "admin")


def _legal(stage: str, role: str) -> list[str]:
    return [a for a, (frm, _, roles) in LIFECYCLE.items() if frm == stage and role in roles]


def test_the_hand_written_lifecycle_has_every_stage() -> None:
    assert set(STAGES) == set(CASE_STATUSES)


@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_action_and_role(env: Env, stage: str) -> None:
    """Each role sees the allowed actions of the table; every other action is a 409 (wrong
    stage) or a 403 (wrong role) and changes nothing; each legal one leads where the table
    says. Another grid's worker sees no such case (404), the public needs a token (401)."""
    cid = _reach(env, stage)
    url = env.url(f"/api/v1/cases/{cid}")
    version = env.http.get(url, headers=env.h("dispatcher")).headers["etag"]
    before = _rows(env.engine)
    for role in ACTING_ROLES:
        case = env.http.get(url, headers=env.h(role)).json()
        assert case["status"] == stage
        assert case["allowed_actions"] == _legal(stage, role), role
        for action, (frm, _, roles) in LIFECYCLE.items():
            if frm == stage and role in roles:
                continue  # legal: taken below on a case of its own
            r = env.act(cid, action, role, version=version)
            detail = r.json()["detail"]
            if frm != stage:
                assert r.status_code == 409, (stage, action, role, r.text)
                assert f"cannot {action} a case that is {stage}" in detail
                if role == "dispatcher":
                    assert all(a in detail for a in _legal(stage, role))
                    assert _legal(stage, role) or "nothing (final)" in detail
            else:
                assert r.status_code == 403, (stage, action, role, r.text)
                assert f"may not {action}" in detail and "dispatcher" in detail
    for role, status in (("other_worker", 404), ("public", 401)):
        assert env.http.get(url, headers=env.h(role)).status_code == status
        for action in LIFECYCLE:
            assert env.act(cid, action, role, version=version).status_code == status
    assert _rows(env.engine) == before

    for action, (frm, to, roles) in LIFECYCLE.items():
        for role in roles if frm == stage else ():
            fresh = _reach(env, stage)
            r = env.act(fresh, action, role)
            assert r.status_code == 200, (stage, action, role, r.text)
            assert r.json()["status"] == to and r.json()["allowed_actions"] == _legal(to, role)
            last = env.http.get(
                env.url(f"/api/v1/cases/{fresh}/history"), headers=env.h("dispatcher")
            ).json()["history"][-1]
            assert (last["action"], last["from_status"], last["to_status"]) == (action, stage, to)


# --- nothing lost ---------------------------------------------------------------------------


def test_twenty_concurrent_dispatches_one_wins(env: Env) -> None:
    cid = _reach(env, "registered")
    version = httpx.get(env.url(f"/api/v1/cases/{cid}"), headers=env.h("dispatcher")).headers[
        "etag"
    ]
    barrier = threading.Barrier(20)

    def dispatch(_: int) -> int:
        barrier.wait()
        return env.act(cid, "dispatch", version=version).status_code

    with ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(dispatch, range(20)))
    assert sorted(codes) == [200] + [412] * 19
    with env.engine.connect() as conn:
        n = conn.execute(
            sa.text("SELECT count(*) FROM case_history WHERE case_id = :c AND action = 'dispatch'"),
            {"c": cid},
        ).scalar_one()
    assert n == 1


def test_history_is_append_only_in_the_database(env: Env) -> None:
    cid = env.new_case()["id"]
    for sql in (
        "UPDATE case_history SET note = 'rewritten' WHERE case_id = :c",
        "DELETE FROM case_history WHERE case_id = :c",
        "TRUNCATE case_history",
    ):  # the app role lacks the privilege (tests/test_privilege.py); the owner meets the trigger
        with (
            pytest.raises(sa.exc.DBAPIError, match="append-only"),
            as_owner(env.engine).begin() as conn,
        ):
            conn.execute(sa.text(sql), {"c": cid})
    with env.engine.connect() as conn:
        assert (
            conn.execute(
                sa.text("SELECT count(*) FROM case_history WHERE case_id = :c"), {"c": cid}
            ).scalar_one()
            == 1
        )


# --- who sees what --------------------------------------------------------------------------

# The reporter as filed (new_case), unmasked; the grid leader's phone is read from the database.
PERSONAL_WORDS = ("测试人", "139-1234-5678")


def _endpoints(env: Env, cid: int) -> dict[str, str]:
    from tests.test_tiles import tile_of

    z, x, y = tile_of(15, *INSIDE)
    return {
        "list": f"/api/v1/cases?grid={env.grid}&limit=1000",
        "one": f"/api/v1/cases/{cid}",
        "history": f"/api/v1/cases/{cid}/history",
        "ogc cases": f"/ogc/collections/cases/items?grid_code={env.grid}&limit=1000",
        "ogc case": f"/ogc/collections/cases/items/{cid}",
        "ogc grids": f"/ogc/collections/grids/items?code={env.grid}",
        "tile cases": f"/tiles/cases/{z}/{x}/{y}.geojson",
        "tile grids": f"/tiles/grids/{z}/{x}/{y}.geojson",
        "open311": f"/open311/v2/requests/{cid}.json",
        "counts": "/api/v1/cases/counts",
    }


# role -> endpoint -> (status, may see personal data)
EXPECTED: dict[str, dict[str, tuple[int, bool]]] = {
    "public": {
        "list": (401, False),
        "one": (401, False),
        "history": (401, False),
        "ogc cases": (401, False),
        "ogc case": (401, False),
        "ogc grids": (200, False),
        "tile cases": (200, False),
        "tile grids": (200, False),
        "open311": (403, False),
        "counts": (200, False),
    },
    "analyst": {  # personal fields masked everywhere: never the values themselves
        "list": (200, False),
        "one": (200, False),
        "history": (200, False),
        "ogc cases": (200, False),
        "ogc case": (200, False),
        "ogc grids": (200, False),
        "tile cases": (200, False),
        "tile grids": (200, False),
        "open311": (200, False),
        "counts": (200, False),
    },
    "other_worker": {
        "list": (200, False),
        "one": (404, False),
        "history": (404, False),
        "ogc cases": (200, False),
        "ogc case": (404, False),
        "ogc grids": (200, False),  # leaders' contacts: only through their own grid's cases
        "tile cases": (204, False),
        "tile grids": (200, False),
        "open311": (404, False),
        "counts": (200, False),
    },
    "grid_worker": {
        "list": (200, True),
        "one": (200, True),
        "history": (200, False),
        "ogc cases": (200, True),
        "ogc case": (200, True),
        "ogc grids": (200, False),
        "tile cases": (200, False),
        "tile grids": (200, False),
        "open311": (200, False),
        "counts": (200, False),
    },
    "dispatcher": {
        "list": (200, True),
        "one": (200, True),
        "history": (200, False),
        "ogc cases": (200, True),
        "ogc case": (200, True),
        "ogc grids": (200, True),
        "tile cases": (200, False),
        "tile grids": (200, False),
        "open311": (200, False),
        "counts": (200, False),
    },
}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_role_endpoint_matrix(env: Env, role: str) -> None:
    cid = env.new_case()["id"]
    with env.engine.connect() as conn:
        leader_phone = conn.execute(
            sa.text("SELECT leader_phone FROM grids WHERE code = :g"), {"g": env.grid}
        ).scalar_one()
    assert leader_phone
    for name, path in _endpoints(env, cid).items():
        r = httpx.get(env.url(path), headers=env.h(role))
        status, personal = EXPECTED[role][name]
        assert r.status_code == status, (role, name, r.status_code, r.text[:200])
        leaked = [w for w in (*PERSONAL_WORDS, leader_phone) if w in r.text]
        if personal:
            assert leaked, (role, name, "should see personal data")
        else:
            assert not leaked, (role, name, leaked)
    if role == "other_worker":  # their list holds only their own grid's cases
        mine = httpx.get(env.url("/api/v1/cases?limit=1000"), headers=env.h(role)).json()
        assert mine["total"] > 0 and {c["grid"]["code"] for c in mine["cases"]} == {env.other_grid}


def test_analyst_sees_masked_personal_data(env: Env) -> None:
    cid = env.new_case()["id"]
    case = httpx.get(env.url(f"/api/v1/cases/{cid}"), headers=env.h("analyst")).json()
    assert case["reporter"] == {"name": "测**", "phone": "139****78"}
    assert "allowed_actions" in case and case["allowed_actions"] == []


# --- intake -----------------------------------------------------------------------------------


def test_intake_in_gcj02_and_duplicate_warning(env: Env) -> None:
    first = env.new_case(category="noise", title="夜间施工噪音")
    wlon, wlat, glon, glat = CHINA_VECTORS[1][:4]  # 10 m east of INSIDE, hand-worked GCJ-02
    second = env.new_case(
        category="noise",
        title="工地夜间施工",
        location={"lon": glon, "lat": glat, "crs": "GCJ02"},
    )
    assert second["grid"]["code"] == env.grid
    assert abs(second["lon"] - wlon) < 1e-7 and abs(second["lat"] - wlat) < 1e-7
    dups = {d["id"]: d for d in second["possible_duplicates"]}
    assert first["id"] in dups and 5 < dups[first["id"]]["distance_m"] < 15
    third = env.new_case(category="sanitation", title="垃圾堆放")
    assert first["id"] not in {d["id"] for d in third["possible_duplicates"]}


def test_overdue_and_on_time(env: Env) -> None:
    cid = env.new_case()["id"]
    with env.engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE cases SET close_by = now() - interval '1 hour', "
                "respond_by = now() - interval '2 hours' WHERE id = :c"
            ),
            {"c": cid},
        )
    case = httpx.get(env.url(f"/api/v1/cases/{cid}"), headers=env.h("dispatcher")).json()
    assert case["overdue"] is True
    late = httpx.get(
        env.url(f"/api/v1/cases?overdue=true&grid={env.grid}&limit=1000"),
        headers=env.h("dispatcher"),
    ).json()
    assert cid in {c["id"] for c in late["cases"]}
    for action in ("register", "dispatch", "start", "respond", "close"):
        assert env.act(cid, action).status_code == 200
    case = httpx.get(env.url(f"/api/v1/cases/{cid}"), headers=env.h("dispatcher")).json()
    assert case["overdue"] is False and case["closed_on_time"] is False


def test_grid_worker_files_only_in_their_grid(env: Env) -> None:
    r = httpx.post(
        env.url("/api/v1/cases"),
        json={
            "category": "noise",
            "title": "噪音",
            "location": {"lon": INSIDE[0], "lat": INSIDE[1]},
        },
        headers=env.h("other_worker"),
    )
    assert r.status_code == 403 and env.grid in r.json()["detail"]
    assert env.new_case("grid_worker")["grid"]["code"] == env.grid


# --- bad input ----------------------------------------------------------------------------------

GOOD = {"category": "noise", "title": "噪音", "location": {"lon": INSIDE[0], "lat": INSIDE[1]}}


def _bad_cases() -> list[tuple[str, str, str, Any, dict[str, str], int, str]]:
    """(name, method, path, body, headers-role, status, words in the message)."""
    long = "长" * 201
    return [
        ("malformed JSON", "POST", "/api/v1/cases", b"{not json", {}, 422, "JSON"),
        ("body not an object", "POST", "/api/v1/cases", [1, 2], {}, 422, "body"),
        ("missing title", "POST", "/api/v1/cases", {**GOOD, "title": None}, {}, 422, "title"),
        (
            "blank title",
            "POST",
            "/api/v1/cases",
            {**GOOD, "title": "  "},
            {},
            422,
            "title is required",
        ),
        (
            "over-long title",
            "POST",
            "/api/v1/cases",
            {**GOOD, "title": long},
            {},
            422,
            "at most 200",
        ),
        (
            "over-long description",
            "POST",
            "/api/v1/cases",
            {**GOOD, "description": "x" * 5001},
            {},
            422,
            "at most 5000",
        ),
        (
            "unknown category",
            "POST",
            "/api/v1/cases",
            {**GOOD, "category": "ufo"},
            {},
            422,
            "unknown category 'ufo'",
        ),
        (
            "swapped coordinates",
            "POST",
            "/api/v1/cases",
            {**GOOD, "location": {"lon": INSIDE[1], "lat": INSIDE[0]}},
            {},
            422,
            "swapped",
        ),
        (
            "far outside the city",
            "POST",
            "/api/v1/cases",
            {**GOOD, "location": {"lon": 116.4, "lat": 39.9}},
            {},
            422,
            "outside the city",
        ),
        (
            "outside coverage",
            "POST",
            "/api/v1/cases",
            {**GOOD, "location": {"lon": 119.2, "lat": 25.26}},
            {},
            422,
            "outside every grid",
        ),
        (
            "unknown crs",
            "POST",
            "/api/v1/cases",
            {**GOOD, "location": {"lon": INSIDE[0], "lat": INSIDE[1], "crs": "mars"}},
            {},
            422,
            "unknown CRS",
        ),
        (
            "lon and x both",
            "POST",
            "/api/v1/cases",
            {**GOOD, "location": {"lon": 1, "lat": 2, "x": 3, "y": 4}},
            {},
            422,
            "not both",
        ),
        (
            "non-numeric lon",
            "POST",
            "/api/v1/cases",
            {**GOOD, "location": {"lon": "east", "lat": 25.4}},
            {},
            422,
            "lon",
        ),
        (
            "bad phone",
            "POST",
            "/api/v1/cases",
            {**GOOD, "reporter": {"phone": "call me"}},
            {},
            422,
            "not a phone number",
        ),
        (
            "over-long reporter name",
            "POST",
            "/api/v1/cases",
            {**GOOD, "reporter": {"name": "名" * 51}},
            {},
            422,
            "at most 50",
        ),
        ("no token", "POST", "/api/v1/cases", GOOD, {"role": "public"}, 403, "may not file"),
        (
            "bad token",
            "POST",
            "/api/v1/cases",
            GOOD,
            {"Authorization": "Bearer om_wrong"},
            401,
            "unknown token",
        ),
        (
            "not a bearer",
            "POST",
            "/api/v1/cases",
            GOOD,
            {"Authorization": "Basic abc"},
            401,
            "Bearer",
        ),
        (
            "analyst files",
            "POST",
            "/api/v1/cases",
            GOOD,
            {"role": "analyst"},
            403,
            "analyst may not file",
        ),
        (
            "unknown action",
            "ACT",
            "walk",
            {"action": "teleport"},
            {},
            409,
            "unknown action 'teleport'",
        ),
        (
            "illegal transition",
            "ACT",
            "close",
            {"action": "close"},
            {},
            409,
            "cannot close a case that is reported",
        ),
        ("missing If-Match", "ACT", "no-if-match", {"action": "register"}, {}, 428, "If-Match"),
        ("stale If-Match", "ACT", "stale", {"action": "register"}, {}, 412, "at version 1, not 9"),
        (
            "garbage If-Match",
            "ACT",
            "garbage",
            {"action": "register"},
            {},
            428,
            "not a case version",
        ),
        (
            "over-long note",
            "ACT",
            "note",
            {"action": "register", "note": "n" * 2001},
            {},
            422,
            "at most 2000",
        ),
        (
            "another grid's case",
            "ACT",
            "other",
            {"action": "start"},
            {"role": "other_worker"},
            404,
            "no case",
        ),
        ("unknown case", "GET", "/api/v1/cases/987654321", None, {}, 404, "no case 987654321"),
        ("case id not a number", "GET", "/api/v1/cases/abc", None, {}, 422, "case_id"),
        (
            "unknown status filter",
            "GET",
            "/api/v1/cases?status=lost",
            None,
            {},
            422,
            "unknown status 'lost'",
        ),
        ("bad bbox filter", "GET", "/api/v1/cases?bbox=1,2,x,4", None, {}, 422, "bbox"),
        ("limit too large", "GET", "/api/v1/cases?limit=100000", None, {}, 422, "limit"),
        (
            "bad date filter",
            "GET",
            "/api/v1/cases?reported_after=yesterday",
            None,
            {},
            422,
            "reported_after",
        ),
        (
            "hostile query",
            "GET",
            "/api/v1/cases?grid=1'%3BDROP%20TABLE%20cases--",
            None,
            {},
            422,
            "grid",
        ),
        (
            "stream without token",
            "GET",
            "/api/v1/cases/stream",
            None,
            {"role": "public"},
            401,
            "token",
        ),
        (
            "open311 without api_key",
            "O311",
            "/open311/v2/requests.json",
            {"service_code": "noise", "lat": "25.43", "long": "119.01"},
            {},
            403,
            "api_key is required",
        ),
        (
            "open311 bad api_key",
            "O311",
            "/open311/v2/requests.json",
            {"api_key": "nope", "service_code": "noise", "lat": "25.43", "long": "119.01"},
            {},
            403,
            "unknown token",
        ),
        (
            "open311 no coordinates",  # nor an address (issue 14: address_string alone files)
            "O311",
            "/open311/v2/requests.json",
            {"api_key": "$dispatcher", "service_code": "noise", "address_string": " "},
            {},
            400,
            "long is required",
        ),
        (
            "open311 unknown service",
            "O311",
            "/open311/v2/requests.json",
            {"api_key": "$dispatcher", "service_code": "ufo", "lat": "25.43", "long": "119.01"},
            {},
            400,
            "unknown category",
        ),
    ]


BAD = _bad_cases()


@pytest.mark.parametrize("bad", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_a_clear_4xx_and_changes_nothing(env: Env, bad: tuple[Any, ...]) -> None:
    name, method, path, body, headers, status, words = bad
    role = headers.pop("role", "dispatcher") if "role" in headers else "dispatcher"
    hdrs = dict(headers) if headers else env.h(role)
    if method == "ACT":  # an action on a fresh reported case
        cid = env.new_case()["id"]
        version = {"no-if-match": None, "stale": '"9"', "garbage": "yesterday"}.get(path, '"1"')
        if path == "other":
            cid = _reach(env, "dispatched")
            version = '"3"'
        hdrs = {**env.h(role)}
        if version is not None:
            hdrs["If-Match"] = version
        before = _rows(env.engine)
        r = httpx.post(env.url(f"/api/v1/cases/{cid}/actions"), json=body, headers=hdrs)
    else:
        before = _rows(env.engine)
        if method == "POST":
            kwargs: dict[str, Any] = (
                {"content": body, "headers": {**hdrs, "Content-Type": "application/json"}}
                if isinstance(body, bytes)
                else {"json": body, "headers": hdrs}
            )
            r = httpx.post(env.url(path), **kwargs)
        elif method == "O311":
            form = {
                k: (env.tokens["dispatcher"] if v == "$dispatcher" else v) for k, v in body.items()
            }
            r = httpx.post(env.url(path), data=form)
        else:
            r = httpx.get(env.url(path), headers=hdrs)
    assert r.status_code == status, (name, r.status_code, r.text[:300])
    assert words.lower() in r.text.lower(), (name, r.text[:300])
    assert _rows(env.engine) == before, name


def test_there_are_at_least_thirty_bad_inputs() -> None:
    assert len(BAD) >= 30


# --- Open311 and the stream ---------------------------------------------------------------


def test_open311_client_request_becomes_a_dispatchers_case(env: Env) -> None:
    services = httpx.get(env.url("/open311/v2/services.json")).json()
    assert {"service_code", "service_name", "metadata", "type", "group"} <= set(services[0])
    assert "waterlogging" in {s["service_code"] for s in services}
    # A GeoReport v2 POST as clients send it: form-encoded, api_key among the fields.
    form = {
        "api_key": env.tokens["dispatcher"],
        "service_code": "waterlogging",
        "lat": str(INSIDE[1]),
        "long": str(INSIDE[0]),
        "address_string": "阳昌村东路12号",
        "description": "路口积水严重，车辆无法通行",
        "first_name": "小明",
        "last_name": "王",
        "phone": "13900001111",
        "email": "wang@example.org",
        "device_id": "hotline-12345",
    }
    r = httpx.post(env.url("/open311/v2/requests.json"), data=form)
    assert r.status_code == 201, r.text
    (created,) = r.json()
    rid = int(created["service_request_id"])
    case = httpx.get(env.url(f"/api/v1/cases/{rid}"), headers=env.h("dispatcher")).json()
    assert case["source"] == "open311" and case["grid"]["code"] == env.grid
    assert case["reporter"] == {"name": "王 小明", "phone": "13900001111"}
    assert case["address"] == "阳昌村东路12号"
    (req,) = httpx.get(
        env.url(f"/open311/v2/requests/{rid}.json"), headers={"X-API-Key": env.tokens["analyst"]}
    ).json()
    assert req["status"] == "open" and req["status_notes"].endswith("(reported)")
    assert "13900001111" not in json.dumps(req)
    env.act(rid, "cancel")
    listed = httpx.get(
        env.url("/open311/v2/requests.json"),
        params={"service_request_id": str(rid)},
        headers=env.h("dispatcher"),
    ).json()
    assert listed[0]["status"] == "closed" and "cancelled" in listed[0]["status_notes"]


def _listeners(env: Env) -> int:
    """The server's LISTEN connections on the case channel, as PostgreSQL sees them."""
    with env.engine.connect() as conn:
        return int(
            conn.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND query = 'LISTEN onemap_cases'"
                )
            ).scalar_one()
        )


def test_stream_tells_of_new_and_changed_cases(env: Env) -> None:
    got: list[dict[str, Any]] = []
    other_got: list[dict[str, Any]] = []
    fields: list[tuple[str, str]] = []  # the event's other fields, as the wire carries them
    ready = threading.Event()
    other_ready = threading.Event()

    def listen(role: str, sink: list[dict[str, Any]], flag: threading.Event, want: int) -> None:
        url = env.url("/api/v1/cases/stream")
        try:
            with httpx.stream("GET", url, headers=env.h(role), timeout=30) as r:
                assert r.status_code == 200
                assert r.headers["content-type"].startswith("text/event-stream")
                assert r.headers["cache-control"] == "no-store"
                assert r.headers["x-accel-buffering"] == "no"
                for line in r.iter_lines():
                    if line.startswith(": listening"):
                        flag.set()
                    if line.startswith(("event: ", "id: ", "retry: ")) and role == "dispatcher":
                        name, _, value = line.partition(": ")
                        fields.append((name, value))
                    if line.startswith("data: "):
                        sink.append(json.loads(line[6:]))
                        if len(sink) >= want:
                            return
        except httpx.HTTPError:  # the server stops at the end of the module
            return

    t = threading.Thread(target=listen, args=("dispatcher", got, ready, 2), daemon=True)
    u = threading.Thread(
        target=listen, args=("other_worker", other_got, other_ready, 1), daemon=True
    )
    t.start()
    u.start()
    assert ready.wait(10) and other_ready.wait(10)
    assert _listeners(env) == 1  # two streams, one LISTEN connection in the server
    case = env.new_case()
    env.act(case["id"], "register")
    t.join(20)
    assert [(e["event"], e["id"], e["status"]) for e in got] == [
        ("created", case["id"], "reported"),
        ("changed", case["id"], "registered"),
    ]
    cid = case["id"]
    assert sorted(fields) == [  # the versions: 1 when reported, 2 once registered
        ("event", "case"),
        ("event", "case"),
        ("id", f"{cid}.1"),
        ("id", f"{cid}.2"),
        ("retry", "3000"),
    ]
    assert all(e["grid_code"] == env.grid for e in got)
    assert not re.search(r"测试人|139-1234", json.dumps(got, ensure_ascii=False))
    assert other_got == []  # another grid's worker hears nothing of it ...
    with env.engine.connect() as conn:
        lon, lat = conn.execute(
            sa.text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM grids "
                "WHERE code = :g AND valid_to IS NULL) s"
            ),
            {"g": env.other_grid},
        ).one()
    theirs = env.new_case(location={"lon": lon, "lat": lat})
    u.join(20)  # ... but hears a case in their own grid
    assert [(e["id"], e["grid_code"]) for e in other_got] == [(theirs["id"], env.other_grid)]
    for _ in range(50):  # both clients have gone: the server stops listening
        if _listeners(env) == 0:
            break
        time.sleep(0.1)
    assert _listeners(env) == 0


def test_stream_ends_when_its_client_leaves(env: Env) -> None:
    """A closed stream unsubscribes: once the last client has gone, the server closes its
    LISTEN connection (a generator left running would keep it open)."""
    url = env.url("/api/v1/cases/stream")
    with httpx.stream("GET", url, headers=env.h("dispatcher"), timeout=30) as r:
        lines = r.iter_lines()  # kept: a dropped line iterator would close the connection
        for line in lines:
            if line.startswith(": listening"):
                break
        assert _listeners(env) == 1
    for _ in range(50):
        if _listeners(env) == 0:
            break
        time.sleep(0.1)
    assert _listeners(env) == 0


def test_cli_issues_tokens(env: Env) -> None:
    url_env = env.engine
    r = run_cli("users", "add", "--name", "cli-analyst", "--role", "analyst", engine=url_env)
    assert r.returncode == 0 and r.stdout.startswith("om_")
    token = r.stdout.strip()
    assert httpx.get(env.url("/api/v1/cases?limit=1"), headers=bearer(token)).status_code == 200
    bad = run_cli("users", "add", "--name", "w", "--role", "grid_worker", engine=url_env)
    assert bad.returncode != 0 and "--grid" in bad.stderr
    assert run_cli("users", "disable", "cli-analyst", engine=url_env).returncode == 0
    assert httpx.get(env.url("/api/v1/cases?limit=1"), headers=bearer(token)).status_code == 401
    listing = run_cli("users", "list", engine=url_env).stdout
    assert "cli-analyst" in listing and "om_" not in listing


def test_no_personal_data_or_token_in_the_server_log(env: Env) -> None:
    env.new_case()
    log = env.server.logs()
    assert "139-1234-5678" not in log and "测试人" not in log
    assert not any(t in log for t in env.tokens.values())


def test_demo_tokens_one_per_role(env: Env) -> None:
    out = run_cli("demo", "tokens", engine=env.engine)
    assert out.returncode == 0, out.stderr
    tokens = dict(re.findall(r"^\s+(\w+)\s.*?(om_\S+)$", out.stdout, re.M))
    assert set(tokens) == {"dispatcher", "grid_worker", "analyst", "admin", "intake"}
    for role, token in tokens.items():
        r = httpx.get(env.url("/api/v1/cases?limit=1"), headers=bearer(token))
        assert r.status_code == (403 if role == "intake" else 200), role  # intake: files only


def test_on_time_statistics_per_grid_and_up(env: Env) -> None:
    """Two cases closed in a fresh window, one late: the grid's on-time rate is 0.5; the
    village, town and district roll it up; the public sees aggregates only."""
    with env.engine.connect() as conn:
        start = conn.execute(sa.text("SELECT now()")).scalar_one()
    on_time, late = _reach(env, "responded"), _reach(env, "responded")
    with env.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE cases SET close_by = now() - interval '1 minute' WHERE id = :c"),
            {"c": late},
        )
    for cid in (on_time, late):
        assert env.act(cid, "close").status_code == 200
    params = {"since": start.isoformat()}
    h = env.h("dispatcher")  # a window of minutes: the public may not ask for one
    grid = {
        a["code"]: a
        for a in httpx.get(env.url("/api/v1/cases/stats"), params=params, headers=h).json()["areas"]
    }
    mine = grid[env.grid]
    assert (mine["closed"], mine["closed_on_time"], mine["on_time_rate"]) == (2, 1, 0.5)
    assert mine["reported"] >= 2 and "测试人" not in str(grid)
    for level, code in (
        ("village", env.grid[:12]),
        ("town", env.grid[:9] + "000"),
        ("district", env.grid[:6] + "000000"),
    ):
        up = httpx.get(
            env.url("/api/v1/cases/stats"), params={**params, "level": level}, headers=h
        ).json()
        row = {a["code"]: a for a in up["areas"]}[code]
        assert row["closed"] >= 2 and row["closed_on_time"] >= 1
    short = httpx.get(env.url("/api/v1/cases/stats"), params=params)  # the public
    assert short.status_code == 422 and short.json()["parameter"] == "since"
    assert "shorter than 7 days" in short.json()["detail"]
    bad = httpx.get(env.url("/api/v1/cases/stats"), params={"level": "planet"})
    assert bad.status_code == 422 and "unknown level 'planet'" in bad.text
    naive = httpx.get(env.url("/api/v1/cases/stats"), params={"since": "2026-01-01T00:00:00"})
    assert naive.status_code == 422 and "time zone" in naive.text


def test_the_publics_statistics_withhold_small_counts(env: Env) -> None:
    """k = 5: a count from 1 to 4 is withheld from the public (None, named in `withheld`);
    signed-in readers get every figure. Oracle: the same counts by direct SQL."""
    params = {"since": "2025-01-01T00:00:00Z", "until": "2026-12-31T00:00:00Z"}
    with env.engine.connect() as conn:
        want = dict(
            conn.execute(
                sa.text(
                    "SELECT g.code, count(*) FROM cases c JOIN grids g ON g.id = c.grid_id "
                    "WHERE c.reported_at >= :s AND c.reported_at < :u GROUP BY g.code"
                ),
                {"s": params["since"], "u": params["until"]},
            ).all()
        )
    public = {
        a["code"]: a
        for a in httpx.get(env.url("/api/v1/cases/stats"), params=params).json()["areas"]
    }
    signed = {
        a["code"]: a
        for a in httpx.get(
            env.url("/api/v1/cases/stats"), params=params, headers=env.h("analyst")
        ).json()["areas"]
    }
    assert {c: a["reported"] for c, a in signed.items()} == want
    assert {c: a["reported"] for c, a in public.items()} == {
        c: (n if n >= 5 else None) for c, n in want.items()
    }
    assert any(n < 5 for n in want.values()) and any(n >= 5 for n in want.values())
    for code, a in public.items():
        assert ("reported" in a["withheld"]) == (want[code] < 5)
        for count in ("open", "overdue", "closed", "closed_on_time"):
            got, full = a[count], signed[code][count]
            assert got == (full if full == 0 or full >= 5 else None), (code, count)
