"""Placing a case by hand (POST /api/v1/cases/{id}/location) over real HTTP on a private copy
of the demo city, and the dispatch rule for a case with no grid.

Expected owners come from PostGIS directly (ST_Contains over the current grids and units), the
house's point from the gazetteer table, the history from case_history by SQL.
"""

from __future__ import annotations

from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import bearer
from tests.helpers import ServerProcess, shared_landmark
from tests.test_geocode_api import house

OWNER_SQL = """
SELECT (SELECT code FROM grids WHERE valid_to IS NULL AND ST_Contains(geom, p)) AS grid,
       (SELECT code FROM units WHERE valid_to IS NULL AND ST_Contains(geom, p)) AS unit
  FROM (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS p) q
"""


def _post(server: ServerProcess, path: str, body: dict, token: str | None, **headers: str) -> Any:
    h = {**(bearer(token) if token else {}), **headers}
    return httpx.post(server.base + path, json=body, headers=h, timeout=30)


def _unlocated(server: ServerProcess, token: str, engine: Engine) -> dict[str, Any]:
    """A case filed by a vague address (a landmark several places share): no point, no grid."""
    landmark = shared_landmark(engine)
    body = {"category": "sanitation", "title": "垃圾未清运", "address": f"{landmark}旁"}
    r = _post(server, "/api/v1/cases", body, token)
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["grid"] is None and case["geocode"]["needs_location"] is True
    return case


def _act(server: ServerProcess, case: dict, action: str, token: str) -> httpx.Response:
    return _post(
        server,
        f"/api/v1/cases/{case['id']}/actions",
        {"action": action},
        token,
        **{"If-Match": f'"{case["version"]}"'},
    )


def _inside_point(engine: Engine, k: int) -> tuple[float, float]:
    with engine.connect() as conn:
        lon, lat = conn.execute(
            sa.text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM units "
                "WHERE valid_to IS NULL ORDER BY code OFFSET :k LIMIT 1) q"
            ),
            {"k": k},
        ).one()
    return float(lon), float(lat)


def test_place_by_point_then_dispatch(writable: tuple[ServerProcess, str, Engine]) -> None:
    server, token, engine = writable
    case = _unlocated(server, token, engine)
    r = _act(server, case, "register", token)
    assert r.status_code == 200, r.text
    case = r.json()
    # no grid, no owner: dispatching is refused, and says what to do
    r = _act(server, case, "dispatch", token)
    assert r.status_code == 409, r.text
    assert "place it first" in r.json()["detail"] and "/location" in r.json()["detail"]
    path = f"/api/v1/cases/{case['id']}/location"
    lon, lat = _inside_point(engine, 11)
    # without If-Match: 428; a stale one: 412; nothing changes
    assert _post(server, path, {"lon": lon, "lat": lat}, token).status_code == 428
    r = _post(server, path, {"lon": lon, "lat": lat}, token, **{"If-Match": '"1"'})
    assert r.status_code == 412, r.text
    r = _post(server, path, {"lon": lon, "lat": lat}, token, **{"If-Match": f'"{case["version"]}"'})
    assert r.status_code == 200, r.text
    placed = r.json()
    assert r.headers["ETag"] == f'"{case["version"] + 1}"' == f'"{placed["version"]}"'
    with engine.connect() as conn:
        want = conn.execute(sa.text(OWNER_SQL), {"lon": lon, "lat": lat}).one()
        row = conn.execute(
            sa.text(
                "SELECT g.code, u.code, c.needs_location, c.status, ST_X(c.geom), ST_Y(c.geom) "
                "FROM cases c JOIN grids g ON g.id = c.grid_id "
                "LEFT JOIN units u ON u.id = c.unit_id WHERE c.id = :id"
            ),
            {"id": case["id"]},
        ).one()
        hist = conn.execute(
            sa.text(
                "SELECT action, actor_role, from_status, to_status, note FROM case_history "
                "WHERE case_id = :id ORDER BY id"
            ),
            {"id": case["id"]},
        ).all()
    assert want.grid is not None
    assert row[0] == want.grid and row[1] == want.unit and row[2] is False
    assert row[3] == "registered" and (round(row[4], 7), round(row[5], 7)) == (
        round(lon, 7),
        round(lat, 7),
    )
    assert placed["grid"]["code"] == want.grid and placed["geocode"]["needs_location"] is False
    assert [h[0] for h in hist] == ["report", "register", "place"]
    assert hist[-1][1:4] == ("dispatcher", "registered", "registered")
    assert want.grid in hist[-1][4]
    # now it has an owner: dispatch goes through
    r = _act(server, placed, "dispatch", token)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "dispatched"


