"""A new grid plan: old rows are closed, layers re-join, closed cases keep their grid."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis.errors import ImportRejected
from gis.io.export import read_layer
from gis.plan.generations import import_new_plan, rejoin
from tests.conftest import counts
from tests.helpers import run_cli


def _merged_plan(engine: Engine, tmp_path: Path) -> tuple[str, str, Path, Path]:
    """The current plan with grid B merged into its neighbour A (same village)."""
    grids, units = read_layer(engine, "grids"), read_layer(engine, "units")
    with engine.connect() as conn:
        a, b = conn.execute(
            sa.text(
                "SELECT g1.code, g2.code FROM grids g1 JOIN grids g2 ON g1.village_code = "
                "g2.village_code AND g1.code < g2.code AND ST_Relate(g1.geom, g2.geom, 'F***1****') "
                "WHERE EXISTS (SELECT 1 FROM stations s WHERE s.grid_id = g2.id) "
                "AND EXISTS (SELECT 1 FROM cases c WHERE c.grid_id = g2.id AND c.status IN "
                "('closed', 'evaluated')) ORDER BY g2.code LIMIT 1"
            )
        ).one()
    ga, gb = grids.set_index("code").loc[[a, b]].geometry
    merged = shapely.coverage_union_all([ga, gb])
    grids = grids[grids.code != b].copy()
    grids.loc[grids.code == a, "geometry"] = gpd.GeoSeries(
        [shapely.MultiPolygon([merged]) if merged.geom_type == "Polygon" else merged]
    ).values
    n_a = int((units.parent_code == a).sum())
    moved = units.parent_code == b
    units.loc[moved, "code"] = [f"{a}{n_a + i + 1:03d}" for i in range(int(moved.sum()))]
    units.loc[moved, "parent_code"] = a
    gpath, upath = tmp_path / "grids.gpkg", tmp_path / "units.gpkg"
    grids.drop(columns=["valid_from"]).to_file(gpath)
    units.to_file(upath)
    return a, b, gpath, upath


def test_new_plan_and_rejoin(demo_db: Engine, tmp_path: Path) -> None:
    a, b, gpath, upath = _merged_plan(demo_db, tmp_path)
    with demo_db.connect() as conn:
        closed_before = dict(
            conn.execute(
                sa.text(
                    "SELECT c.id, c.grid_id FROM cases c JOIN grids g ON g.id = c.grid_id "
                    "WHERE g.code = :b AND c.status IN ('closed', 'evaluated', 'cancelled')"
                ),
                {"b": b},
            ).all()
        )
        open_in_b = conn.execute(
            sa.text(
                "SELECT count(*) FROM cases c JOIN grids g ON g.id = c.grid_id WHERE g.code = :b "
                "AND c.status NOT IN ('closed', 'evaluated', 'cancelled')"
            ),
            {"b": b},
        ).scalar_one()
        stations_in_b = conn.execute(
            sa.text(
                "SELECT count(*) FROM stations s JOIN grids g ON g.id = s.grid_id WHERE g.code = :b"
            ),
            {"b": b},
        ).scalar_one()
        n_grids = conn.execute(sa.text("SELECT count(*) FROM grids")).scalar_one()
    import_new_plan(demo_db, gpath, upath)
    with demo_db.connect() as conn:
        current = conn.execute(
            sa.text("SELECT count(*) FROM grids WHERE valid_to IS NULL")
        ).scalar_one()
        closed = conn.execute(
            sa.text("SELECT count(*) FROM grids WHERE valid_to IS NOT NULL")
        ).scalar_one()
    assert current == n_grids - 1 and closed == n_grids
    report = rejoin(demo_db)
    text = str(report)
    by_layer = {m.layer: m for m in report.layers}
    assert by_layer["stations"].transitions[(b, a)] == stations_in_b > 0
    assert by_layer["cases"].transitions[(b, a)] == open_in_b
    assert by_layer["stations"].moved == stations_in_b  # nothing else changed grid
    assert f"{b} -> {a}" in text
    with demo_db.connect() as conn:
        # Closed cases keep the (now closed) grid row they had.
        kept = dict(
            conn.execute(
                sa.text("SELECT id, grid_id FROM cases WHERE id = ANY(:ids)"),
                {"ids": list(closed_before)},
            ).all()
        )
        assert kept == closed_before
        stale = conn.execute(
            sa.text(
                "SELECT count(*) FROM stations s JOIN grids g ON g.id = s.grid_id "
                "WHERE g.valid_to IS NOT NULL"
            )
        ).scalar_one()
        assert stale == 0
        shares = conn.execute(
            sa.text(
                "SELECT count(*) FROM parcel_shares ps JOIN grids g ON g.id = ps.grid_id "
                "WHERE g.valid_to IS NOT NULL"
            )
        ).scalar_one()
        assert shares == 0
    res = run_cli("rejoin", engine=demo_db)
    assert res.returncode == 0 and "0 changed grid" in res.stdout


def test_a_bad_new_plan_changes_nothing(demo_db: Engine, tmp_path: Path) -> None:
    a, b, gpath, upath = _merged_plan(demo_db, tmp_path)
    units = gpd.read_file(upath)
    units.loc[3, "parent_code"] = b  # a unit of the grid that no longer exists
    units.loc[3, "code"] = b + "001"
    units.to_file(upath)
    before = counts(demo_db)
    with pytest.raises(ImportRejected, match="unknown grid"):
        import_new_plan(demo_db, gpath, upath)
    assert counts(demo_db) == before
    with demo_db.connect() as conn:
        assert (
            conn.execute(
                sa.text("SELECT count(*) FROM grids WHERE valid_to IS NOT NULL")
            ).scalar_one()
            == 0
        )


def test_parcel_shares_add_up(demo_ro: Engine) -> None:
    with demo_ro.connect() as conn:
        rows = pd.DataFrame(
            conn.execute(
                sa.text(
                    "SELECT p.id, p.grid_id AS owner, ps.grid_id, ps.area_m2, ps.share_pct, "
                    "ST_Area(p.geom::geography) AS total, ST_CoveredBy(p.geom, (SELECT ST_Union(geom) "
                    "FROM regions WHERE level = 'district')) AS in_city FROM parcels p "
                    "JOIN parcel_shares ps ON ps.parcel_id = p.id"
                )
            ).all()
        )
    assert rows.id.nunique() == 100
    sums = rows.groupby("id").agg(
        pct=("share_pct", "sum"),
        area=("area_m2", "sum"),
        total=("total", "first"),
        in_city=("in_city", "first"),
    )
    inside = sums[sums.in_city]
    assert len(inside) >= 90
    assert ((inside.pct - 100).abs() < 0.01).all()
    assert ((inside.area - inside.total).abs() < 0.001 * inside.total).all()
    assert (sums[~sums.in_city].pct < 100).all()  # parcels over the city edge: part is nobody's
    largest = rows.loc[rows.groupby("id").area_m2.idxmax()]
    assert (largest.owner == largest.grid_id).all()
    assert (rows.groupby("id").size() > 1).sum() >= 20  # a third are drawn across grid edges
