"""The console's server side over real HTTP: cookie sign-in, the queue's filters and sorts,
a case's surroundings, the lifecycle, leaders in locate, search and config — asked as a
dispatcher, a grid worker, an analyst and the public. Oracles: direct SQL written here, masks
and labels worked by hand, cookie attributes read off the wire."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from gis.access.users import add_user, disable_user
from tests.conftest import bearer
from tests.helpers import ServerProcess
from tests.test_cases import INSIDE, Env, env  # noqa: F401 - the module's fixture

ROLES = ("dispatcher", "grid_worker", "analyst", "public")
# The stages and their labels, by hand from the lifecycle (GB/T 30428).
STAGES = [
    ("reported", "信息收集"),
    ("registered", "案卷建立"),
    ("cancelled", "作废"),
    ("dispatched", "任务派遣"),
    ("in_progress", "任务处理"),
    ("responded", "处理反馈"),
    ("closed", "核查结案"),
    ("evaluated", "综合评价"),
]
LABEL = dict(STAGES)
# Leaders set on INSIDE's grid and unit, with their masks worked by hand.
GRID_LEADER = {"name": "欧阳明月", "phone": "138-1234-5678"}
GRID_LEADER_MASKED = {"name": "欧***", "phone": "138****78"}
UNIT_LEADER = {"name": "林芳", "phone": "0594 2233 4455"}
UNIT_LEADER_MASKED = {"name": "林*", "phone": "059****55"}
# The oracle's own copy of a case's deadline to close (the category's hours by default).
CLOSE_BY = "coalesce(c.close_by, c.reported_at + cc.close_hours * interval '1 hour')"
OPEN = ("reported", "registered", "dispatched", "in_progress", "responded")


def _sql(env: Env, query: str, **binds: Any) -> list[Any]:  # noqa: F811
    with env.engine.connect() as conn:
        return list(conn.execute(sa.text(query), binds))


def _scope(env: Env, role: str) -> str:  # noqa: F811
    """The rows `role` may read, as the oracle's condition over grids g."""
    return f"g.code = '{env.grid}'" if role == "grid_worker" else "TRUE"


def _get(env: Env, path: str, role: str, **params: Any) -> httpx.Response:  # noqa: F811
    return env.http.get(env.url(path), params=params, headers=env.h(role), timeout=30)


@pytest.fixture(scope="module")
def leaders(env: Env) -> None:  # noqa: F811
    with env.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE grids SET leader_name = :n, leader_phone = :p WHERE code = :g"),
            {"n": GRID_LEADER["name"], "p": GRID_LEADER["phone"], "g": env.grid},
        )
        conn.execute(
            sa.text(
                "UPDATE units SET leader_name = :n, leader_phone = :p WHERE valid_to IS NULL "
                "AND ST_Covers(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326))"
            ),
            {"n": UNIT_LEADER["name"], "p": UNIT_LEADER["phone"], "x": INSIDE[0], "y": INSIDE[1]},
        )


# --- sign-in with a session cookie ----------------------------------------------------------


def _cookie_attrs(header: str) -> tuple[str, dict[str, str]]:
    """`name=value` and the attributes of one Set-Cookie header, keys lower-cased."""
    first, *rest = [p.strip() for p in header.split(";")]
    attrs = {}
    for part in rest:
        key, _, value = part.partition("=")
        attrs[key.lower()] = value
    return first, attrs


