"""Grid-plan quality checks find every planted defect, and none in the demo city."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import shapely
import sqlalchemy as sa
from pyproj import Geod
from sqlalchemy.engine import Engine

from gis.plan.qa import check_database, check_files, check_plan
from tests.conftest import BOUNDARIES
from tests.helpers import as_owner, run_cli


def test_demo_city_has_no_findings(demo_ro: Engine) -> None:
    assert check_database(demo_ro) == []
    assert check_files(BOUNDARIES) == []


def _one(findings: list, check: str) -> list:
    return [f for f in findings if f.check == check]


def test_planted_defects_in_the_database(demo_db: Engine) -> None:
    with as_owner(demo_db).begin() as conn:  # deleting a grid is beyond the app role
        # Two neighbouring grids of one village: B is grown into A (overlap), then the
        # village loses a grid (gap), a unit pokes out of its grid, a grid out of its village.
        a, b = conn.execute(
            sa.text(
                "SELECT g1.code, g2.code FROM grids g1 JOIN grids g2 "
                "ON g1.village_code = g2.village_code AND g1.code < g2.code "
                "AND ST_Relate(g1.geom, g2.geom, 'F***1****') ORDER BY g1.code LIMIT 1"
            )
        ).one()
        conn.execute(
            sa.text(
                "UPDATE grids SET geom = ST_Multi(ST_Union(geom, (SELECT ST_Buffer(ST_PointOnSurface("
                "geom)::geography, 30)::geometry FROM grids WHERE code = :a))) WHERE code = :b"
            ),
            {"a": a, "b": b},
        )
        gap_grid, gap_village = conn.execute(
            sa.text(
                "SELECT g.code, g.village_code FROM grids g WHERE g.code NOT IN (:a, :b) "
                "AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.grid_id = g.id) "
                "AND NOT EXISTS (SELECT 1 FROM stations c WHERE c.grid_id = g.id) "
                "AND NOT EXISTS (SELECT 1 FROM hotspots c WHERE c.grid_id = g.id) "
                "AND NOT EXISTS (SELECT 1 FROM parcels c WHERE c.grid_id = g.id) "
                "ORDER BY g.code LIMIT 1"
            ),
            {"a": a, "b": b},
        ).one()
        if gap_grid is None:  # pragma: no cover - the demo has grids without cases
            raise AssertionError("no grid free of cases to delete")
        conn.execute(sa.text("DELETE FROM units WHERE grid_code = :g"), {"g": gap_grid})
        conn.execute(sa.text("DELETE FROM grids WHERE code = :g"), {"g": gap_grid})
        unit = conn.execute(
            sa.text(
                "SELECT code FROM units WHERE grid_code NOT IN (:a, :b) ORDER BY code DESC LIMIT 1"
            ),
            {"a": a, "b": b},
        ).scalar_one()
        conn.execute(
            sa.text(
                "UPDATE units SET geom = ST_Multi(ST_Translate(geom, 0.01, 0)) WHERE code = :u"
            ),
            {"u": unit},
        )
        outside_grid = conn.execute(
            sa.text(
                "SELECT code FROM grids WHERE code NOT IN (:a, :b) AND village_code <> :v "
                "ORDER BY code DESC LIMIT 1 OFFSET 5"
            ),
            {"a": a, "b": b, "v": gap_village},
        ).scalar_one()
        conn.execute(
            sa.text(
                "UPDATE grids SET geom = ST_Multi(ST_Union(geom, ST_Buffer(ST_Centroid(geom), 0.02))) "
                "WHERE code = :g"
            ),
            {"g": outside_grid},
        )
        gap_area = conn.execute(
            sa.text("SELECT ST_Area(geom::geography) FROM regions WHERE code = :v"),
            {"v": gap_village},
        ).scalar_one()
    findings = check_database(demo_db)

    overlaps = [f for f in _one(findings, "overlap") if f.layer == "grids"]
    assert any(set(f.codes) == {a, b} for f in overlaps)
    pair = next(f for f in overlaps if set(f.codes) == {a, b})
    assert 500 < pair.area_m2 < 2900  # a 30 m disc, partly inside B already

    gaps = [f for f in _one(findings, "gap") if f.layer == "grids"]
    assert [f.codes for f in gaps] == [(gap_village,)]
    assert 0 < gaps[0].area_m2 < gap_area
    assert "m²" in gaps[0].detail

    assert any(f.codes[0] == unit for f in _one(findings, "unit_outside_grid"))
    assert any(f.codes[0] == outside_grid for f in _one(findings, "grid_outside_village"))
    for f in findings:
        assert 118 < f.lon < 120 and 25 < f.lat < 26


def test_planted_defects_in_files(tmp_path: Path) -> None:
    """Invalid shapes and duplicate codes cannot enter the database; checked as files."""
    frames = {
        layer: gpd.read_file(BOUNDARIES / f"{layer}.geojson") for layer in ("villages", "grids")
    }
    grids = frames["grids"]
    victim = grids.iloc[10]
    minx, miny, maxx, maxy = victim.geometry.bounds
    bowtie = shapely.MultiPolygon(
        [shapely.Polygon([(minx, miny), (maxx, maxy), (maxx, miny), (minx, maxy), (minx, miny)])]
    )
    grids.loc[10, "geometry"] = bowtie
    dup = grids.iloc[[20]].copy()
    grids = gpd.GeoDataFrame(
        __import__("pandas").concat([grids, dup], ignore_index=True), crs=grids.crs
    )
    for layer, frame in (("villages", frames["villages"]), ("grids", grids)):
        frame.to_file(tmp_path / f"{layer}.geojson")
    findings = check_files(tmp_path)
    invalid = _one(findings, "invalid_geometry")
    assert [f.codes for f in invalid] == [(victim.code,)]
    assert "Self-intersection" in invalid[0].detail
    assert abs(invalid[0].lon - (minx + maxx) / 2) < 1e-6
    dups = _one(findings, "duplicate_code")
    assert [f.codes for f in dups] == [(dup.code.iloc[0],)]
    assert str(len(grids)) in dups[0].detail

    res = run_cli("qa", "--dir", str(tmp_path), "--json")
    assert res.returncode == 1
    checks = {f["check"] for f in json.loads(res.stdout)}
    assert {"invalid_geometry", "duplicate_code", "overlap"} <= checks


def test_orphans_and_min_area() -> None:
    villages = gpd.GeoDataFrame(
        {"code": ["359901101201"], "parent_code": ["359901101000"]},
        geometry=[shapely.box(119.0, 25.4, 119.01, 25.41)],
        crs=4326,
    )
    grids = gpd.GeoDataFrame(
        {
            "code": ["359901101201001", "359901101299001"],
            "parent_code": ["359901101201", "359901101299"],
        },
        geometry=[
            shapely.box(119.0, 25.4, 119.01, 25.40999),
            shapely.box(119.02, 25.4, 119.03, 25.41),
        ],
        crs=4326,
    )
    findings = check_plan({"villages": villages, "grids": grids})
    assert [f.check for f in findings] == ["unknown_parent", "gap"]
    strip = shapely.box(119.0, 25.40999, 119.01, 25.41)
    geodesic, _ = Geod(ellps="GRS80").geometry_area_perimeter(strip)
    assert abs(findings[1].area_m2 - abs(geodesic)) < 0.5  # Gauss-Krüger vs ellipsoid
    assert check_plan({"villages": villages, "grids": grids}, min_area_m2=2000)[1:] == []


def test_cli_qa_on_clean_database(demo_ro: Engine) -> None:
    res = run_cli("qa", engine=demo_ro)
    assert res.returncode == 0, res.stderr
    assert "0 finding(s)" in res.stdout
