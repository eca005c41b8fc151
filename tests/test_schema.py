"""The schema: migrations match the models, and the database itself refuses bad data."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from gis.store.migrate import head_revision, upgrade
from gis.store.models import Base
from gis.store.roles import APP
from tests.conftest import Server, counts


def test_models_match_migrations(empty_db: Engine) -> None:
    with empty_db.connect() as conn:
        ctx = MigrationContext.configure(
            conn,
            opts={
                "include_object": lambda o, name, type_, r, c: (
                    not (type_ == "table" and name == "spatial_ref_sys")
                ),
                "compare_type": True,
            },
        )
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_migrate_an_empty_postgis_database(server: Server) -> None:
    """`onemap db migrate` prepares a plain new database, PostGIS included; twice is a no-op."""
    name = "onemap_test_plain_migrate"
    url = server.create(name)
    try:
        upgrade(server.owner_url(name), APP)
        upgrade(server.owner_url(name), APP)
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            assert (
                conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
                == head_revision()
            )
            assert conn.execute(sa.text("SELECT postgis_lib_version()")).scalar()
        engine.dispose()
    finally:
        server.drop(name)


GOOD_VILLAGE = (
    "INSERT INTO regions (code, level, name, parent_code, geom) VALUES "
    "(:code, :level, 'x', :parent, ST_Multi(ST_MakeEnvelope(119, 25.4, 119.01, 25.41, 4326)))"
)

BAD_SQL = [
    (
        "region code letters",
        GOOD_VILLAGE,
        {"code": "35990110120A", "level": "village", "parent": "359901101000"},
        "regions_code_format",
    ),
    (
        "village under wrong town",
        GOOD_VILLAGE,
        {"code": "359901101299", "level": "village", "parent": "359901102000"},
        "regions_level_matches_code",
    ),
    (
        "town ending wrongly",
        GOOD_VILLAGE,
        {"code": "359901101001", "level": "town", "parent": "359901000000"},
        "regions_level_matches_code",
    ),
    (
        "invalid geometry",
        "INSERT INTO regions (code, level, name, geom) VALUES ('359909000000', "
        "'district', 'x', ST_Multi('POLYGON((119 25.4, 119.01 25.41, 119.01 25.4, 119 25.41, 119 25.4))'"
        "::geometry(Polygon, 4326)))",
        {},
        "regions_geom_valid",
    ),
    (
        "wrong SRID",
        "INSERT INTO regions (code, level, name, geom) VALUES ('359909000000', "
        "'district', 'x', ST_Multi(ST_MakeEnvelope(0, 0, 1, 1, 3857)))",
        {},
        "SRID",
    ),
    (
        "grid code not in village",
        "INSERT INTO grids (code, village_code, name, geom) "
        "SELECT '359901101202001', code, 'x', geom FROM regions WHERE code = :v",
        {"v": None},
        "grids_code_in_village",
    ),
    (
        "unit code not in grid",
        "INSERT INTO units (code, grid_id, grid_code, name, geom) "
        "SELECT '359901101201999001', id, code, 'x', geom FROM grids WHERE code = :g",
        {"g": None},
        "units_code_in_grid",
    ),
    (
        "unit names a grid that differs",
        "INSERT INTO units (code, grid_id, grid_code, name, geom) "
        "SELECT code || '099', id + 1, code, 'x', geom FROM grids WHERE code = :g",
        {"g": None},
        "units_grid_fkey",
    ),
    (
        "case category",
        "INSERT INTO cases (category, title, geom) VALUES ('ufo', 't', "
        "ST_SetSRID(ST_Point(119, 25.4), 4326))",
        {},
        "cases_category_fkey",
    ),
    (
        "case status",
        "INSERT INTO cases (category, title, status, geom) VALUES ('dispute', 't', "
        "'lost', ST_SetSRID(ST_Point(119, 25.4), 4326))",
        {},
        "cases_status_check",
    ),
    (
        "hotspot line",
        "INSERT INTO hotspots (name, kind, risk_level, geom) VALUES ('h', "
        "'hazard', 'low', 'SRID=4326;LINESTRING(119 25.4, 119.1 25.4)')",
        {},
        "hotspots_geom_type",
    ),
]


@pytest.mark.parametrize(
    ("name", "sql", "params", "constraint"), BAD_SQL, ids=[b[0] for b in BAD_SQL]
)
def test_database_refuses_bad_rows(
    demo_ro: Engine, name: str, sql: str, params: dict, constraint: str
) -> None:
    with demo_ro.connect() as conn:
        village, grid = conn.execute(
            sa.text("SELECT village_code, code FROM grids ORDER BY code LIMIT 1")
        ).one()
    params = {k: (village if k == "v" else grid if k == "g" else v) for k, v in params.items()}
    if "code" in params and params.get("level") == "village":
        params["code"] = params["code"].replace("359901101", village[:9])
        params["parent"] = (
            params["parent"]
            .replace("359901101", village[:9])
            .replace("359901102", village[:6] + "999")
        )
    before = counts(demo_ro)
    with pytest.raises(sa.exc.DBAPIError) as info:
        with demo_ro.begin() as conn:
            conn.execute(sa.text(sql), params)
    assert constraint in str(info.value)
    assert counts(demo_ro) == before


def test_only_one_current_grid_per_code(demo_db: Engine) -> None:
    with demo_db.begin() as conn:
        code = conn.execute(sa.text("SELECT code FROM grids ORDER BY code LIMIT 1")).scalar_one()
        # A new generation may reuse the code once the old row is closed.
        conn.execute(
            sa.text("UPDATE grids SET valid_to = now() + interval '1 second' WHERE code = :c"),
            {"c": code},
        )
        conn.execute(
            sa.text(
                "INSERT INTO grids (code, village_code, name, geom, valid_from) "
                "SELECT code, village_code, name, geom, now() + interval '1 second' "
                "FROM grids WHERE code = :c"
            ),
            {"c": code},
        )
    with pytest.raises(sa.exc.IntegrityError, match="grids_current_code_key"):
        with demo_db.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO grids (code, village_code, name, geom) "
                    "SELECT code, village_code, name, geom FROM grids "
                    "WHERE code = :c AND valid_to IS NULL"
                ),
                {"c": code},
            )


def test_case_categories_table_matches_vocab(empty_db: Engine) -> None:
    """Migration 0004 seeds case_categories from a frozen copy of gis.registry.vocab: they agree."""
    from gis.registry.vocab import CASE_MAJORS, CASE_MINORS

    with empty_db.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT code, major, major_label, label, respond_hours, close_hours "
                "FROM case_categories"
            )
        ).all()
    assert {r.code: (r.major, r.label, r.respond_hours, r.close_hours) for r in rows} == CASE_MINORS
    assert {r.major: r.major_label for r in rows} == CASE_MAJORS