def test_sign_in_sets_an_httponly_strict_cookie(env: Env) -> None:  # noqa: F811
    token = env.tokens["grid_worker"]
    # Module-level httpx calls: no cookie jar (env.http must stay cookie-free).
    r = httpx.post(env.url("/api/v1/session"), json={"token": token})
    assert r.status_code == 200, r.text
    assert r.json() == {"name": "c-worker", "role": "grid_worker", "grid_code": env.grid}
    pair, attrs = _cookie_attrs(r.headers["set-cookie"])
    assert pair == f"onemap_session={token}"
    assert attrs["samesite"].lower() == "strict" and attrs["path"] == "/"
    assert "httponly" in attrs and "secure" not in attrs  # plain http: no Secure
    # Behind a TLS proxy (X-Forwarded-Proto from a trusted address) the cookie is Secure.
    r = httpx.post(
        env.url("/api/v1/session"), json={"token": token}, headers={"X-Forwarded-Proto": "https"}
    )
    assert "secure" in _cookie_attrs(r.headers["set-cookie"])[1]
    # Bad tokens: a 401, and no cookie.
    for bad in ("om_not-a-token", "", "x" * 201):
        r = httpx.post(env.url("/api/v1/session"), json={"token": bad})
        assert r.status_code in (401, 422), (bad, r.text)
        assert "set-cookie" not in r.headers
    r = httpx.post(env.url("/api/v1/session"), json={"nothing": 1})
    assert r.status_code == 422


@pytest.mark.parametrize("role", ROLES)
def test_who_am_i(env: Env, role: str) -> None:  # noqa: F811
    r = _get(env, "/api/v1/session", role)
    assert r.status_code == 200
    expected = {
        "dispatcher": {"name": "c-dispatcher", "role": "dispatcher", "grid_code": None},
        "grid_worker": {"name": "c-worker", "role": "grid_worker", "grid_code": env.grid},
        "analyst": {"name": "c-analyst", "role": "analyst", "grid_code": None},
        "public": {"name": "public", "role": "public", "grid_code": None},
    }
    assert r.json() == expected[role]


def test_the_cookie_flow_end_to_end(env: Env) -> None:  # noqa: F811
    """Sign in, read cases and the live stream with only the cookie, sign out: 401 again."""
    token = env.tokens["dispatcher"]
    with httpx.Client(base_url=env.server.base, timeout=30) as browser:
        assert browser.get("/api/v1/cases").status_code == 401
        assert browser.post("/api/v1/session", json={"token": token}).status_code == 200
        assert browser.cookies.get("onemap_session") == token
        assert browser.get("/api/v1/session").json()["role"] == "dispatcher"
        r = browser.get("/api/v1/cases", params={"limit": 5})
        assert r.status_code == 200, r.text
        (total,) = _sql(env, "SELECT count(*) FROM cases")[0]
        assert r.json()["total"] == total
        assert "authorization" not in r.request.headers

        got: list[dict[str, Any]] = []
        ready = threading.Event()

        def listen() -> None:
            headers = {"Cookie": f"onemap_session={token}"}  # no Authorization: as EventSource
            try:
                with httpx.stream(
                    "GET", env.url("/api/v1/cases/stream"), headers=headers, timeout=30
                ) as s:
                    assert s.status_code == 200
                    for line in s.iter_lines():
                        if line.startswith(": listening"):
                            ready.set()
                        if line.startswith("data: "):
                            got.append(json.loads(line[6:]))
                            return
            except httpx.HTTPError:
                return

        t = threading.Thread(target=listen, daemon=True)
        t.start()
        assert ready.wait(10)
        case = env.new_case(title="cookie stream")
        t.join(20)
        assert [(e["event"], e["id"]) for e in got] == [("created", case["id"])]

        r = browser.delete("/api/v1/session")
        assert r.status_code == 204
        pair, attrs = _cookie_attrs(r.headers["set-cookie"])
        assert pair in ("onemap_session=", 'onemap_session=""') and attrs["max-age"] == "0"
        assert "httponly" in attrs and attrs["samesite"].lower() == "strict"
        assert browser.cookies.get("onemap_session") is None
        r = browser.get("/api/v1/cases")
        assert r.status_code == 401
        assert browser.get("/api/v1/session").json()["role"] == "public"
    # A cookie whose user was disabled meanwhile: a 401 that says to sign in again.
    with env.engine.begin() as conn:
        gone = add_user(conn, "c-leaver", "dispatcher")
        disable_user(conn, "c-leaver")
    for path in ("/api/v1/cases", "/api/v1/cases/stream", "/api/v1/session"):
        r = env.http.get(env.url(path), headers={"Cookie": f"onemap_session={gone}"})
        assert r.status_code == 401 and "sign in again" in r.json()["detail"], (path, r.text)
    # The bearer wins over a cookie.
    r = env.http.get(
        env.url("/api/v1/session"),
        headers={**env.h("analyst"), "Cookie": f"onemap_session={gone}"},
    )
    assert r.json()["role"] == "analyst"
    # No token ever reaches the server's log.
    log = open(env.server.log.name, encoding="utf-8").read()  # noqa: SIM115
    assert token not in log and gone not in log


