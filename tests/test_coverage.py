"""Service coverage: distances against shapely (brute force over every station, in the city's
Gauss-Krüger zone), shares within a radius against shapely buffers and intersections, units
within a radius and uncovered grids against PostGIS SQL, the HTTP and CLI fronts, the layer
through OGC API Features, and a refresh after a station is added."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import pytest
import shapely
import sqlalchemy as sa
from pyproj import Transformer
from sqlalchemy.engine import Engine

from gis.stats import coverage as cov
from tests.conftest import bearer
from tests.helpers import ServerProcess, run_cli

EPSG = 4549  # CGCS2000 / 3-degree Gauss-Krüger CM 120E: the demo city's zone (118.8-119.3 E)
SHARE_TOL = 0.002  # our buffers have 128 segments, these 256: circle areas differ by 0.03 %
KIND = "convenience_point"


def _metric(engine: Engine, sql: str) -> list[tuple[str, shapely.Geometry]]:
    fwd = Transformer.from_crs(4326, EPSG, always_xy=True)

    def project(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(fwd.transform(xy[:, 0], xy[:, 1]))

    with engine.connect() as conn:
        rows = conn.execute(sa.text(sql)).all()
    return [(r[0], shapely.transform(shapely.from_wkb(bytes(r[1])), project)) for r in rows]


@pytest.fixture(scope="module")
def demo(demo_ro: Engine) -> dict[str, object]:

    grids = dict(
        _metric(
            demo_ro,
            "SELECT code, ST_AsBinary(geom) FROM grids WHERE valid_to IS NULL ORDER BY code",
        )
    )
    stations: dict[str, list[shapely.Geometry]] = {}
    for kind, geom in _metric(demo_ro, "SELECT kind, ST_AsBinary(geom) FROM stations"):
        stations.setdefault(kind, []).append(geom)
    with demo_ro.begin() as conn:
        table = {(r["code"], r["kind"]): r for r in cov.table(conn)}
    return {"grids": grids, "stations": stations, "table": table}


def _sample(grids: dict[str, shapely.Geometry], k: int = 25) -> list[str]:
    codes = sorted(grids)
    return [codes[i] for i in np.random.default_rng(5).choice(len(codes), k, replace=False)]


def test_the_zone_is_the_citys() -> None:
    import geopandas as gpd

    frame = gpd.GeoDataFrame(geometry=[shapely.box(118.8, 25.2, 119.3, 25.6)], crs=4326)
    assert cov.metric_epsg(frame) == EPSG


def test_distances_agree_with_shapely(demo: dict) -> None:  # type: ignore[type-arg]
    grids, stations, table = demo["grids"], demo["stations"], demo["table"]
    assert set(stations) == set(cov.STATION_KINDS)
    for code in _sample(grids):
        for kind, points in stations.items():
            expected = min(grids[code].distance(p) for p in points)  # every station, no index
            row = table[(code, kind)]
            assert row["method"] == "straight-line"
            assert row["nearest_m"] == pytest.approx(expected, abs=0.01), (code, kind)


def test_shares_within_a_radius_agree_with_shapely_buffers(demo: dict) -> None:  # type: ignore[type-arg]
    grids, stations, table = demo["grids"], demo["stations"], demo["table"]
    partial = 0
    for code in _sample(grids, 40):
        g = grids[code]
        for r in cov.RADII:
            cover = shapely.union_all([p.buffer(r, quad_segs=64) for p in stations[KIND]])
            expected = g.intersection(cover).area / g.area
            got = table[(code, KIND)][f"area_{r}"]
            assert got == pytest.approx(expected, abs=SHARE_TOL), (code, r)
            partial += 0.01 < expected < 0.99
    assert partial > 5  # the sample holds grids partly covered, not only 0 and 1


def test_units_within_a_radius_and_uncovered_grids_agree_with_sql(
    demo_ro: Engine, demo: dict
) -> None:  # type: ignore[type-arg]
    table = demo["table"]
    with demo_ro.connect() as conn:
        shares = dict(
            conn.execute(
                sa.text(
                    "SELECT u.grid_code, avg((EXISTS (SELECT 1 FROM stations s WHERE s.kind = :k "
                    "AND ST_DWithin(ST_Transform(s.geom, 4549), "
                    "ST_Transform(ST_PointOnSurface(u.geom), 4549), 500)))::int) "
                    "FROM units u WHERE u.valid_to IS NULL GROUP BY u.grid_code"
                ),
                {"k": KIND},
            ).all()
        )
        far = set(
            conn.execute(
                sa.text(
                    "SELECT g.code FROM grids g WHERE g.valid_to IS NULL AND NOT EXISTS ("
                    "SELECT 1 FROM stations s WHERE s.kind = :k AND ST_DWithin("
                    "ST_Transform(s.geom, 4549), ST_Transform(g.geom, 4549), 500))"
                ),
                {"k": KIND},
            ).scalars()
        )
    for code, share in shares.items():
        assert table[(code, KIND)]["units_500"] == pytest.approx(float(share), abs=1e-4), code
    with demo_ro.begin() as conn:
        uncovered = cov.table(conn, KIND, 500, uncovered=True)
    assert {r["code"] for r in uncovered} == far and far
    assert all(r["share_area"] == 0 and not r["within"] for r in uncovered)


def test_http_json_csv_and_bad_values(demo_server: ServerProcess, demo: dict) -> None:  # type: ignore[type-arg]
    url = demo_server.base + "/api/v1/coverage"
    r = httpx.get(url, params={"kind": KIND, "radius": 1000, "level": "unit"}, timeout=120)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["method"] == "straight-line" and len(body["areas"]) == 4004
    assert all(a["share_units"] is None for a in body["areas"])  # units have no units
    csv = httpx.get(url, params={"radius": 300, "format": "csv"}, timeout=120)
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0] == ",".join(cov.columns(300)) and len(lines) == 1 + 1002 * 5
    for params, why in (
        ({"kind": "cinema"}, "kind: 'cinema' is not one of"),
        ({"radius": "400"}, "radius: 400 m is not a life-circle radius"),
        ({"level": "town"}, "level: 'town' is not one of grid, unit"),
        ({"uncovered": "true"}, "uncovered: give a radius"),
        ({"radius": "far"}, "radius"),
    ):
        bad = httpx.get(url, params=params, timeout=30)
        assert bad.status_code == 422 and why in bad.json()["detail"], bad.text


def test_the_layer_through_ogc(
    demo_server: ServerProcess,
    demo: dict,
    tokens: dict[str, str],  # type: ignore[type-arg]
) -> None:
    ids = {c["id"] for c in httpx.get(demo_server.base + "/ogc/collections").json()["collections"]}
    assert "coverage" in ids
    url = demo_server.base + "/ogc/collections/coverage/items"
    public = httpx.get(url, params={"limit": 2000}, timeout=60).json()
    signed = httpx.get(url, params={"limit": 2000}, headers=bearer(tokens["grid_worker"])).json()
    assert public == {**signed, "timeStamp": public["timeStamp"]}  # public data: alike for all
    assert public["numberMatched"] == 1002
    for f in public["features"][:50]:
        p = f["properties"]
        assert p["method"] == "straight-line"
        row = demo["table"][(p["code"], KIND)]
        assert p[f"{KIND}_m"] == pytest.approx(row["nearest_m"], abs=1e-3)
        assert p[f"{KIND}_area_500"] == pytest.approx(row["area_500"], abs=1e-4)


def test_a_new_station_is_seen_by_the_next_read_and_the_cli(
    demo_db: Engine, tmp_path: Path
) -> None:
    with demo_db.begin() as conn:
        code, lon, lat = conn.execute(
            sa.text(
                "SELECT g.code, ST_X(g.label_point), ST_Y(g.label_point) FROM grids g "
                "JOIN area_coverage c ON c.area_id = g.id AND c.level = 'grid' "
                "WHERE g.valid_to IS NULL AND c.kind = 'elderly_care_center' "
                "ORDER BY c.nearest_m DESC LIMIT 1"
            )
        ).one()
        conn.execute(
            sa.text(
                "INSERT INTO stations (name, kind, geom) VALUES "
                "('新建养老中心', 'elderly_care_center', ST_SetSRID(ST_MakePoint(:x, :y), 4326))"
            ),
            {"x": lon, "y": lat},
        )
    out = tmp_path / "c.csv"
    r = run_cli(
        "coverage", "--kind", "elderly_care_center", "--radius", "300", "--out", str(out),
        engine=demo_db,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    rows = [line.split(",") for line in out.read_text(encoding="utf-8-sig").splitlines()]
    assert rows[0] == cov.columns(300)
    mine = next(row for row in rows if row[0] == code)
    assert float(mine[4]) == 0 and mine[-1] == "True"  # the station is inside the grid
    bad = run_cli("coverage", "--radius", "800", engine=demo_db)
    assert bad.returncode == 2 and "radius: 800 m is not a life-circle radius" in bad.stderr
    square = tmp_path / "square.geojson"
    square.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, '
        '"geometry": {"type": "Polygon", "coordinates": [[[119, 25.4], [119.01, 25.4], '
        "[119.01, 25.41], [119, 25.4]]]}}]}"
    )
    refused = run_cli("import", "coverage", str(square), engine=demo_db)
    assert refused.returncode == 2, refused.stderr
    assert "coverage is computed by OneMap, not imported" in refused.stderr
