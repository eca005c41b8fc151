"""Vector tiles, GeoJSON tiles and TileJSON over real HTTP, decoded by an independent decoder
(mapbox-vector-tile): contents, no personal field, caching, invalidation and refusals."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

import httpx
import mapbox_vector_tile
import pyproj
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis.access.users import add_user
from gis.store.settings import get_settings
from tests.conftest import bearer
from tests.helpers import LAYERS, PERSONAL_FIELDS, ServerProcess, as_owner

INSIDE = (119.01, 25.43)
PERSONAL = re.compile(rb"leader_|reporter_|contact_name|contact_phone|100-0000")


# The oracle for tile numbers is pyproj's Web Mercator (the server's is morecantile's): the
# square world from -HALF to HALF metres, cut into 2**z x 2**z tiles, rows from the north.
MERCATOR = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
HALF = math.pi * 6378137.0


def tile_of(z: int, lon: float = INSIDE[0], lat: float = INSIDE[1]) -> tuple[int, int, int]:
    mx, my = MERCATOR.transform(lon, lat)
    size = 2 * HALF / 2**z
    return z, int((mx + HALF) // size), int((HALF - my) // size)


def tile_lons(z: int, x: int) -> tuple[float, float]:
    """The west and east longitudes of the tiles in column x at zoom z."""
    size = 2 * HALF / 2**z
    (west, east), _ = MERCATOR.transform(
        [-HALF + x * size, -HALF + (x + 1) * size], [0, 0], direction="INVERSE"
    )
    return west, east


def test_tile_numbers_are_the_hand_worked_ones() -> None:
    """INSIDE (119.01 E, 25.43 N) by hand: x = floor((119.01 + 180) / 360 * 2**z) and
    y = floor((1 - ln(tan(25.43 deg) + sec(25.43 deg)) / pi) / 2 * 2**z)
      = floor(0.426921 * 2**z)."""
    assert tile_of(0) == (0, 0, 0)
    assert tile_of(1) == (1, 1, 0)
    assert tile_of(12) == (12, 3402, 1748)
    assert tile_of(14) == (14, 13608, 6994)
    assert tile_of(15) == (15, 27216, 13989)
    assert tile_of(14, 0.0, 0.0) == (14, 8192, 8192)
    assert tile_lons(1, 1) == pytest.approx((0.0, 180.0))


def decode(body: bytes) -> dict[str, list[dict[str, object]]]:
    layers = mapbox_vector_tile.decode(body)
    return {name: layer["features"] for name, layer in layers.items()}


def _codes(engine: Engine, sql: str, z: int, x: int, y: int, **binds: object) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(sa.text(sql), {"z": z, "x": x, "y": y, **binds}).scalars())


def test_grid_tile_holds_the_grids_of_the_tile(demo_server: ServerProcess, demo_ro: Engine) -> None:
    z, x, y = tile_of(14)
    r = httpx.get(f"{demo_server.base}/tiles/grids/{z}/{x}/{y}.mvt")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    features = decode(r.content)["grids"]
    got = {str(f["properties"]["code"]) for f in features}
    touching = _codes(
        demo_ro,
        "SELECT code FROM grids WHERE valid_to IS NULL AND ST_Intersects(geom, "
        "ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => :m), 4326))",
        z,
        x,
        y,
        m=64 / 4096,
    )
    # Grids holding more than a few pixels of the tile itself must all be there.
    west, east = tile_lons(z, x)
    pixel2 = ((east - west) / 256) ** 2
    inside = _codes(
        demo_ro,
        "SELECT code FROM grids WHERE valid_to IS NULL AND ST_Area(ST_Intersection(geom, "
        "ST_Transform(ST_TileEnvelope(:z, :x, :y), 4326))) > :a",
        z,
        x,
        y,
        a=4 * pixel2,
    )
    assert inside and inside <= got <= touching
    props = set(features[0]["properties"])
    assert props == {"code", "name", "village_code"}
    assert features[0]["geometry"]["type"] in ("Polygon", "MultiPolygon")


@pytest.mark.parametrize("layer", LAYERS)
def test_no_tile_carries_a_restricted_field(demo_server: ServerProcess, layer: str) -> None:
    seen = 0
    for zoom in (10, 12, 14, 15):
        z, x, y = tile_of(zoom)
        for fmt in ("mvt", "geojson"):
            r = httpx.get(f"{demo_server.base}/tiles/{layer}/{z}/{x}/{y}.{fmt}")
            assert r.status_code in (200, 204), r.text
            assert not PERSONAL.search(r.content), (layer, zoom, fmt)
            if r.status_code == 200 and fmt == "mvt":
                for f in decode(r.content)[layer]:
                    assert not PERSONAL_FIELDS & set(f["properties"])
                    seen += 1
    assert seen > 0


def test_cases_are_counts_per_grid_below_zoom_15(
    demo_server: ServerProcess, demo_ro: Engine, tokens: dict[str, str]
) -> None:
    z, x, y = tile_of(12)
    features = decode(httpx.get(f"{demo_server.base}/tiles/cases/{z}/{x}/{y}.mvt").content)["cases"]
    # the public's counts from 1 to k-1 are withheld: MVT leaves a null property out
    assert features and all(
        {"grid_code"} <= set(f["properties"]) <= {"grid_code", "cases", "open"} for f in features
    )
    got = {f["properties"]["grid_code"]: f["properties"].get("cases") for f in features}
    k = get_settings().public_min_count
    with demo_ro.connect() as conn:
        expected = dict(
            conn.execute(
                sa.text(
                    "SELECT g.code, count(*) FROM cases c JOIN grids g ON g.id = c.grid_id "
                    "WHERE g.valid_to IS NULL AND ST_Intersects(g.label_point, "
                    "ST_Transform(ST_TileEnvelope(:z, :x, :y), 4326)) GROUP BY g.code"
                ),
                {"z": z, "x": x, "y": y},
            ).all()
        )
    assert any(n < k for n in expected.values()) and any(n >= k for n in expected.values())
    shown = {code: (n if n >= k else None) for code, n in expected.items()}
    assert {code: got[code] for code in expected} == shown  # the buffer may add a few more
    # a dispatcher (who may read cases) sees every count exactly
    url = f"{demo_server.base}/tiles/cases/{z}/{x}/{y}.mvt"
    signed = decode(httpx.get(url, headers=bearer(tokens["dispatcher"])).content)["cases"]
    exact = {f["properties"]["grid_code"]: f["properties"]["cases"] for f in signed}
    assert {code: exact[code] for code in expected} == expected
    # The public sees counts at every zoom; readers of cases see the cases themselves.
    z, x, y = tile_of(15)
    url = f"{demo_server.base}/tiles/cases/{z}/{x}/{y}.mvt"
    public = decode(httpx.get(url).content)["cases"]
    assert public and all(
        {"grid_code"} <= set(f["properties"]) <= {"grid_code", "cases", "open"} for f in public
    )


def test_case_tiles_follow_roles(
    demo_server: ServerProcess, demo_ro: Engine, tokens: dict[str, str]
) -> None:
    with demo_ro.connect() as conn:
        lon, lat = conn.execute(
            sa.text(
                "SELECT ST_X(c.geom), ST_Y(c.geom) FROM cases c JOIN grids g ON g.id = c.grid_id "
                "WHERE g.code = :g LIMIT 1"
            ),
            {"g": tokens["worker_grid"]},
        ).one()
    z, x, y = tile_of(15, lon, lat)
    url = f"{demo_server.base}/tiles/cases/{z}/{x}/{y}.mvt"
    seen: dict[str, set[str]] = {}
    for role in ("dispatcher", "analyst", "admin", "grid_worker"):
        r = httpx.get(url, headers=bearer(tokens[role]))
        assert r.status_code == 200 and "private" in r.headers["cache-control"]
        assert not PERSONAL.search(r.content)  # tiles never carry personal fields
        features = decode(r.content)["cases"]
        assert features and {"id", "category", "status", "grid_code"} <= set(
            features[0]["properties"]
        )
        assert "title" not in features[0]["properties"]
        seen[role] = {str(f["properties"]["grid_code"]) for f in features}
    assert seen["grid_worker"] == {tokens["worker_grid"]}  # only their own grid
    assert len(seen["dispatcher"]) > 1
    bad = httpx.get(url, headers=bearer("om_not-a-token"))
    assert bad.status_code == 401 and "unknown token" in bad.text


def test_geojson_tiles_are_clipped_and_rounded(demo_server: ServerProcess) -> None:
    z, x, y = tile_of(14)
    r = httpx.get(f"{demo_server.base}/tiles/units/{z}/{x}/{y}.geojson")
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    west, east = tile_lons(z, x)
    pad = (east - west) * 64 / 4096 + 1e-6

    def coords(g: object) -> Iterator[list[float]]:
        if isinstance(g, list) and g and isinstance(g[0], int | float):
            yield g
        elif isinstance(g, list):
            for part in g:
                yield from coords(part)

    features = r.json()["features"]
    assert features
    for f in features:
        for lon, lat in coords(f["geometry"]["coordinates"]):
            assert west - pad <= lon <= east + pad
            # A pixel at z14 is 360 / 2**14 / 256 = 8.6e-5 degrees: 6 decimals are enough.
            assert len(repr(lon).split(".")[-1]) <= 6 and len(repr(lat).split(".")[-1]) <= 6
    assert set(features[0]["properties"]) == {
        "code",
        "name",
        "grid_code",
        "households",
        "party_contacts",
    }


def test_tilejson(demo_server: ServerProcess) -> None:
    doc = httpx.get(f"{demo_server.base}/tiles/cases.json").json()
    assert doc["tilejson"] == "3.0.0"
    assert doc["tiles"] == [f"{demo_server.base}/tiles/cases/{{z}}/{{x}}/{{y}}.mvt"]
    west, south, east, north = doc["bounds"]
    assert 118 < west < east < 120 and 25 < south < north < 26
    (vl,) = doc["vector_layers"]
    assert vl["id"] == "cases" and "reporter_name" not in vl["fields"]
    assert {"category", "status", "grid_code", "cases", "open"} <= set(vl["fields"])
    assert doc["minzoom"] == 10 and doc["maxzoom"] == 18
    assert httpx.get(f"{demo_server.base}/tiles/roads.json").status_code == 404


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("grids/3/8/1.mvt", 404, "x and y run from 0 to 7"),
        ("grids/0/0/1.mvt", 404, "x and y run from 0 to 0"),
        ("grids/22/4194304/0.mvt", 404, "x and y run from 0 to 4194303"),
        ("grids/22/0/-1.mvt", 404, "x and y run from 0 to 4194303"),
        ("grids/23/0/0.mvt", 404, "zoom 23 is out of range"),
        ("grids/-1/0/0.mvt", 404, "out of range"),
        ("grids/a/0/0.geojson", 422, "three integers"),
        ("grids/12/1e3/5.mvt", 422, "three integers"),
        ("leaders/12/0/0.mvt", 404, "unknown layer"),
    ],
)
def test_bad_tile_addresses(demo_server: ServerProcess, path: str, status: int, words: str) -> None:
    r = httpx.get(f"{demo_server.base}/tiles/{path}")
    assert r.status_code == status and words in r.text, r.text


def test_empty_tiles_are_204(demo_server: ServerProcess) -> None:
    z, x, y = tile_of(14, 0.0, 0.0)  # the Gulf of Guinea
    assert httpx.get(f"{demo_server.base}/tiles/grids/{z}/{x}/{y}.mvt").status_code == 204
    assert httpx.get(f"{demo_server.base}/tiles/grids/{z}/{x}/{y}.geojson").status_code == 204
    z, x, y = tile_of(9)  # below the units' minimum zoom
    assert httpx.get(f"{demo_server.base}/tiles/units/{z}/{x}/{y}.mvt").status_code == 204
    # The corners of the range exist: the last tile at zoom 22 (4194303 = 2**22 - 1), far
    # south-east in the Pacific, is empty, not missing.
    assert httpx.get(f"{demo_server.base}/tiles/grids/22/4194303/4194303.mvt").status_code == 204


def test_etag_revalidation_and_invalidation_on_edit(demo_db: Engine) -> None:
    server = ServerProcess(demo_db.url.render_as_string(hide_password=False))
    try:
        with demo_db.connect() as conn:
            sid, lon, lat = conn.execute(
                sa.text("SELECT id, ST_X(geom), ST_Y(geom) FROM stations ORDER BY id LIMIT 1")
            ).one()
        z, x, y = tile_of(15, lon, lat)
        url = f"{server.base}/tiles/stations/{z}/{x}/{y}.mvt"
        first = httpx.get(url)
        assert first.status_code == 200 and "no-cache" in first.headers["cache-control"]
        etag = first.headers["etag"]
        again = httpx.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.headers["etag"] == etag

        with demo_db.begin() as conn:
            conn.execute(
                sa.text("UPDATE stations SET name = '新名字服务站' WHERE id = :i"), {"i": sid}
            )
        edited = httpx.get(url, headers={"If-None-Match": etag})
        assert edited.status_code == 200 and edited.headers["etag"] != etag
        names = {f["properties"]["name"] for f in decode(edited.content)["stations"]}
        assert "新名字服务站" in names

        # A new case shows in the low-zoom counts on the next request.
        z, x, y = tile_of(12, lon, lat)
        counts_url = f"{server.base}/tiles/cases/{z}/{x}/{y}.mvt"

        with demo_db.begin() as conn:  # the exact counts (the public's small ones are withheld)
            analyst = bearer(add_user(conn, "tile-analyst", "analyst"))

        def total() -> int:
            return sum(
                int(f["properties"]["cases"])
                for f in decode(httpx.get(counts_url, headers=analyst).content)["cases"]
            )

        before = total()
        with demo_db.begin() as conn:
            grid_id = conn.execute(
                sa.text("SELECT grid_id FROM stations WHERE id = :i"), {"i": sid}
            ).scalar_one()
            conn.execute(
                sa.text(
                    "INSERT INTO cases (category, title, geom, grid_id) "
                    "VALUES ('noise', '夜间施工', ST_SetSRID(ST_MakePoint(:x, :y), 4326), :g)"
                ),
                {"x": lon, "y": lat, "g": grid_id},
            )
        assert total() == before + 1
        with as_owner(demo_db).begin() as conn:  # the app role deletes no case
            conn.execute(sa.text("DELETE FROM cases WHERE title = '夜间施工'"))
        assert total() == before

        # numberMatched is remembered between pages, and follows edits too.
        def matched() -> int:
            url = f"{server.base}/ogc/collections/stations/items?limit=1"
            return int(httpx.get(url).json()["numberMatched"])

        stations = matched()
        assert matched() == stations
        with demo_db.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO stations (name, kind, geom) VALUES ('新站', 'convenience_point', "
                    "ST_SetSRID(ST_MakePoint(:x, :y), 4326))"
                ),
                {"x": lon, "y": lat},
            )
        assert matched() == stations + 1

        # Layer extents (OGC collections, TileJSON) are remembered, and follow edits too.
        def east() -> float:
            doc = httpx.get(f"{server.base}/ogc/collections/stations").json()
            return float(doc["extent"]["spatial"]["bbox"][0][2])

        before_east = east()
        assert east() == before_east
        with demo_db.begin() as conn:
            conn.execute(
                sa.text("UPDATE stations SET geom = ST_Translate(geom, 0.5, 0) WHERE id = :i"),
                {"i": sid},
            )
        assert east() == pytest.approx(lon + 0.5) and east() > before_east
        assert httpx.get(f"{server.base}/tiles/stations.json").json()["bounds"][2] == pytest.approx(
            lon + 0.5
        )
    finally:
        server.stop()


def test_case_counts_follow_every_kind_of_change(demo_db: Engine) -> None:
    """grid_case_counts (kept by statement triggers) equals a fresh count after inserts,
    updates that move cases between grids and statuses, deletes and a truncate."""
    fresh = "SELECT grid_id, status, count(*) FROM cases WHERE grid_id IS NOT NULL GROUP BY 1, 2"
    kept = "SELECT grid_id, status, n FROM grid_case_counts"
    with as_owner(demo_db).begin() as conn:  # deletes and a truncate: the owner's

        def same() -> bool:
            by_village = (
                "SELECT g.village_code, c.status, count(*) FROM cases c "
                "JOIN grids g ON g.id = c.grid_id GROUP BY 1, 2"
            )
            villages = "SELECT village_code, status, n FROM village_case_counts"
            return set(conn.execute(sa.text(fresh)).all()) == set(
                conn.execute(sa.text(kept)).all()
            ) and set(conn.execute(sa.text(by_village)).all()) == set(
                conn.execute(sa.text(villages)).all()
            )

        assert same()
        conn.execute(sa.text("UPDATE cases SET status = 'closed' WHERE id % 3 = 0"))
        assert same()
        conn.execute(
            sa.text("UPDATE cases SET grid_id = (SELECT min(id) FROM grids) WHERE id % 7 = 0")
        )
        assert same()
        conn.execute(  # cases with a history may not go (it is append-only): migrated ones
            sa.text(
                "DELETE FROM cases c WHERE c.id % 5 = 0 "
                "AND NOT EXISTS (SELECT 1 FROM case_history h WHERE h.case_id = c.id)"
            )
        )
        assert same()
        conn.execute(sa.text("SET LOCAL onemap.reset = 'on'"))  # history is append-only
        conn.execute(sa.text("TRUNCATE cases, case_history"))
        assert same() and conn.execute(sa.text(kept)).first() is None


def test_geojson_tiles_unclipped_for_leaflet(demo_server: ServerProcess) -> None:
    """clip=false: the same features, whole (simplified), so a map does not outline cuts."""
    z, x, y = tile_of(14)
    base = f"{demo_server.base}/tiles/units/{z}/{x}/{y}.geojson"
    clipped, whole = httpx.get(base).json(), httpx.get(base + "?clip=false").json()
    assert {f["id"] for f in clipped["features"]} == {f["id"] for f in whole["features"]}
    west, east = tile_lons(z, x)
    pad = (east - west) * 64 / 4096

    def max_lon(fc: dict[str, object]) -> float:
        return max(
            c[0]
            for f in fc["features"]  # type: ignore[attr-defined]
            for ring in f["geometry"]["coordinates"]
            for part in (ring if isinstance(ring[0][0], list) else [ring])
            for c in part
        )

    assert max_lon(clipped) <= east + pad + 1e-6 < max_lon(whole)
    assert httpx.get(base + "?clip=maybe").status_code == 422


def test_the_tile_cache_is_bounded_even_by_empty_tiles() -> None:
    from layers.tiles import TileCache

    cache = TileCache(max_bytes=20_000)
    for i in range(10_000):
        cache.put(f"empty-{i}", b"")
    assert 0 < len(cache._items) <= 100  # 20,000 bytes at 200 a key, at most
    cache.put("big", b"x" * 15_000)
    assert cache.get("big") == b"x" * 15_000 and len(cache._items) <= 25