# --- the queue --------------------------------------------------------------------------------

SORT_SQL = {
    "close_by": CLOSE_BY,
    "reported_at": "c.reported_at",
    "updated_at": "c.updated_at",
    "id": "c.id",
}


def _oracle_ids(env: Env, role: str, where: str = "TRUE", order: str = "c.id DESC", **b: Any):  # noqa: F811
    rows = _sql(
        env,
        f"SELECT c.id FROM cases c JOIN case_categories cc ON cc.code = c.category "  # noqa: S608
        f"LEFT JOIN grids g ON g.id = c.grid_id WHERE {_scope(env, role)} AND {where} "
        f"ORDER BY {order}",
        **b,
    )
    return [r[0] for r in rows]


@pytest.mark.parametrize("role", ROLES)
def test_queue_sorts(env: Env, role: str) -> None:  # noqa: F811
    if role == "public":
        assert _get(env, "/api/v1/cases", role, sort="close_by").status_code == 401
        return
    r = _get(env, "/api/v1/cases", role, limit=60)
    assert [c["id"] for c in r.json()["cases"]] == _oracle_ids(env, role)[:60]  # default: -id
    for key, expr in SORT_SQL.items():
        for desc in (False, True):
            way = "DESC" if desc else "ASC"
            order = f"{expr} {way}, c.id {way}"
            want = _oracle_ids(env, role, "c.status = ANY(:open)", order, open=list(OPEN))
            r = _get(env, "/api/v1/cases", role, sort=("-" if desc else "") + key, open="true")
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["total"] == len(want)
            assert [c["id"] for c in body["cases"]] == want[:100], (key, desc)
            r = _get(
                env, "/api/v1/cases", role, sort=("-" if desc else "") + key, offset=30, limit=7
            )
            assert [c["id"] for c in r.json()["cases"]] == _oracle_ids(env, role, order=order)[
                30:37
            ]


def _texts(env: Env, role: str) -> list[tuple[int, str, str | None, str | None]]:  # noqa: F811
    return [
        tuple(r)
        for r in _sql(
            env,
            f"SELECT c.id, c.title, c.description, c.address FROM cases c "  # noqa: S608
            f"LEFT JOIN grids g ON g.id = c.grid_id WHERE {_scope(env, role)} ORDER BY c.id DESC",
        )
    ]


def _matches(row: tuple[int, str, str | None, str | None], q: str) -> bool:
    needle = q.lower()
    number = int(q) if q.isdigit() else None
    return row[0] == number or any(needle in (t or "").lower() for t in row[1:])