def test_place_by_address_and_again(writable: tuple[ServerProcess, str, Engine]) -> None:
    server, token, engine = writable
    case = _unlocated(server, token, engine)
    path = f"/api/v1/cases/{case['id']}/location"
    tag = {"If-Match": f'"{case["version"]}"'}
    # an address still below the threshold: 422 naming it; the case is untouched
    vague = case["address"]
    r = _post(server, path, {"address": vague}, token, **tag)
    assert r.status_code == 422, r.text
    assert vague in r.json()["detail"]
    h = house(engine, 77)
    q = f"{h['town']}{h['village']}{h['grp']}组{h['house']}号"
    r = _post(server, path, {"address": q}, token, **tag)
    assert r.status_code == 200, r.text
    placed = r.json()
    assert placed["grid"]["code"] == h["grid"] and placed["geocode"]["precision"] == "门牌"
    # a located case may be placed again (a dispatcher corrects it): the owner follows
    lon, lat = _inside_point(engine, 300)
    r = _post(
        server, path, {"lon": lon, "lat": lat}, token, **{"If-Match": f'"{placed["version"]}"'}
    )
    assert r.status_code == 200, r.text
    with engine.connect() as conn:
        want = conn.execute(sa.text(OWNER_SQL), {"lon": lon, "lat": lat}).one()
        n = conn.execute(
            sa.text("SELECT count(*) FROM case_history WHERE case_id = :id AND action = 'place'"),
            {"id": case["id"]},
        ).scalar_one()
    assert r.json()["grid"]["code"] == want.grid and n == 2
    assert r.json()["geocode"]["precision"] is None  # placed by hand, not by the gazetteer


def test_who_may_place(writable: tuple[ServerProcess, str, Engine]) -> None:
    from gis.access.users import add_user

    server, token, engine = writable
    case = _unlocated(server, token, engine)
    lon, lat = _inside_point(engine, 5)
    with engine.connect() as conn:
        grid = conn.execute(sa.text(OWNER_SQL), {"lon": lon, "lat": lat}).one().grid
    with engine.begin() as conn:
        worker = add_user(conn, "place-worker", "grid_worker", grid)
        analyst = add_user(conn, "place-analyst", "analyst")
    path = f"/api/v1/cases/{case['id']}/location"
    body = {"lon": lon, "lat": lat}
    tag = {"If-Match": f'"{case["version"]}"'}
    assert _post(server, path, body, None, **tag).status_code == 401
    # the worker cannot see a case with no grid at all; the analyst sees it but may not act
    assert _post(server, path, body, worker, **tag).status_code in (403, 404)
    r = _post(server, path, body, analyst, **tag)
    assert r.status_code == 403 and "dispatcher" in r.json()["detail"]
    # bad input: a clear 422 naming it
    for bad, why in (
        ({}, "lon and lat"),
        ({"lon": 116.4, "lat": 39.9}, "outside"),
        ({"lon": lon, "lat": lat, "address": "x"}, "not both"),
        ({"lon": lon, "lat": lat, "crs": "EPSG:9999"}, "9999"),
    ):
        r = _post(server, path, bad, token, **tag)
        assert r.status_code == 422, (bad, r.text)
        assert why in r.text, (why, r.text)
    with engine.connect() as conn:
        flag = conn.execute(
            sa.text("SELECT needs_location FROM cases WHERE id = :id"), {"id": case["id"]}
        ).scalar_one()
    assert flag is True
