"""What the console's map fetches: combined tiles (several layers per 512-pixel tile, kept by
the browser under the plan version) and a view's case counts in one answer. Oracles: SQL
written here over the tile's envelope and the view's box, headers read off the wire."""

from __future__ import annotations

import httpx
import morecantile
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis.store.settings import get_settings
from tests.conftest import bearer
from tests.helpers import ServerProcess
from tests.test_cases import INSIDE

TMS = morecantile.tms.get("WebMercatorQuad")
REGION = {"districts": "district", "towns": "town", "villages": "village"}
LAYERS = "districts,towns,villages,grids,units,stations"


def _tile(z: int) -> tuple[int, int, tuple[float, float, float, float]]:
    """The tile at z holding INSIDE, and its bounds (west, south, east, north)."""
    t = TMS.tile(*INSIDE, z)
    b = TMS.bounds(t)
    return t.x, t.y, (b.left, b.bottom, b.right, b.top)


def _codes(db: Engine, layer: str, box: tuple[float, float, float, float]) -> set[str]:
    """The codes (ids) of a layer's current features meeting a box, by SQL."""
    key, table, where = {
        "grids": ("code", "grids", "valid_to IS NULL"),
        "units": ("code", "units", "valid_to IS NULL"),
        "stations": ("id::text", "stations", "TRUE"),
    }.get(layer, ("code", "regions", "level = :level"))
    sql = (
        f"SELECT {key} FROM {table} WHERE {where} "  # noqa: S608 - constants of this test
        "AND ST_Intersects(geom, ST_MakeEnvelope(:w, :s, :e, :n, 4326))"
    )
    w, s, e, n = box
    with db.connect() as conn:
        rows = conn.execute(
            sa.text(sql), {"w": w, "s": s, "e": e, "n": n, "level": REGION.get(layer)}
        )
        return {str(r[0]) for r in rows}


def _grown(box: tuple[float, float, float, float], k: float) -> tuple[float, float, float, float]:
    w, s, e, n = box
    dx, dy = (e - w) * k, (n - s) * k
    return w - dx, s - dy, e + dx, n + dy


