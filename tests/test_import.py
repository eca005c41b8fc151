"""Imports: every format, every kind of bad row, all or nothing, real PostGIS."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gis.errors import ImportRejected, InvalidCRS, InvalidInput, UnknownLayer
from gis.io.export import export_layer, read_layer
from gis.io.importer import import_file
from tests.conftest import BOUNDARIES, counts
from tests.helpers import run_cli


@pytest.fixture(scope="module")
def demo_frames() -> dict[str, gpd.GeoDataFrame]:
    return {
        layer: gpd.read_file(BOUNDARIES / f"{layer}.geojson")
        for layer in ("districts", "towns", "villages", "grids", "units")
    }


def load_regions(engine: Engine) -> None:
    for layer in ("districts", "towns", "villages"):
        import_file(engine, layer, BOUNDARIES / f"{layer}.geojson")


def write(frame: gpd.GeoDataFrame, path: Path, **kw: object) -> Path:
    frame.to_file(path, **kw)
    return path


BOUNDARY_TABLES = {
    "districts": "SELECT code, name FROM regions WHERE level = 'district'",
    "towns": "SELECT code, name FROM regions WHERE level = 'town'",
    "villages": "SELECT code, name FROM regions WHERE level = 'village'",
    "grids": "SELECT code, name FROM grids WHERE valid_to IS NULL",
    "units": "SELECT code, name FROM units WHERE valid_to IS NULL",
}


def test_demo_boundaries_import_in_order(
    empty_db: Engine, demo_frames: dict[str, gpd.GeoDataFrame]
) -> None:
    for layer, sql in BOUNDARY_TABLES.items():
        s = import_file(empty_db, layer, BOUNDARIES / f"{layer}.geojson")
        frame = demo_frames[layer]
        with empty_db.connect() as conn:
            stored = dict(conn.execute(sa.text(sql)).all())
        assert s.rows == len(frame) == len(stored)
        assert stored == dict(zip(frame.code, frame.name, strict=True)), layer
        assert s.rows_per_second > 0
    assert (len(demo_frames["grids"]), len(demo_frames["units"])) >= (1000, 4000)
    with empty_db.connect() as conn:
        wrong = conn.execute(
            sa.text(
                "SELECT count(*) FROM units u JOIN grids g ON g.id = u.grid_id "
                "WHERE left(u.code, 15) <> g.code"
            )
        ).scalar_one()
    assert wrong == 0


def test_one_bad_row_changes_nothing_and_is_named(
    empty_db: Engine, tmp_path: Path, demo_frames: dict[str, gpd.GeoDataFrame]
) -> None:
    load_regions(empty_db)
    grids = demo_frames["grids"].head(40).copy()
    grids.loc[17, "parent_code"] = "359999999201"  # row 18: a village that does not exist
    grids.loc[17, "code"] = "359999999201001"
    before = counts(empty_db)
    with pytest.raises(ImportRejected) as info:
        import_file(empty_db, "grids", write(grids, tmp_path / "g.geojson"))
    assert counts(empty_db) == before
    assert [e.row for e in info.value.errors] == [18]
    assert "unknown village" in str(info.value) and "359999999201" in str(info.value)
    assert "nothing was written" in str(info.value)


def test_gbk_shapefile_with_cpg_and_without(
    empty_db: Engine, tmp_path: Path, demo_frames: dict[str, gpd.GeoDataFrame]
) -> None:
    load_regions(empty_db)
    grids = demo_frames["grids"].head(30)
    path = write(grids, tmp_path / "grids.shp", encoding="GBK")
    assert (tmp_path / "grids.cpg").read_text().strip().upper() in ("GBK", "CP936")
    assert b"\xe7\xac\xac" not in (tmp_path / "grids.dbf").read_bytes()  # not UTF-8 "第"
    import_file(empty_db, "grids", path)
    got = read_layer(empty_db, "grids").set_index("code")
    for row in grids.itertuples():
        assert got.loc[row.code, "name"] == row.name
        assert got.loc[row.code, "leader_name"] == row.leader_name
        assert got.loc[row.code].geometry.equals_exact(row.geometry, 1e-7)

    # The same file without .cpg: read as GBK after UTF-8 fails, and said so.
    other = grids.head(5).assign(code=lambda d: d.code.str[:12] + "9" + d.code.str[13:])
    path2 = write(other, tmp_path / "nocpg.shp", encoding="GBK")
    (tmp_path / "nocpg.cpg").unlink()
    s = import_file(empty_db, "grids", path2)
    assert any("GBK" in n for n in s.notes)
    got = read_layer(empty_db, "grids").set_index("code")
    assert got.loc[other.code.iloc[0], "name"] == other.name.iloc[0]


def test_encoding_option_overrides(
    empty_db: Engine, tmp_path: Path, demo_frames: dict[str, gpd.GeoDataFrame]
) -> None:
    load_regions(empty_db)
    grids = demo_frames["grids"].head(3)
    path = write(grids, tmp_path / "g.shp", encoding="GBK")
    (tmp_path / "g.cpg").unlink()
    with pytest.raises(InvalidInput, match="--encoding"):
        import_file(empty_db, "grids", path, encoding="UTF-8")
    assert counts(empty_db)["grids"] == 0
    import_file(empty_db, "grids", path, encoding="GBK")
    assert set(read_layer(empty_db, "grids").name) == set(grids.name)


def test_geopackage_and_projected_crs(
    empty_db: Engine, tmp_path: Path, demo_frames: dict[str, gpd.GeoDataFrame]
) -> None:
    load_regions(empty_db)
    grids = demo_frames["grids"].head(10)
    projected = grids.to_crs(4549)  # CGCS2000 / 3-degree Gauss-Krüger CM 120E
    import_file(empty_db, "grids", write(projected, tmp_path / "g.gpkg", layer="grids"))
    got = read_layer(empty_db, "grids").set_index("code").loc[grids.code]
    # Round trip through metres and back: same shapes to about a millimetre.
    dist = shapely.hausdorff_distance(got.geometry.values, grids.geometry.values)
    assert (dist < 1e-8).all()


def test_csv_points_with_lonlat_columns(demo_db: Engine, tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text(
        "category,title,reported_at,reporter_name,经度,纬度\n"
        "dispute,邻里纠纷,2026-05-01 08:30,张三,119.0100,25.4300\n"
        "矛盾纠纷,宅基地纠纷,2026-05-02T09:00:00+08:00,李四,119.0200,25.4400\n",
        encoding="utf-8",
    )
    before = counts(demo_db)["cases"]
    s = import_file(demo_db, "cases", path)
    assert s.rows == 2 and s.owned == 2
    with demo_db.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT category, reported_at AT TIME ZONE 'Asia/Shanghai', ST_X(geom), grid_id "
                "FROM cases ORDER BY id DESC LIMIT 2"
            )
        ).all()
    assert counts(demo_db)["cases"] == before + 2
    assert {r[0] for r in rows} == {"dispute"}
    assert str(rows[1][1]) == "2026-05-01 08:30:00"
    assert all(r[3] is not None for r in rows)


def test_gbk_csv(demo_db: Engine, tmp_path: Path) -> None:
    path = tmp_path / "stations.csv"
    path.write_bytes("name,kind,lon,lat\n测试便民服务点,便民服务点,119.01,25.43\n".encode("gbk"))
    s = import_file(demo_db, "stations", path)
    assert any("GBK" in n for n in s.notes)
    with demo_db.connect() as conn:
        assert (
            conn.execute(
                sa.text("SELECT kind FROM stations WHERE name = '测试便民服务点'")
            ).scalar_one()
            == "convenience_point"
        )


BAD_CASES = [
    ("swapped", "dispute,t,2026-05-01,25.43,119.01", "geometry", "look swapped"),
    ("outside", "dispute,t,2026-05-01,116.40,39.90", "geometry", "outside the city"),
    ("category", "flying_saucer,t,2026-05-01,119.01,25.43", "category", "unknown value"),
    ("date", "dispute,t,yesterday-ish,119.01,25.43", "reported_at", "not a time"),
    ("future", "dispute,t,2099-01-01,119.01,25.43", "reported_at", "future"),
    ("title", "dispute,,2026-05-01,119.01,25.43", "title", "required"),
    ("longtitle", f"dispute,{'长' * 201},2026-05-01,119.01,25.43", "title", "longer than 200"),
    ("lon", "dispute,t,2026-05-01,abc,25.43", "lon", "not a number"),
]


@pytest.mark.parametrize(
    ("name", "line", "field", "message"), BAD_CASES, ids=[c[0] for c in BAD_CASES]
)
def test_bad_case_rows_are_refused(
    demo_db: Engine, tmp_path: Path, name: str, line: str, field: str, message: str
) -> None:
    path = tmp_path / f"{name}.csv"
    good = "dispute,fine,2026-05-01,119.01,25.43"
    path.write_text(f"category,title,reported_at,lon,lat\n{good}\n{line}\n", encoding="utf-8")
    before = counts(demo_db)
    with pytest.raises(ImportRejected) as info:
        import_file(demo_db, "cases", path)
    assert counts(demo_db) == before
    errors = info.value.errors
    assert [e.row for e in errors] == [2] and errors[0].field == field
    assert message in errors[0].reason


def _polygon_file(tmp_path: Path, rows: list[dict], name: str = "f.geojson") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": rows}), encoding="utf-8")
    return path


def _feature(props: dict, coords: list, kind: str = "Polygon") -> dict:
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": kind, "coordinates": coords},
    }


def test_bad_boundary_rows(
    empty_db: Engine, tmp_path: Path, demo_frames: dict[str, gpd.GeoDataFrame]
) -> None:
    load_regions(empty_db)
    village = demo_frames["villages"].iloc[0]
    vcode = village.code
    box = [[[119.0, 25.4], [119.001, 25.4], [119.001, 25.401], [119.0, 25.401], [119.0, 25.4]]]
    bowtie = [[[119.0, 25.4], [119.001, 25.401], [119.001, 25.4], [119.0, 25.401], [119.0, 25.4]]]
    rows = [
        _feature({"code": vcode + "001", "name": "好网格"}, box),
        _feature({"code": vcode + "01", "name": "短码"}, box),  # 2 format
        _feature({"code": vcode + "000", "name": "零序号"}, box),  # 3 000
        _feature({"code": vcode + "002", "name": "自交"}, bowtie),  # 4 invalid
        _feature({"code": vcode + "001", "name": "重复"}, box),  # 5 duplicate
        _feature({"code": vcode + "003", "name": "线"}, box[0], "LineString"),  # 6 type
        _feature({"code": vcode + "004", "name": ""}, box),  # 7 no name
        _feature({"code": vcode + "005", "name": "错父", "parent_code": "359901101299"}, box),  # 8
        _feature({"code": vcode + "006", "name": "无形"}, []),  # 9 empty
    ]
    before = counts(empty_db)
    with pytest.raises(ImportRejected) as info:
        import_file(empty_db, "grids", _polygon_file(tmp_path, rows))
    assert counts(empty_db) == before
    by_row = {e.row: e for e in info.value.errors}
    assert sorted(by_row) == [2, 3, 4, 5, 6, 7, 8, 9], info.value
    assert "15 digits" in by_row[2].reason
    assert "000" in by_row[3].reason
    assert "Self-intersection" in str(by_row[4].value) and "Fix Geometries" in by_row[4].reason
    assert "row 1" in by_row[5].reason
    assert "LineString" in str(by_row[6].value)
    assert by_row[7].field == "name"
    assert by_row[8].field == "parent_code" and vcode in by_row[8].reason
    assert by_row[9].field == "geometry"


def test_existing_code_is_refused(
    demo_db: Engine, demo_frames: dict[str, gpd.GeoDataFrame]
) -> None:
    before = counts(demo_db)
    with pytest.raises(ImportRejected, match="already in the database") as info:
        import_file(demo_db, "districts", BOUNDARIES / "districts.geojson")
    assert counts(demo_db) == before
    codes = list(demo_frames["districts"].code)
    assert [(e.row, e.field, e.value) for e in info.value.errors] == [
        (i, "code", code) for i, code in enumerate(codes, start=1)
    ]


def test_file_level_errors(empty_db: Engine, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no such file"):
        import_file(empty_db, "grids", tmp_path / "missing.geojson")
    (tmp_path / "broken.geojson").write_text(
        '{"type": "FeatureCollection", "features": [', encoding="utf-8"
    )
    with pytest.raises(InvalidInput, match="cannot read broken.geojson"):
        import_file(empty_db, "grids", tmp_path / "broken.geojson")
    (tmp_path / "x.kml").write_text("<kml/>")
    with pytest.raises(InvalidInput, match="GeoJSON"):
        import_file(empty_db, "grids", tmp_path / "x.kml")
    (tmp_path / "c.csv").write_text("name,lon,lat\na,1,2\n")
    with pytest.raises(InvalidCRS, match="EPSG:4326"):
        import_file(empty_db, "stations", tmp_path / "c.csv", crs="EPSG:99999")
    with pytest.raises(InvalidInput, match="'kind' column"):
        import_file(empty_db, "stations", tmp_path / "c.csv")
    (tmp_path / "nolat.csv").write_text("name,kind,lon\na,便民服务点,1\n")
    with pytest.raises(InvalidInput, match="latitude"):
        import_file(empty_db, "stations", tmp_path / "nolat.csv")
    with pytest.raises(UnknownLayer, match="grids"):
        import_file(empty_db, "gridz", BOUNDARIES / "grids.geojson")
    assert set(counts(empty_db).values()) == {0}


def test_export_round_trip(demo_ro: Engine, empty_db: Engine, tmp_path: Path) -> None:
    for layer in ("districts", "towns", "villages", "grids", "units"):
        export_layer(demo_ro, layer, tmp_path / f"{layer}.gpkg")
        import_file(empty_db, layer, tmp_path / f"{layer}.gpkg")
    for fmt in ("geojson", "shp"):
        n = export_layer(demo_ro, "units", tmp_path / f"u.{fmt}")
        back = gpd.read_file(tmp_path / f"u.{fmt}")
        assert len(back) == n and "单元" in back["name"].iloc[0]
    a = read_layer(demo_ro, "units").set_index("code").sort_index()
    b = read_layer(empty_db, "units").set_index("code").sort_index()
    assert list(a.index) == list(b.index)
    assert shapely.equals_exact(a.geometry.values, b.geometry.values, 0).all()
    assert (a.drop(columns="geometry") == b.drop(columns="geometry")).all().all()


def test_cli_import_reports_and_exits_2_on_bad_rows(empty_db: Engine, tmp_path: Path) -> None:
    ok = run_cli("import", "districts", str(BOUNDARIES / "districts.geojson"), engine=empty_db)
    assert ok.returncode == 0, ok.stderr
    assert "imported 3 districts" in ok.stdout and "rows/s" in ok.stdout
    bad = tmp_path / "towns.csv"
    bad.write_text("code,name,lon,lat\n1,x,119,25\n")
    res = run_cli("import", "towns", str(bad), engine=empty_db)
    assert res.returncode == 2
    assert "wrong geometry type" in res.stderr and "row 1" in res.stderr
    assert "Traceback" not in res.stderr
    res = run_cli("import", "nonsense", str(bad), engine=empty_db)
    assert res.returncode == 2 and "nonsense" in res.stderr
