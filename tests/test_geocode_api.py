"""Geocoding over real HTTP and the CLI, case intake by address, and the gazetteer import.

Expected answers come from the gazetteer and the plan read by direct SQL (the house's point, the
grid covering it by ST_Covers, area shares by ST_Area on the ellipsoid), never from gis/geocode.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import bearer, counts
from tests.helpers import ServerProcess, run_cli, shared_landmark

OWNER_LEVELS = {"district", "town", "village", "grid", "unit"}
CANDIDATE_KEYS = {"address", "lon", "lat", "precision", "score", "matched", "owner"}
PHONE = re.compile(r"100-0000-\d{4}")  # the demo's leaders' and contacts' phones

HOUSE_SQL = """
SELECT d.name AS district, t.name AS town, v.name AS village, v.code AS village_code,
       g.number AS grp, h.number AS house, ST_X(h.geom) AS lon, ST_Y(h.geom) AS lat,
       (SELECT gr.code FROM grids gr WHERE gr.valid_to IS NULL AND ST_Covers(gr.geom, h.geom)
         ORDER BY gr.code LIMIT 1) AS grid
  FROM gazetteer h JOIN gazetteer g ON g.id = h.parent_id AND g.level = 'group'
  JOIN gazetteer v ON v.id = g.parent_id JOIN gazetteer t ON t.id = v.parent_id
  JOIN gazetteer d ON d.id = t.parent_id
 WHERE h.level = 'house' ORDER BY h.code LIMIT 1 OFFSET :k