def test_a_combined_tile_holds_every_layer_meeting_it(
    demo_server: ServerProcess, demo_ro: Engine
) -> None:
    x, y, box = _tile(12)
    r = httpx.get(
        f"{demo_server.base}/tiles/combined/12/{x}/{y}.json",
        params={"layers": LAYERS, "size": 512},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    for layer in LAYERS.split(","):  # a 512-pixel tile at z12 shows z13: units from z13
        got = {
            str(f["properties"].get("code", f["properties"].get("id")))
            for f in body[layer]["features"]
        }
        inside = _codes(demo_ro, layer, _grown(box, -0.01))
        near = _codes(demo_ro, layer, _grown(box, 0.1))
        assert inside <= got <= near, layer
        assert all(f["geometry"]["type"] != "GeometryCollection" for f in body[layer]["features"])
    small = httpx.get(
        f"{demo_server.base}/tiles/combined/12/{x}/{y}.json", params={"layers": LAYERS}, timeout=30
    ).json()
    assert "units" not in small and small["grids"]  # a 256-pixel tile at z12: units from z13


def test_combined_tiles_are_kept_under_the_plan_version(
    writable: tuple[ServerProcess, str, Engine],
) -> None:
    server, _token, db = writable
    x, y, _box = _tile(12)
    url = f"{server.base}/tiles/combined/12/{x}/{y}.json"
    plan = httpx.get(server.base + "/api/v1/config", timeout=30).json()["plan_version"]
    params = {"layers": "districts,towns,stations", "size": "512"}
    kept = httpx.get(url, params={**params, "v": plan}, timeout=30)
    assert kept.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert kept.headers["x-plan-version"] == plan
    assert kept.headers["content-encoding"] == "gzip"  # httpx asks for it and unpacks it
    unkept = httpx.get(url, params=params, timeout=30)
    assert unkept.headers["cache-control"] == "public, no-cache"
    assert unkept.json() == kept.json()
    again = httpx.get(url, params=params, headers={"If-None-Match": unkept.headers["etag"]})
    assert again.status_code == 304
    with db.begin() as conn:  # an edit of a layer the tile reads: a new plan version
        conn.execute(
            sa.text(
                "UPDATE stations SET name = name || ' 新' WHERE id = (SELECT min(id) FROM stations)"
            )
        )
    fresh = httpx.get(server.base + "/api/v1/config", timeout=30).json()["plan_version"]
    assert fresh != plan
    stale = httpx.get(url, params={**params, "v": plan}, timeout=30)
    assert stale.headers["cache-control"] == "public, no-cache"
    assert stale.headers["x-plan-version"] == fresh
    assert stale.headers["etag"] != kept.headers["etag"]


@pytest.mark.parametrize(
    ("zoom", "level", "role"),
    [(13, "grid", None), (11, "village", None), (13, "grid", "dispatcher")],
)
def test_a_views_case_counts(
    demo_server: ServerProcess,
    demo_ro: Engine,
    tokens: dict[str, str],
    zoom: int,
    level: str,
    role: str | None,
) -> None:
    w, s, e, n = INSIDE[0] - 0.05, INSIDE[1] - 0.04, INSIDE[0] + 0.05, INSIDE[1] + 0.04
    r = httpx.get(
        demo_server.base + "/api/v1/cases/counts.geojson",
        params={"bbox": f"{w},{s},{e},{n}", "zoom": zoom},
        headers=bearer(tokens[role]) if role else {},
        timeout=30,
    )  # counts, no case details; the public's from 1 to k-1 withheld (null)
    assert r.status_code == 200, r.text
    k = None if role else get_settings().public_min_count
    assert r.json()["min_count"] == k
    feats = r.json()["features"]
    got = {f["properties"][f"{level}_code"]: f["properties"]["cases"] for f in feats}
    assert all(set(f["properties"]) == {f"{level}_code", "cases", "open"} for f in feats)
    area = "g.code" if level == "grid" else "g.village_code"
    place = (
        "g.label_point"
        if level == "grid"
        else "(SELECT r.label_point FROM regions r WHERE r.code = g.village_code)"
    )
    with demo_ro.connect() as conn:
        want = dict(
            conn.execute(
                sa.text(
                    f"SELECT {area}, count(*) FROM cases c JOIN grids g ON g.id = c.grid_id "  # noqa: S608
                    f"WHERE g.valid_to IS NULL AND ST_Intersects({place}, "
                    "ST_MakeEnvelope(:w, :s, :e, :n, 4326)) GROUP BY 1"
                ),
                {"w": w, "s": s, "e": e, "n": n},
            ).all()
        )
    if k is not None:
        assert any(c < k for c in want.values()) and any(c >= k for c in want.values())
        want = {code: (c if c >= k else None) for code, c in want.items()}
    assert got == want and want


@pytest.mark.parametrize(
    ("path", "params", "status", "words"),
    [
        ("/tiles/combined/12/3400/1700.json", {"layers": "grids,cases"}, 422, "cases"),
        ("/tiles/combined/12/3400/1700.json", {"layers": "roads"}, 404, "roads"),
        ("/tiles/combined/12/3400/1700.json", {"layers": "grids", "size": "300"}, 422, "size"),
        ("/tiles/combined/12/9999/1700.json", {"layers": "grids"}, 404, "9999"),
        ("/api/v1/cases/counts.geojson", {"bbox": "100,10,130,40", "zoom": "13"}, 422, "bbox"),
        ("/api/v1/cases/counts.geojson", {"bbox": "119,25,119.1,25.1", "zoom": "x"}, 422, "zoom"),
    ],
)
def test_bad_map_requests_say_what_to_fix(
    demo_server: ServerProcess, path: str, params: dict[str, str], status: int, words: str
) -> None:
    r = httpx.get(demo_server.base + path, params=params, timeout=30)
    assert r.status_code == status, r.text
    assert words in r.text