@pytest.mark.parametrize("role", ROLES[:3])
def test_queue_free_text(env: Env, role: str) -> None:  # noqa: F811
    texts = _texts(env, role)
    word = texts[0][1][:2]  # two characters of the newest title
    env.new_case(role="dispatcher", title="ABC 排水_井盖 100%损坏", address="Quay Road 7")
    texts = _texts(env, role)
    some_id = texts[len(texts) // 2][0]
    for q in (word, "abc", "quay ROAD", "100%", "_井", "%", "_", "\\", "' OR 1=1 --", str(some_id)):
        want = [row[0] for row in texts if _matches(row, q)]
        r = _get(env, "/api/v1/cases", role, q=q, limit=1000)
        assert r.status_code == 200, (q, r.text)
        assert [c["id"] for c in r.json()["cases"]] == want, q
        assert r.json()["total"] == len(want)
    assert [c["id"] for c in _get(env, "/api/v1/cases", role, q="").json()["cases"]] == [
        row[0] for row in texts[:100]
    ]


@pytest.mark.parametrize(
    ("q", "why"),
    [
        ("x" * 101, "at most 100"),
        ("a\x00b", "control"),
        ("a\nb", "control"),
        ("\x1b[2J", "control"),
    ],
)
def test_queue_refuses_hostile_text(env: Env, q: str, why: str) -> None:  # noqa: F811
    r = _get(env, "/api/v1/cases", "dispatcher", q=q)
    assert r.status_code == 422, r.text
    assert r.json()["parameter"] == "q" and why in r.json()["detail"]


@pytest.mark.parametrize("role", ROLES[:3])
def test_queue_filters_by_place_stage_and_category(env: Env, role: str) -> None:  # noqa: F811
    (village,) = _sql(env, "SELECT village_code FROM grids WHERE code = :g", g=env.grid)[0]
    # The town and district by the regions' parent links (the oracle's own way up).
    (town,) = _sql(env, "SELECT parent_code FROM regions WHERE code = :v", v=village)[0]
    (district,) = _sql(env, "SELECT parent_code FROM regions WHERE code = :t", t=town)[0]
    for param, code, where in (
        ("village", village, "g.village_code = :code"),
        ("town", town, "g.village_code IN (SELECT code FROM regions WHERE parent_code = :code)"),
        (
            "district",
            district,
            "g.village_code IN (SELECT v.code FROM regions v JOIN regions t "
            "ON t.code = v.parent_code WHERE t.parent_code = :code)",
        ),
    ):
        want = _oracle_ids(env, role, where, code=code)
        r = _get(env, "/api/v1/cases", role, **{param: code, "limit": 1000})
        assert r.status_code == 200, r.text
        assert [c["id"] for c in r.json()["cases"]] == want[:1000], param
        assert r.json()["total"] == len(want)
        assert want  # the grid's own cases lie in its village, town and district
    stages = "dispatched,in_progress"
    categories = "noise,waterlogging,sanitation"
    want = _oracle_ids(
        env,
        role,
        "c.status = ANY(:s) AND c.category = ANY(:k) AND c.status = ANY(:open)",
        s=stages.split(","),
        k=categories.split(","),
        open=list(OPEN),
    )
    r = _get(
        env, "/api/v1/cases", role, status=stages, category=categories, open="true", limit=1000
    )
    assert [c["id"] for c in r.json()["cases"]] == want[:1000]
    assert r.json()["total"] == len(want)
    closed = _oracle_ids(env, role, "NOT c.status = ANY(:open)", open=list(OPEN))
    r = _get(env, "/api/v1/cases", role, open="false", limit=1000)
    assert [c["id"] for c in r.json()["cases"]] == closed[:1000]
    assert r.json()["total"] == len(closed)
    # The same filter exported: every row, the count in X-Total-Count.
    r = _get(env, "/api/v1/cases", role, status=stages, category=categories, f="csv")
    assert r.status_code == 200 and r.headers["x-total-count"] == str(len(want))
    assert len(r.text.strip().splitlines()) == len(want) + 1
    r = _get(env, "/api/v1/cases", role, town=town, f="geojson")
    assert [f["properties"]["id"] for f in r.json()["features"]] == _oracle_ids(
        env, role, "left(g.village_code, 9) = left(:code, 9)", code=town
    )


@pytest.mark.parametrize(
    ("params", "name", "why"),
    [
        ({"sort": "close"}, "sort", "close_by"),
        ({"sort": "-title"}, "sort", "not a sort"),
        ({"status": "reported,lost"}, "status", "unknown status 'lost'"),
        ({"town": "3599021"}, "town", "12 digits"),
        ({"town": "359902000000"}, "town", "ends in 000 after"),
        ({"district": "359902103000"}, "district", "ends in 000000"),
        ({"village": "35990210320x"}, "village", "12 digits"),
        ({"open": "maybe"}, "open", "bool"),
    ],
)
def test_queue_names_bad_filters(env: Env, params: dict[str, str], name: str, why: str) -> None:  # noqa: F811
    r = _get(env, "/api/v1/cases", "dispatcher", **params)
    assert r.status_code == 422, r.text
    assert name in r.text and why in r.text


@pytest.mark.parametrize("role", ROLES[:3])
def test_a_case_view_carries_its_stage_label_and_place(env: Env, role: str) -> None:  # noqa: F811
    rows = _sql(
        env,
        "SELECT c.id, c.status, v.code, v.name, t.code, t.name FROM cases c "  # noqa: S608
        "JOIN grids g ON g.id = c.grid_id JOIN regions v ON v.code = g.village_code "
        "JOIN regions t ON t.code = v.parent_code "
        f"WHERE {_scope(env, role)} ORDER BY c.id DESC LIMIT 100",
    )
    r = _get(env, "/api/v1/cases", role, limit=100)
    got = {c["id"]: c for c in r.json()["cases"]}
    assert len(rows) == len(got)
    for cid, status, vcode, vname, tcode, tname in rows:
        c = got[cid]
        assert c["stage_label"] == LABEL[status]
        assert c["village"] == {"code": vcode, "name": vname}
        assert c["town"] == {"code": tcode, "name": tname}
    one = _get(env, f"/api/v1/cases/{rows[0][0]}", role).json()
    assert one["stage_label"] == LABEL[rows[0][1]] and one["town"]["code"] == rows[0][4]


# --- the case panel -----------------------------------------------------------------------------


def test_lifecycle_is_public_and_complete(env: Env) -> None:  # noqa: F811
    r = _get(env, "/api/v1/cases/lifecycle", "public")
    assert r.status_code == 200
    body = r.json()
    assert [(s["code"], s["label"]) for s in body["stages"]] == STAGES
    actions = {a["name"]: a for a in body["actions"]}
    assert set(actions) == {
        "register",
        "cancel",
        "dispatch",
        "start",
        "respond",
        "close",
        "rework",
        "evaluate",
    }
    assert (
        actions["dispatch"]["from"] == ["registered"] and actions["dispatch"]["to"] == "dispatched"
    )
    assert set(actions["start"]["roles"]) == {"dispatcher", "grid_worker"}
    assert actions["rework"]["to"] == "dispatched" and actions["evaluate"]["from"] == ["closed"]
    assert "任务派遣" in actions["dispatch"]["label"]


@pytest.mark.parametrize("role", ROLES)
def test_nearby_cases_duplicates_and_stations(env: Env, role: str) -> None:  # noqa: F811
    first = env.new_case(category="noise", title="广场舞噪声")
    second = env.new_case(category="noise", title="广场舞噪声又来了")
    r = _get(env, f"/api/v1/cases/{second['id']}/nearby", role)
    if role == "public":
        assert r.status_code == 401
        return
    assert r.status_code == 200, r.text
    body = r.json()
    assert first["id"] in [d["id"] for d in body["duplicates"]]
    want = _sql(
        env,
        "WITH me AS (SELECT geom FROM cases WHERE id = :id) "  # noqa: S608
        "SELECT c.id, c.status, ST_Distance(c.geom::geography, me.geom::geography) "
        "FROM me, cases c LEFT JOIN grids g ON g.id = c.grid_id "
        f"WHERE c.id <> :id AND {_scope(env, role)} "
        "AND ST_Distance(c.geom::geography, me.geom::geography) <= 300 "
        "ORDER BY c.id DESC LIMIT 20",
        id=second["id"],
    )
    assert [n["id"] for n in body["nearby"]] == [w[0] for w in want]
    for n, (_, status, dist) in zip(body["nearby"], want, strict=True):
        assert n["stage_label"] == LABEL[status] and abs(n["distance_m"] - dist) < 0.1
    stations = _sql(
        env,
        "WITH me AS (SELECT geom FROM cases WHERE id = :id) "
        "SELECT s.id, s.name, s.kind, ST_Distance(s.geom::geography, me.geom::geography) AS d "
        "FROM me, stations s ORDER BY d LIMIT 3",
        id=second["id"],
    )
    kinds = {
        "party_service_center": "党群服务中心",
        "convenience_point": "便民服务点",
        "grid_council_hall": "网格议事厅",
        "neighbourhood_center": "邻里中心",
        "elderly_care_center": "居家养老服务中心",
    }
    assert [(s["id"], s["name"], s["kind_label"]) for s in body["stations"]] == [
        (i, n, kinds[k]) for i, n, k, _ in stations
    ]
    assert all(
        abs(s["distance_m"] - w[3]) < 0.1 for s, w in zip(body["stations"], stations, strict=True)
    )
    assert set(body["stations"][0]) == {
        "id",
        "name",
        "kind",
        "kind_label",
        "distance_m",
        "hours",
        "address",
    }
    # A case in another grid: a grid worker may not see it (404, as for any unseen case).
    (other,) = _sql(
        env,
        "SELECT max(c.id) FROM cases c JOIN grids g ON g.id = c.grid_id WHERE g.code <> :g",
        g=env.grid,
    )[0]
    r = _get(env, f"/api/v1/cases/{other}/nearby", role)
    assert r.status_code == (404 if role == "grid_worker" else 200)
    assert _get(env, "/api/v1/cases/987654321/nearby", role).status_code == 404


# --- the owner panel ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_locate_shows_leaders_as_the_policy_says(env: Env, leaders: None, role: str) -> None:  # noqa: F811
    params = {"lon": INSIDE[0], "lat": INSIDE[1]}
    public = env.http.get(env.url("/api/v1/locate"), params=params)
    r = _get(env, "/api/v1/locate", role, **params)
    assert r.status_code == 200
    body = r.json()
    expected = {
        "dispatcher": (GRID_LEADER, UNIT_LEADER),
        # The policy shows a grid worker personal fields on their own grid's cases only; the
        # grids and units layers are read whole, so their leaders stay hidden from them.
        "grid_worker": None,
        "analyst": (GRID_LEADER_MASKED, UNIT_LEADER_MASKED),
        "public": None,
    }[role]
    if expected is None:
        assert r.content == public.content  # the public's answer, byte for byte
        assert "leader" not in body["grid"] and "leader" not in body["unit"]
        assert GRID_LEADER["name"] not in r.text
        return
    assert body["grid"]["leader"] == expected[0] and body["unit"]["leader"] == expected[1]
    without = {k: v for k, v in body.items()}
    without["grid"] = {k: v for k, v in body["grid"].items() if k != "leader"}
    without["unit"] = {k: v for k, v in body["unit"].items() if k != "leader"}
    assert without == public.json()  # otherwise the same owner chain
    # The session cookie is a sign-in too: the hot path hands the request on.
    cookie = {"Cookie": f"onemap_session={env.tokens[role]}"}
    r = env.http.get(env.url("/api/v1/locate"), params=params, headers=cookie)
    assert r.json()["grid"]["leader"] == expected[0]
    # An unrelated cookie is still the public's fast answer.
    r = env.http.get(env.url("/api/v1/locate"), params=params, headers={"Cookie": "theme=dark"})
    assert r.content == public.content


def test_locate_with_a_bad_token_is_a_401(env: Env) -> None:  # noqa: F811
    params = {"lon": INSIDE[0], "lat": INSIDE[1]}
    r = env.http.get(env.url("/api/v1/locate"), params=params, headers=bearer("om_nope"))
    assert r.status_code == 401
    r = env.http.get(
        env.url("/api/v1/locate"), params=params, headers={"Cookie": "onemap_session=om_nope"}
    )
    assert r.status_code == 401 and "sign in again" in r.json()["detail"]


# --- search -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_search_by_name_code_and_case_id(env: Env, role: str) -> None:  # noqa: F811
    (vcode, vname, minx, miny, maxx, maxy) = _sql(
        env,
        "SELECT code, name, ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) "
        "FROM regions WHERE level = 'village' ORDER BY code LIMIT 1",
    )[0]
    r = _get(env, "/api/v1/search", role, q=vname)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    top = results[0]
    assert (top["kind"], top["code"], top["name"]) == ("village", vcode, vname)
    assert top["bbox"] == pytest.approx([minx, miny, maxx, maxy], abs=1e-6)
    assert minx <= top["lon"] <= maxx and miny <= top["lat"] <= maxy
    assert all(vname in x["name"] for x in results) and len(results) <= 10
    (n_names,) = _sql(
        env,
        "SELECT (SELECT count(*) FROM regions WHERE name LIKE :p) + "
        "(SELECT count(*) FROM grids WHERE valid_to IS NULL AND name LIKE :p) + "
        "(SELECT count(*) FROM units WHERE valid_to IS NULL AND name LIKE :p)",
        p=f"%{vname}%",
    )[0]
    big = _get(env, "/api/v1/search", role, q=vname, limit=50).json()["results"]
    assert len(big) == min(50, n_names)
    # A code prefix: the town first, then what lies in it.
    (grid_code,) = _sql(env, "SELECT code FROM grids WHERE code = :g", g=env.grid)[0]
    results = _get(env, "/api/v1/search", role, q=grid_code[:9]).json()["results"]
    assert (results[0]["kind"], results[0]["code"]) == ("town", grid_code[:9] + "000")
    assert all(x["code"].startswith(grid_code[:9]) for x in results)
    results = _get(env, "/api/v1/search", role, q=grid_code).json()["results"]
    assert (results[0]["kind"], results[0]["code"]) == ("grid", grid_code)
    assert [x["kind"] for x in results[1:]] == ["unit"] * (len(results) - 1)
    # A case id: found only by those who may see the case.
    (mine, title, lon, lat) = _sql(
        env,
        "SELECT c.id, c.title, ST_X(c.geom), ST_Y(c.geom) FROM cases c "
        "JOIN grids g ON g.id = c.grid_id WHERE g.code = :g ORDER BY c.id LIMIT 1",
        g=env.grid,
    )[0]
    (theirs,) = _sql(
        env,
        "SELECT min(c.id) FROM cases c JOIN grids g ON g.id = c.grid_id WHERE g.code <> :g",
        g=env.grid,
    )[0]
    for cid, seen in ((mine, role != "public"), (theirs, role in ("dispatcher", "analyst"))):
        results = _get(env, "/api/v1/search", role, q=str(cid)).json()["results"]
        cases = [x for x in results if x["kind"] == "case"]
        if seen:
            assert results[0]["kind"] == "case" and results[0]["id"] == cid
            assert results[0]["bbox"] is None
        else:
            assert cases == []
    if role != "public":
        top = _get(env, "/api/v1/search", role, q=str(mine)).json()["results"][0]
        assert top == {
            "kind": "case",
            "id": mine,
            "name": title,
            "lon": pytest.approx(lon, abs=1e-7),
            "lat": pytest.approx(lat, abs=1e-7),
            "bbox": None,
        }


@pytest.mark.parametrize(
    ("params", "status", "why"),
    [
        ({"q": ""}, 422, "give some text"),
        ({"q": "   "}, 422, "give some text"),
        ({"q": "村" * 101}, 422, "at most 100"),
        ({"q": "村\x00"}, 422, "control"),
        ({"q": "村\r\n"}, 422, "control"),
        ({"q": "\x7f"}, 422, "control"),
        ({"q": "村", "limit": "0"}, 422, "limit"),
        ({"q": "村", "limit": "51"}, 422, "limit"),
        ({}, 422, "q"),
        ({"q": "%"}, 200, None),
        ({"q": "_"}, 200, None),
        ({"q": "' OR '1'='1"}, 200, None),
        ({"q": "\\"}, 200, None),
    ],
)
def test_search_refuses_bad_text(
    env: Env,  # noqa: F811
    params: dict[str, str],
    status: int,
    why: str | None,
) -> None:
    r = _get(env, "/api/v1/search", "dispatcher", **params)
    assert r.status_code == status, r.text
    if why:
        assert why in r.text
    else:
        assert r.json() == {"results": []}  # no name holds these characters


# --- config and per-grid figures -------------------------------------------------------------

TILE_LAYERS = [
    "districts",
    "towns",
    "villages",
    "grids",
    "units",
    "cases",
    "hotspots",
    "parcels",
    "stations",
    "gazetteer",
    "case_hotspots",
    "waterlogging_hotspots",
    "coverage",
]


def test_config_defaults(env: Env) -> None:  # noqa: F811
    r = _get(env, "/api/v1/config", "public")
    body = r.json()
    plan = body.pop("plan_version")
    assert body == {
        "basemap": {"url": None, "crs": "WGS84", "attribution": None},
        "tile_layers": TILE_LAYERS,
        "combined_layers": [x for x in TILE_LAYERS if x != "cases"],
        "open_stages": list(OPEN),
        "lang": "zh",
    }
    assert isinstance(plan, str) and len(plan) == 12


@pytest.fixture
def basemap_server(env: Env) -> Iterator[ServerProcess]:  # noqa: F811
    srv = ServerProcess(
        env.engine.url.render_as_string(hide_password=False),
        {
            "ONEMAP_BASEMAP_URL": "http://tiles.intranet/amap/{z}/{x}/{y}.png",
            "ONEMAP_BASEMAP_CRS": "GCJ02",
            "ONEMAP_BASEMAP_ATTRIBUTION": "© 高德地图 (内网镜像)",
        },
    )
    yield srv
    srv.stop()


def test_config_from_settings(basemap_server: ServerProcess) -> None:
    r = httpx.get(basemap_server.base + "/api/v1/config", timeout=30)
    assert r.json()["basemap"] == {
        "url": "http://tiles.intranet/amap/{z}/{x}/{y}.png",
        "crs": "GCJ02",
        "attribution": "© 高德地图 (内网镜像)",
    }


def test_grid_figures_for_a_choropleth(env: Env) -> None:  # noqa: F811
    until = datetime.now(UTC)
    since = until - timedelta(days=400)
    r = _get(
        env,
        "/api/v1/cases/stats",
        "dispatcher",
        level="grid",
        since=since.isoformat(),
        until=until.isoformat(),
    )
    assert r.status_code == 200, r.text
    areas = {a["code"]: a for a in r.json()["areas"]}
    want = _sql(
        env,
        "SELECT g.code, count(*), count(*) FILTER (WHERE c.closed_at IS NOT NULL) FROM cases c "
        "JOIN grids g ON g.id = c.grid_id WHERE c.reported_at >= :s AND c.reported_at < :u "
        "GROUP BY g.code",
        s=since,
        u=until,
    )
    assert {code: (a["reported"]) for code, a in areas.items()} == {w[0]: w[1] for w in want}
    for code, _, closed in want:
        a = areas[code]
        assert {"code", "reported", "overdue", "on_time_rate"} <= set(a)
        assert (a["on_time_rate"] is None) == (closed == 0)