"""


def house(engine: Engine, k: int = 100) -> dict[str, Any]:
    with engine.connect() as conn:
        return dict(conn.execute(sa.text(HOUSE_SQL), {"k": k}).mappings().one())


def get(server: ServerProcess, path: str, **params: Any) -> httpx.Response:
    return httpx.get(server.base + path, params=params, timeout=30)


def test_geocode_one_address(demo_server: ServerProcess, demo_ro: Engine) -> None:
    h = house(demo_ro)
    q = f"{h['town']}{h['village']}{h['grp']}组{h['house']}号"
    r = get(demo_server, "/api/v1/geocode", q=q)
    assert r.status_code == 200, r.text
    body = r.json()
    best = body["candidates"][0]
    assert CANDIDATE_KEYS <= set(best)
    assert set(best["owner"]) == OWNER_LEVELS
    assert all(set(v) == {"code", "name"} for v in best["owner"].values() if v)
    assert (best["lon"], best["lat"]) == (round(h["lon"], 7), round(h["lat"], 7))
    assert best["owner"]["grid"]["code"] == h["grid"]
    assert best["owner"]["village"]["code"] == h["village_code"]
    assert best["precision"] == "门牌" and best["score"] >= 0.6
    assert best["matched"] == q
    assert best["address"] == f"{h['district']}{h['town']}{h['village']}{h['grp']}组{h['house']}号"
    assert "leader" not in r.text and not PHONE.search(r.text)


def test_geocode_batch_keeps_order(demo_server: ServerProcess, demo_ro: Engine) -> None:
    a, b = house(demo_ro, 10), house(demo_ro, 2000)
    qs = [
        f"{a['village']}{a['grp']}组{a['house']}号",
        "",
        f"{b['village']}{b['grp']}组{b['house']}号",
        7,
    ]
    r = httpx.post(demo_server.base + "/api/v1/geocode", json={"q": qs}, timeout=30)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert len(results) == 4
    assert results[0]["candidates"][0]["owner"]["grid"]["code"] == a["grid"]
    assert results[2]["candidates"][0]["owner"]["grid"]["code"] == b["grid"]
    assert results[1]["status"] == "error" and "q[1]" in results[1]["error"]
    assert results[3]["status"] == "error" and results[3]["candidates"] == []


@pytest.mark.parametrize(
    ("q", "why"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("x" * 201, "201 characters"),
        ("!!! 123", "no Chinese characters"),
        ("湖泰镇\x01阳昌村", "control"),
    ],
)
def test_bad_input_is_a_clear_4xx(demo_server: ServerProcess, q: str, why: str) -> None:
    r = get(demo_server, "/api/v1/geocode", q=q)
    assert r.status_code in (400, 422), r.text
    assert why in r.text


def test_missing_q_and_too_many(demo_server: ServerProcess) -> None:
    r = get(demo_server, "/api/v1/geocode")
    assert r.status_code == 422 and "q" in r.json()["detail"]
    r = httpx.post(
        demo_server.base + "/api/v1/geocode", json={"q": ["湖泰镇"] * 10_001}, timeout=60
    )
    assert r.status_code == 413 and "at most" in r.text


def test_wrong_town_is_never_first(demo_server: ServerProcess, demo_ro: Engine) -> None:
    h = house(demo_ro, 300)
    with demo_ro.connect() as conn:
        other_code, other = conn.execute(
            sa.text(
                "SELECT code, name FROM regions WHERE level = 'town' AND code <> :t "
                "ORDER BY code LIMIT 1"
            ),
            {"t": h["village_code"][:9] + "000"},
        ).one()
    r = get(demo_server, "/api/v1/geocode", q=f"{other}{h['village']}{h['grp']}组{h['house']}号")
    found = r.json()["candidates"]
    assert found[0]["owner"]["town"]["code"] == other_code
    assert any(c["owner"]["grid"] and c["owner"]["grid"]["code"] == h["grid"] for c in found[1:])


def test_ambiguous_road_without_its_town(demo_server: ServerProcess, demo_ro: Engine) -> None:
    with demo_ro.connect() as conn:
        road, towns = conn.execute(
            sa.text(
                "SELECT r.name, array_agg(DISTINCT t.name) FROM gazetteer r "
                "JOIN gazetteer v ON v.id = r.parent_id JOIN gazetteer t ON t.id = v.parent_id "
                "WHERE r.level = 'road' AND r.alias_of IS NULL "
                "AND EXISTS (SELECT 1 FROM gazetteer h WHERE h.parent_id = r.id AND h.number = '3')"
                " GROUP BY r.name HAVING count(DISTINCT t.id) > 1 ORDER BY r.name LIMIT 1"
            )
        ).one()
    body = get(demo_server, "/api/v1/geocode", q=f"{road}3号").json()
    assert body["status"] == "ambiguous" and len(body["candidates"]) >= 2
    assert body["candidates"][0]["score"] < 0.6
    grids = {c["owner"]["grid"]["code"] for c in body["candidates"]}
    assert len(grids) >= 2
    body = get(demo_server, "/api/v1/geocode", q=f"{towns[0]}{road}3号").json()
    best = body["candidates"][0]
    assert best["owner"]["town"]["name"] == towns[0] and best["score"] >= 0.6


@pytest.mark.parametrize(
    "q", ["福建省厦门市思明区溪白村3组12号", "北京市朝阳区建国路88号", "广东省开平市长沙街道"]
)
def test_outside_the_jurisdiction(demo_server: ServerProcess, q: str) -> None:
    body = get(demo_server, "/api/v1/geocode", q=q).json()
    assert body["status"] == "outside" and body["candidates"] == []
    assert "outside" in body["message"]


def test_village_over_several_grids_gives_shares(
    demo_server: ServerProcess, demo_ro: Engine
) -> None:
    with demo_ro.connect() as conn:
        code, name, town = conn.execute(
            sa.text(
                "SELECT v.code, v.name, t.name FROM regions v JOIN regions t ON t.code = "
                "v.parent_code WHERE v.level = 'village' AND (SELECT count(*) FROM grids g "
                "WHERE g.village_code = v.code AND g.valid_to IS NULL) = 3 ORDER BY v.code LIMIT 1"
            )
        ).one()
        expected = {
            r[0]: r[1]
            for r in conn.execute(
                sa.text(
                    "SELECT code, ST_Area(geom::geography) / sum(ST_Area(geom::geography)) OVER () "
                    "FROM grids WHERE village_code = :v AND valid_to IS NULL"
                ),
                {"v": code},
            )
        }
    best = get(demo_server, "/api/v1/geocode", q=f"{town}{name}").json()["candidates"][0]
    assert best["precision"] == "村/社区" and best["owner"]["grid"] is None
    assert best["owner"]["village"]["code"] == code
    got = {g["code"]: g["share"] for g in best["grids"]}
    assert set(got) == set(expected)
    for k, share in expected.items():
        assert abs(got[k] - share) < 0.01  # Gauss-Krüger areas against the ellipsoid's


def test_landmark_with_relation(demo_server: ServerProcess, demo_ro: Engine) -> None:
    with demo_ro.connect() as conn:
        name, lon, lat, village, town = conn.execute(
            sa.text(
                "SELECT p.name, ST_X(p.geom), ST_Y(p.geom), v.name, t.name FROM gazetteer p "
                "JOIN gazetteer v ON v.id = p.parent_id JOIN gazetteer t ON t.id = v.parent_id "
                "WHERE p.kind = 'landmark' AND p.level = 'poi' ORDER BY p.code LIMIT 1"
            )
        ).one()
    body = get(demo_server, "/api/v1/geocode", q=f"{town}{village}{name}旁").json()
    best = body["candidates"][0]
    assert best["precision"] == "兴趣点" and (best["lon"], best["lat"]) == (
        round(lon, 7),
        round(lat, 7),
    )
    assert best["modifier"]["text"] == "旁"


def test_reverse(demo_server: ServerProcess, demo_ro: Engine) -> None:
    h = house(demo_ro, 700)
    r = get(demo_server, "/api/v1/reverse", lon=h["lon"] + 0.00001, lat=h["lat"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert {"address", "lon", "lat", "precision", "owner"} <= set(body)
    assert body["owner"]["grid"]["code"] == h["grid"] and body["precision"] == "门牌"
    again = get(demo_server, "/api/v1/geocode", q=body["address"]).json()["candidates"][0]
    assert again["owner"]["grid"]["code"] == h["grid"]
    assert "leader" not in r.text and not PHONE.search(r.text)


@pytest.mark.parametrize(
    ("params", "status", "why"),
    [
        ({"lon": "25.45", "lat": "119.05"}, 422, "swapped"),
        ({"lon": "abc", "lat": "25.4"}, 422, "not a number"),
        ({"lon": "119.05"}, 422, "lat"),
        ({"lon": "nan", "lat": "25.4"}, 422, "finite"),
        ({"lon": "119.2", "lat": "25.26"}, 404, "outside coverage"),
    ],
)
def test_reverse_refusals(demo_server: ServerProcess, params: dict, status: int, why: str) -> None:
    r = get(demo_server, "/api/v1/reverse", **params)
    assert r.status_code == status, r.text
    assert why in r.text


def test_cli_geocodes_a_hotline_export(demo_ro: Engine, tmp_path: Path) -> None:
    h = house(demo_ro, 42)
    src = tmp_path / "hotline.csv"
    src.write_text(
        "工单号,来电,诉求地址\n"
        f"A1,2026-11-01,{h['town']}{h['village']}{h['grp']}组{h['house']}号\n"
        "A2,2026-11-02,北京市朝阳区建国路88号\n"
        "A3,2026-11-03,\n",
        encoding="utf-8",
    )
    out = tmp_path / "placed.csv"
    res = run_cli("geocode", "--csv", str(src), "--out", str(out), engine=demo_ro)
    assert res.returncode == 2 and "地址" in res.stderr  # no address column by that name
    res = run_cli(
        "geocode", "--csv", str(src), "--out", str(out), "--address-col", "诉求地址", engine=demo_ro
    )
    assert res.returncode == 0, res.stderr
    assert "3 rows" in res.stdout
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["工单号"] for r in rows] == ["A1", "A2", "A3"]
    assert {"来电", "lon", "lat", "precision", "score", "candidates", "grid_code"} <= set(rows[0])
    assert rows[0]["grid_code"] == h["grid"] and rows[0]["precision"] == "门牌"
    assert float(rows[0]["lon"]) == round(h["lon"], 7) and rows[0]["candidates"] == "1"
    assert rows[1]["geocode_status"] == "outside" and rows[1]["lon"] == ""
    assert rows[2]["geocode_status"] == "error"


def _case(token: str, **fields: Any) -> dict[str, Any]:
    return {"category": "sanitation", "title": "垃圾未清运", **fields}


def test_case_by_address(writable: tuple[ServerProcess, str, Engine]) -> None:
    server, token, engine = writable
    h = house(engine, 55)
    q = f"{h['village']}{h['grp']}组{h['house']}号"
    r = httpx.post(
        server.base + "/api/v1/cases",
        json=_case(token, address=q),
        headers=bearer(token),
        timeout=30,
    )
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["grid"]["code"] == h["grid"] and case["address"] == q
    assert case["geocode"]["precision"] == "门牌" and case["geocode"]["needs_location"] is False
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT g.code, c.geocode_precision, c.geocode_score, ST_X(c.geom), ST_Y(c.geom) "
                "FROM cases c JOIN grids g ON g.id = c.grid_id WHERE c.id = :id"
            ),
            {"id": case["id"]},
        ).one()
    assert row[0] == h["grid"] and row[1] == "门牌" and row[2] >= 0.6
    assert (round(row[3], 7), round(row[4], 7)) == (round(h["lon"], 7), round(h["lat"], 7))


def test_vague_address_stays_unlocated(writable: tuple[ServerProcess, str, Engine]) -> None:
    server, token, engine = writable
    landmark = shared_landmark(engine)
    r = httpx.post(
        server.base + "/api/v1/cases",
        json=_case(token, address=f"{landmark}旁"),
        headers=bearer(token),
        timeout=30,
    )
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["lon"] is None and case["grid"] is None
    assert case["geocode"]["needs_location"] is True and case["geocode"]["score"] < 0.6
    with engine.connect() as conn:
        geom, grid, flag = conn.execute(
            sa.text("SELECT geom, grid_id, needs_location FROM cases WHERE id = :id"),
            {"id": case["id"]},
        ).one()
    assert geom is None and grid is None and flag is True
    r = httpx.get(
        server.base + "/api/v1/cases",
        params={"needs_location": "true"},
        headers=bearer(token),
        timeout=30,
    )
    assert [c["id"] for c in r.json()["cases"]] == [case["id"]]  # the one to place
    # the case panel's surroundings: none yet, said plainly (not a 500)
    r = httpx.get(
        f"{server.base}/api/v1/cases/{case['id']}/nearby", headers=bearer(token), timeout=30
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"duplicates": [], "nearby": [], "stations": [], "unlocated": True}
    # the lists and exports still read it
    r = httpx.get(
        server.base + "/api/v1/cases",
        params={"f": "geojson", "q": landmark},
        headers=bearer(token),
        timeout=30,
    )
    assert r.status_code == 200
    feature = [f for f in r.json()["features"] if f["id"] == case["id"]][0]
    assert feature["geometry"] is None


def test_case_address_refusals(writable: tuple[ServerProcess, str, Engine]) -> None:
    server, token, engine = writable
    before = counts(engine)
    for body, why in (
        (_case(token, address="北京市朝阳区建国路88号"), "outside"),
        (_case(token), "location"),
        (_case(token, address=""), "location"),
    ):
        r = httpx.post(server.base + "/api/v1/cases", json=body, headers=bearer(token), timeout=30)
        assert r.status_code == 422, r.text
        assert why in r.text
    assert counts(engine) == before


def test_open311_address_string(writable: tuple[ServerProcess, str, Engine]) -> None:
    server, token, engine = writable
    h = house(engine, 77)
    form = {
        "service_code": "sanitation",
        "description": "垃圾堆积",
        "address_string": f"{h['town']}{h['village']}{h['grp']}组{h['house']}号",
    }
    r = httpx.post(
        server.base + "/open311/v2/requests.json",
        data=form,
        headers={"X-API-Key": token},
        timeout=30,
    )
    assert r.status_code == 201, r.text
    sid = int(r.json()[0]["service_request_id"])
    assert h["grid"] in r.json()[0]["service_notice"]
    with engine.connect() as conn:
        grid, address = conn.execute(
            sa.text(
                "SELECT g.code, c.address FROM cases c JOIN grids g ON g.id = c.grid_id "
                "WHERE c.id = :id"
            ),
            {"id": sid},
        ).one()
    assert grid == h["grid"] and address == form["address_string"]


def test_import_gazetteer_all_or_nothing(demo_db: Engine, tmp_path: Path) -> None:
    h = house(demo_db, 5)
    with demo_db.connect() as conn:
        village = conn.execute(
            sa.text("SELECT code FROM gazetteer WHERE level = 'village' AND code = :c"),
            {"c": h["village_code"]},
        ).scalar_one()
        before = conn.execute(sa.text("SELECT count(*) FROM gazetteer")).scalar_one()
    lon, lat = h["lon"] + 0.0003, h["lat"]
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "code,name,level,parent_code,lon,lat\n"
        f"T1,卫生院,兴趣点,{village},{lon},{lat}\n"
        f"T2,敬老院,poi,NOPE,{lon},{lat}\n"
        f"T3,粮站,nonsense,{village},{lon},{lat}\n",
        encoding="utf-8",
    )
    res = run_cli("import", "gazetteer", str(bad), engine=demo_db)
    assert res.returncode == 2
    assert "row 2: parent_code='NOPE'" in res.stderr or "row 3: level" in res.stderr
    with demo_db.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM gazetteer")).scalar_one() == before
    good = tmp_path / "good.geojson"
    good.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [lon, lat]},
                        "properties": {
                            "code": "T1",
                            "name": "新桥卫生院",
                            "level": "兴趣点",
                            "kind": "clinic",
                            "parent_code": village,
                        },
                    },
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [lon, lat]},
                        "properties": {
                            "code": "T1A",
                            "name": "老卫生院",
                            "level": "poi",
                            "alias_of": "T1",
                            "kind": "former",
                            "valid_to": "2019-12-31",
                        },
                    },
                ],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    res = run_cli("import", "gazetteer", str(good), engine=demo_db)
    assert res.returncode == 0, res.stderr
    res = run_cli("geocode", f"{h['village']}老卫生院", engine=demo_db)
    assert res.returncode == 0, res.stderr
    best = json.loads(res.stdout)["candidates"][0]
    assert best["code"] == "T1" and "former" in best["note"] and "2019-12-31" in best["note"]
    assert best["owner"]["village"]["code"] == h["village_code"]


def test_named_area_gives_each_grids_share(demo_server: ServerProcess, demo_ro: Engine) -> None:
    with demo_ro.connect() as conn:
        code, text = conn.execute(
            sa.text(
                "SELECT a.code, t.name || a.name FROM gazetteer a JOIN gazetteer t "
                "ON t.id = a.parent_id WHERE a.level = 'area' ORDER BY a.code LIMIT 1"
            )
        ).one()
        expected = dict(
            conn.execute(
                sa.text(
                    "WITH s AS (SELECT g.code, ST_Area(ST_Intersection(g.geom, a.area)::geography)"
                    " AS m2 FROM gazetteer a JOIN grids g ON g.valid_to IS NULL "
                    "AND ST_Intersects(g.geom, a.area) WHERE a.code = :c) "
                    "SELECT code, m2 / sum(m2) OVER () FROM s WHERE m2 > 0"
                ),
                {"c": code},
            ).all()
        )
    best = get(demo_server, "/api/v1/geocode", q=text).json()["candidates"][0]
    assert best["precision"] == "地片" and best["code"] == code and best["owner"]["grid"] is None
    got = {g["code"]: g["share"] for g in best["grids"]}
    big = {k for k, v in expected.items() if v > 0.001}
    assert big <= set(got) <= set(expected)
    for k in big:
        assert abs(got[k] - expected[k]) < 0.01
