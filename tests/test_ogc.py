"""OGC API - Features over real HTTP, read by real clients: GDAL (ogrinfo, ogr2ogr), OWSLib
and geopandas; paging, filters, and refusals of bad parameters."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import UTC, timedelta
from pathlib import Path
from urllib.parse import quote

import geopandas as gpd
import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import bearer
from tests.helpers import LAYERS, ServerProcess

PERSONAL = re.compile(r"leader_|reporter_|contact_name|contact_phone|100-0000")


def _scalar(engine: Engine, sql: str, **binds: object) -> object:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), binds).scalar_one()


def test_landing_conformance_and_service_desc(demo_server: ServerProcess) -> None:
    base = demo_server.base
    landing = httpx.get(base + "/ogc", headers={"Accept": "text/html"})
    assert landing.status_code == 200 and landing.headers["content-type"].startswith(
        "application/json"
    )
    rels = {link["rel"]: link["href"] for link in landing.json()["links"]}
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= set(rels)
    conf = httpx.get(rels["conformance"]).json()["conformsTo"]
    assert any(c.endswith("/conf/core") for c in conf)
    assert any(c.endswith("/conf/oas30") for c in conf)
    assert any(c.endswith("/conf/geojson") for c in conf)
    oas = httpx.get(rels["service-desc"]).json()
    assert oas["openapi"].startswith("3.0")
    assert "/ogc/collections/cases/items" in oas["paths"]
    names = {p["name"] for p in oas["paths"]["/ogc/collections/cases/items"]["get"]["parameters"]}
    assert {"limit", "offset", "bbox", "datetime", "status", "grid_code"} <= names
    assert httpx.get(rels["service-doc"]).status_code == 200


def test_collections_cover_the_catalogue(demo_server: ServerProcess, demo_ro: Engine) -> None:
    doc = httpx.get(demo_server.base + "/ogc/collections").json()
    by_id = {c["id"]: c for c in doc["collections"]}
    assert set(by_id) == set(LAYERS)
    grids = by_id["grids"]
    assert grids["itemType"] == "feature"
    minx, miny, maxx, maxy = grids["extent"]["spatial"]["bbox"][0]
    assert grids["extent"]["spatial"]["crs"].endswith("CRS84")
    assert 118 < minx < maxx < 120 and 25 < miny < maxy < 26
    # cases are not the public's to read one by one: their first and last times go by the day
    ((start, end),) = by_id["cases"]["extent"]["temporal"]["interval"]
    first, last = (
        _scalar(demo_ro, "SELECT min(reported_at) FROM cases"),
        _scalar(demo_ro, "SELECT max(reported_at) FROM cases"),
    )
    assert start == first.astimezone(UTC).strftime("%Y-%m-%dT00:00:00Z")
    assert end == (last.astimezone(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT00:00:00Z")
    q = httpx.get(demo_server.base + "/ogc/collections/cases/queryables").json()
    assert {"category", "status", "grid_code"} <= set(q["properties"])
    assert "reporter_name" not in q["properties"]


def test_paging_reads_every_grid_once(demo_server: ServerProcess, demo_ro: Engine) -> None:
    url: str | None = demo_server.base + "/ogc/collections/grids/items?limit=300"
    codes: list[str] = []
    pages = 0
    total = _scalar(demo_ro, "SELECT count(*) FROM grids WHERE valid_to IS NULL")
    while url:
        r = httpx.get(url)
        assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
        page = r.json()
        assert page["numberMatched"] == total
        assert page["numberReturned"] == len(page["features"])
        assert page["timeStamp"].endswith("Z")
        links = {link["rel"]: link for link in page["links"]}
        if pages:
            assert links["prev"]["type"] == "application/geo+json"
        codes += [f["id"] for f in page["features"]]
        assert not PERSONAL.search(r.text)
        url = links["next"]["href"] if "next" in links else None
        pages += 1
    assert pages == 4 and len(codes) == len(set(codes)) == total


def test_filters_match_sql(
    demo_server: ServerProcess, demo_ro: Engine, tokens: dict[str, str]
) -> None:
    base = demo_server.base + "/ogc/collections/cases/items"
    analyst = bearer(tokens["analyst"])
    grid = _scalar(demo_ro, "SELECT g.code FROM cases c JOIN grids g ON g.id = c.grid_id LIMIT 1")
    r = httpx.get(
        base, params={"grid_code": grid, "status": "closed", "limit": 1000}, headers=analyst
    ).json()
    expected = _scalar(
        demo_ro,
        "SELECT count(*) FROM cases c JOIN grids g ON g.id = c.grid_id "
        "WHERE g.code = :g AND c.status = 'closed'",
        g=grid,
    )
    assert r["numberMatched"] == expected == len(r["features"])
    assert all(f["properties"]["grid_code"] == grid for f in r["features"])

    r = httpx.get(
        base, params={"datetime": "2026-06-01T00:00:00Z/..", "limit": 1}, headers=analyst
    ).json()
    assert r["numberMatched"] == _scalar(
        demo_ro, "SELECT count(*) FROM cases WHERE reported_at >= '2026-06-01T00:00:00Z'"
    )
    bbox = "119.0,25.4,119.05,25.45"
    r = httpx.get(base, params={"bbox": bbox, "limit": 10000}, headers=analyst).json()
    assert r["numberMatched"] == _scalar(
        demo_ro,
        "SELECT count(*) FROM cases WHERE ST_Intersects(geom, "
        "ST_MakeEnvelope(119.0, 25.4, 119.05, 25.45, 4326))",
    )
    for f in r["features"]:
        lon, lat = f["geometry"]["coordinates"]
        assert 119.0 <= lon <= 119.05 and 25.4 <= lat <= 25.45
        name = f["properties"]["reporter_name"]  # an analyst sees it masked: 张**
        assert name is None or (len(name) >= 2 and set(name[1:]) == {"*"}), name
    # Above the maximum, the server serves the maximum.
    r = httpx.get(base, params={"limit": 50000}, headers=analyst).json()
    assert r["numberReturned"] == 5000  # all of them: fewer than the maximum
    self_link = next(link["href"] for link in r["links"] if link["rel"] == "self")
    assert "limit=10000" in self_link


def test_single_items(demo_server: ServerProcess, demo_ro: Engine, tokens: dict[str, str]) -> None:
    code = _scalar(demo_ro, "SELECT min(code) FROM grids WHERE valid_to IS NULL")
    r = httpx.get(f"{demo_server.base}/ogc/collections/grids/items/{code}")
    assert r.status_code == 200 and r.json()["id"] == code
    assert r.json()["properties"]["code"] == code and not PERSONAL.search(r.text)
    case_id = _scalar(demo_ro, "SELECT min(id) FROM cases")
    url = f"{demo_server.base}/ogc/collections/cases/items/{case_id}"
    assert httpx.get(url).status_code == 401  # the public sees counts, not cases
    r = httpx.get(url, headers=bearer(tokens["analyst"]))
    assert r.status_code == 200 and r.json()["id"] == case_id
    phone = _scalar(
        demo_ro, "SELECT reporter_phone FROM cases WHERE id = (SELECT min(id) FROM cases)"
    )
    digits = re.sub(r"\D", "", phone)
    assert phone not in r.text  # an analyst sees it masked: first three and last two digits
    assert r.json()["properties"]["reporter_phone"] == digits[:3] + "****" + digits[-2:]
    r = httpx.get(url, headers=bearer(tokens["dispatcher"]))
    assert r.status_code == 200 and "reporter_phone" in r.json()["properties"]
    for path in ("grids/items/999999999999999", "cases/items/abc", "cases/items/99999999"):
        r = httpx.get(f"{demo_server.base}/ogc/collections/{path}", headers=bearer(tokens["admin"]))
        assert r.status_code == 404 and r.json()["description"]


def test_a_code_with_a_quote_and_a_backslash_comes_back_exactly(demo_db: Engine) -> None:
    """Feature ids and properties are JSON-escaped, whatever a code holds."""
    code, name = 'P"07\\x', '拆迁"地块\\北'  # P"07\x: a quote, a backslash
    with demo_db.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO parcels (code, name, kind, status, geom) VALUES (:c, :n, "
                "'demolition', 'surveyed', ST_Multi(ST_Buffer(ST_SetSRID("
                "ST_MakePoint(119.01, 25.43), 4326), 0.0005, 4)))"
            ),
            {"c": code, "n": name},
        )
    server = ServerProcess(demo_db.url.render_as_string(hide_password=False))
    try:
        base = f"{server.base}/ogc/collections/parcels/items"
        listed = httpx.get(base, params={"code": code})
        assert listed.status_code == 200, listed.text
        (feature,) = listed.json()["features"]
        assert feature["id"] == code and feature["properties"]["name"] == name
        one = httpx.get(f"{base}/{quote(code, safe='')}")
        assert one.status_code == 200, one.text
        assert one.json()["id"] == code and one.json()["properties"]["code"] == code
        z, x, y = 16, 54433, 27978  # the z16 tile of 119.01 E, 25.43 N, worked by hand
        tile = httpx.get(f"{server.base}/tiles/parcels/{z}/{x}/{y}.geojson")
        assert tile.status_code == 200, tile.text
        assert code in {f["id"] for f in tile.json()["features"]}
    finally:
        server.stop()


BAD = [
    ("grids", {"limit": "0"}, "limit", "at least 1"),
    ("grids", {"limit": "ten"}, "limit", "not an integer"),
    ("grids", {"offset": "-5"}, "offset", "at least 0"),
    ("grids", {"bbox": "1,2,3"}, "bbox", "4 numbers"),
    ("grids", {"bbox": "25.4,119.0,25.5,119.1"}, "bbox", "swapped"),
    ("grids", {"bbox": "a,b,c,d"}, "bbox", "not a list of numbers"),
    ("grids", {"datetime": "2026-01-01T00:00:00Z"}, "datetime", "has no time"),
    ("cases", {"datetime": "yesterday"}, "datetime", "RFC 3339"),
    ("cases", {"datetime": "2026-01-01T00:00:00"}, "datetime", "time zone"),
    ("cases", {"datetime": "2026-02-01T00:00:00Z/2026-01-01T00:00:00Z"}, "datetime", "after"),
    ("cases", {"status": "lost"}, "status", "not one of"),
    ("cases", {"reporter_name": "x"}, "reporter_name", "unknown parameter"),
    ("cases", {"name'; DROP TABLE cases; --": "1"}, "name'; DROP", "unknown parameter"),
    ("cases", {"f": "html"}, "f", "not served"),
]


@pytest.mark.parametrize(("layer", "params", "param", "words"), BAD)
def test_bad_parameters_are_400s_naming_them(
    demo_server: ServerProcess,
    demo_ro: Engine,
    tokens: dict[str, str],
    layer: str,
    params: dict[str, str],
    param: str,
    words: str,
) -> None:
    r = httpx.get(
        f"{demo_server.base}/ogc/collections/{layer}/items",
        params=params,
        headers=bearer(tokens["dispatcher"]),
    )
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["parameter"].startswith(param) and words in body["description"], body
    assert _scalar(demo_ro, "SELECT count(*) FROM cases") == 5000


def test_repeated_parameter_and_unknown_collection(demo_server: ServerProcess) -> None:
    r = httpx.get(f"{demo_server.base}/ogc/collections/grids/items?limit=1&limit=2")
    assert r.status_code == 400 and "more than once" in r.json()["description"]
    r = httpx.get(f"{demo_server.base}/ogc/collections/roads/items")
    assert r.status_code == 404 and "grids" in r.json()["description"]


def test_gdal_lists_collections_and_reads_all_grids_in_pages(
    demo_server: ServerProcess, demo_ro: Engine, tmp_path: Path, tokens: dict[str, str]
) -> None:
    source = f"OAPIF:{demo_server.base}/ogc"
    listing = subprocess.run(
        ["ogrinfo", "-ro", "-q", source], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    for layer in LAYERS:
        assert re.search(rf"^\d+: {layer}\b", listing, re.M), listing
    out = tmp_path / "grids.geojson"
    subprocess.run(
        ["ogr2ogr", "-f", "GeoJSON", str(out), source, "grids", "-oo", "PAGE_SIZE=150"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    got = json.loads(out.read_text())
    expected = _scalar(demo_ro, "SELECT count(*) FROM grids WHERE valid_to IS NULL")
    codes = {f["properties"]["code"] for f in got["features"]}
    assert len(got["features"]) == len(codes) == expected  # 1,002 grids over 7 pages
    # Cases need a token: GDAL (and so QGIS) sends it as a header.
    header = f"Authorization: Bearer {tokens['analyst']}"
    summary = subprocess.run(
        ["ogrinfo", "-ro", "-so", "--config", "GDAL_HTTP_HEADERS", header, source, "cases"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Feature Count: 5000" in summary
    assert "reporter_phone: String" in summary  # the analyst's schema: masked, not hidden


def test_owslib_lists_and_reads(demo_server: ServerProcess) -> None:
    from owslib.ogcapi.features import Features

    api = Features(demo_server.base + "/ogc")
    assert {c["id"] for c in api.collections()["collections"]} == set(LAYERS)
    assert "core" in " ".join(api.conformance()["conformsTo"])
    page = api.collection_items("stations", limit=7)
    assert page["numberReturned"] == 7 and page["features"][0]["geometry"]["type"] == "Point"
    q = api.collection_queryables("cases")
    assert "status" in q["properties"]


def test_geopandas_reads_an_items_url(demo_server: ServerProcess, demo_ro: Engine) -> None:
    url = f"{demo_server.base}/ogc/collections/units/items?limit=500"
    gdf = gpd.read_file(url)
    assert gdf.crs is not None and gdf.crs.to_epsg() == 4326
    assert len(gdf) == 500 and gdf.geom_type.isin(["MultiPolygon", "Polygon"]).all()
    assert {"code", "grid_code", "households"} <= set(gdf.columns)
    assert not ({"leader_name", "leader_phone"} & set(gdf.columns))
