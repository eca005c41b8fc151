"""Least privilege in PostgreSQL: the app role reads and writes rows but may not rewrite the
history or change the schema; nobody signs in without a password; the roles survive a set-up
run twice, an old trusting cluster, and a backup/restore round trip."""

from __future__ import annotations

import shutil
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from gis.store.cluster import LocalCluster, pg_bindir
from gis.store.db import libpq_url
from gis.store.roles import APP, APP_PRIVILEGES, OWNER, ROLES, SUPERUSER
from tests.conftest import Server, bearer
from tests.helpers import ROOT, ServerProcess, as_owner, free_port, run_cli

TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")

# What the app role tries and PostgreSQL refuses for want of a privilege (not the history's
# append-only trigger, which says "append-only": the privilege check comes first).
REFUSED = [
    "DELETE FROM case_history",
    "UPDATE case_history SET note = 'rewritten'",
    "TRUNCATE case_history",
    "DROP TABLE cases",
    "DROP TABLE case_history",
    "CREATE TABLE evil (id integer)",
    "ALTER TABLE cases ADD COLUMN evil integer",
    "DELETE FROM cases",
    "TRUNCATE cases",
    "UPDATE grid_case_counts SET n = 0",
    "CREATE FUNCTION evil() RETURNS integer LANGUAGE sql AS 'SELECT 1'",
    "DROP FUNCTION onemap_history_append_only() CASCADE",
    "ALTER TABLE case_history DISABLE TRIGGER ALL",
]


def _rows(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()  # noqa: S608
            for t in ("cases", "case_history", "grid_case_counts", "users")
        }


@pytest.mark.parametrize("statement", REFUSED)
def test_the_app_role_is_refused(demo_db: Engine, statement: str) -> None:
    with demo_db.connect() as conn:
        assert conn.execute(sa.text("SELECT current_user")).scalar_one() == APP
    before = _rows(demo_db)
    with pytest.raises(sa.exc.ProgrammingError) as caught, demo_db.begin() as conn:
        conn.execute(sa.text(statement))
    orig = caught.value.orig
    assert isinstance(orig, psycopg.errors.InsufficientPrivilege), orig
    assert "permission denied" in str(orig) or "must be owner" in str(orig), orig
    assert "append-only" not in str(orig)
    assert _rows(demo_db) == before
    with demo_db.connect() as conn:
        assert conn.execute(sa.text("SELECT to_regclass('evil')")).scalar() is None


def test_the_roles_hold_what_they_should(demo_db: Engine) -> None:
    """The owner owns every table; the app role owns nothing, may not create in the schema,
    is no superuser, and holds exactly APP_PRIVILEGES (read from PostgreSQL's own checks)."""
    with demo_db.connect() as conn:
        q = conn.execute
        owners = dict(
            q(
                sa.text(
                    "SELECT c.relname, pg_get_userbyid(c.relowner) FROM pg_class c "
                    "WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'v') "
                    "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid "
                    "AND d.classid = 'pg_class'::regclass AND d.deptype = 'e')"  # PostGIS's
                )
            ).all()
        )
        assert set(owners) == set(APP_PRIVILEGES)
        assert set(owners.values()) == {OWNER}
        assert (
            q(sa.text("SELECT has_schema_privilege(:r, 'public', 'CREATE')"), {"r": APP}).scalar()
            is False
        )
        assert (
            q(
                sa.text("SELECT has_database_privilege(:r, current_database(), 'CREATE')"),
                {"r": APP},
            ).scalar()
            is False
        )
        attrs = q(
            sa.text(
                "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls "
                "FROM pg_roles WHERE rolname = :r"
            ),
            {"r": APP},
        ).one()
        assert not any(attrs)
        for table, allowed in APP_PRIVILEGES.items():
            for privilege in TABLE_PRIVILEGES:
                has = q(
                    sa.text("SELECT has_table_privilege(:r, :t, :p)"),
                    {"r": APP, "t": table, "p": privilege},
                ).scalar()
                assert has == (privilege in allowed), (table, privilege)
        assert q(
            sa.text("SELECT has_sequence_privilege(:r, 'case_history_id_seq', 'USAGE')"),
            {"r": APP},
        ).scalar()


def test_the_app_role_files_a_case_and_appends_history_through_the_api(
    writable: tuple[ServerProcess, str, Engine],
) -> None:
    server, token, db = writable
    with db.connect() as conn:
        lon, lat = conn.execute(
            sa.text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grids "
                "WHERE valid_to IS NULL ORDER BY code LIMIT 1) s"
            )
        ).one()
    before = _rows(db)
    body = {
        "category": "waterlogging",
        "title": "权限测试",
        "location": {"lon": lon, "lat": lat},
        "reporter": {"name": "测试人", "phone": "139-0000-0000"},
    }
    r = httpx.post(server.base + "/api/v1/cases", json=body, headers=bearer(token), timeout=30)
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    etag = httpx.get(f"{server.base}/api/v1/cases/{cid}", headers=bearer(token)).headers["etag"]
    r = httpx.post(
        f"{server.base}/api/v1/cases/{cid}/actions",
        json={"action": "register", "note": "checked"},
        headers={**bearer(token), "If-Match": etag},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    after = _rows(db)
    assert after["cases"] == before["cases"] + 1
    with db.connect() as conn:
        actions = (
            conn.execute(
                sa.text("SELECT action FROM case_history WHERE case_id = :c ORDER BY id"),
                {"c": cid},
            )
            .scalars()
            .all()
        )
        assert actions[-1] == "register"
        assert after["case_history"] == before["case_history"] + len(actions)
        # the counts kept by the (owner's) triggers followed
        assert (
            conn.execute(sa.text("SELECT sum(n) FROM grid_case_counts")).scalar_one()
            == conn.execute(
                sa.text("SELECT count(*) FROM cases WHERE grid_id IS NOT NULL")
            ).scalar_one()
        )
        # and the server signed in as the app role, nothing else
        users = set(
            conn.execute(
                sa.text(
                    "SELECT DISTINCT usename FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalars()
        )
    assert users == {APP}


def test_pg_hba_trusts_nobody(server: Server) -> None:
    hba = (server.cluster.datadir / "pg_hba.conf").read_text()
    rules = [line.split() for line in hba.splitlines() if line.split() and line[0] != "#"]
    assert rules and all(rule[-1] == "scram-sha-256" for rule in rules), hba
    with server.cluster._superuser() as conn:  # what the server has loaded, not just the file
        methods = {r[0] for r in conn.execute("SELECT auth_method FROM pg_hba_file_rules")}
        assert methods == {"scram-sha-256"}
        stored = conn.execute(
            "SELECT rolname, rolpassword FROM pg_authid WHERE rolname = ANY(%s)", (list(ROLES),)
        ).fetchall()
    assert {r[0] for r in stored} == set(ROLES)
    assert all(r[1].startswith("SCRAM-SHA-256$") for r in stored)


@pytest.mark.parametrize("role", ROLES)
def test_no_role_signs_in_without_its_password(
    server: Server, role: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cluster = server.cluster
    monkeypatch.delenv("PGPASSWORD", raising=False)
    for host in ("127.0.0.1", str(cluster.sockdir)):
        for password in (None, "wrong"):
            with pytest.raises(psycopg.OperationalError) as caught:
                psycopg.connect(
                    host=host,
                    port=cluster.port(),
                    user=role,
                    dbname="postgres",
                    password=password,
                    passfile="/dev/null",
                    connect_timeout=5,
                )
            assert "password" in str(caught.value), (host, password, caught.value)
    # with its password it may (the test's own oracle that the role exists and can log in)
    with psycopg.connect(
        host="127.0.0.1",
        port=cluster.port(),
        user=role,
        dbname="postgres",
        password=cluster.passwords()[role],
    ) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (role,)


def test_db_url_is_the_app_roles(server: Server) -> None:
    env = {"ONEMAP_DATABASE_URL": "", "ONEMAP_OWNER_DATABASE_URL": ""}
    r = run_cli("db", "url", env=env)
    assert r.returncode == 0, r.stderr
    url = make_url(r.stdout.strip())
    assert url.username == APP and url.password == server.cluster.passwords()[APP]
    assert url.database == server.cluster.db_name


@pytest.fixture
def home() -> Iterator[Path]:
    # Under the project (not /tmp/pytest-of-root, which the unprivileged server cannot enter).
    path = ROOT / ".onemap" / "test-clusters" / uuid.uuid4().hex[:8]
    yield path
    LocalCluster(path, 1, "x").stop()
    shutil.rmtree(path, ignore_errors=True)


def test_set_up_twice_keeps_the_passwords_and_mends_an_old_trusting_cluster(home: Path) -> None:
    cluster = LocalCluster(home, free_port(), "onemap_here")
    cluster.start()
    pwfile = home / "passwords.json"
    assert stat.S_IMODE(pwfile.stat().st_mode) == 0o600
    first = pwfile.read_text()
    cluster.start()  # again (a second `make setup`): nothing changes, all still works
    LocalCluster(home, 1, "onemap_here").start()
    assert pwfile.read_text() == first
    for role in ROLES:
        with psycopg.connect(libpq_url(cluster.url("onemap_here", role))) as conn:
            assert conn.execute("SELECT current_user").fetchone() == (role,)
    # A cluster made before the roles: trusting everyone, no passwords file, tables owned by
    # the superuser. The next start gives it passwords and roles and hands its tables over.
    with cluster._superuser("onemap_here") as conn:
        conn.execute("CREATE TABLE old_cases (id serial PRIMARY KEY)")
    (cluster.datadir / "pg_hba.conf").write_text(
        "local all all trust\nhost all all 127.0.0.1/32 trust\n"
    )
    cluster._run([str(pg_bindir() / "pg_ctl"), "reload", "-D", str(cluster.datadir)])
    pwfile.unlink()
    with psycopg.connect(host="127.0.0.1", port=cluster.port(), user=SUPERUSER, dbname="postgres"):
        pass  # trusted, as it was
    cluster.start()
    assert pwfile.read_text() != first and stat.S_IMODE(pwfile.stat().st_mode) == 0o600
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(
            host="127.0.0.1",
            port=cluster.port(),
            user=SUPERUSER,
            dbname="postgres",
            passfile="/dev/null",
        )
    with cluster._superuser("onemap_here") as conn:
        assert conn.execute(
            "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'old_cases'"
        ).fetchone() == (OWNER,)
        assert conn.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'onemap_here'"
        ).fetchone() == (OWNER,)


def test_ownership_and_grants_survive_a_backup_and_restore(demo_db: Engine, tmp_path: Path) -> None:
    dump = tmp_path / "onemap.dump"
    assert run_cli("backup", str(dump), engine=demo_db).returncode == 0
    owner = as_owner(demo_db)
    try:
        with owner.begin() as conn:  # something to undo, and stray grants the restore drops
            conn.execute(sa.text("UPDATE cases SET title = 'changed'"))
            conn.execute(sa.text(f"GRANT DELETE ON case_history TO {APP}"))
    finally:
        owner.dispose()
    r = run_cli("restore", str(dump), "--yes", engine=demo_db)
    assert r.returncode == 0, r.stderr
    test_the_roles_hold_what_they_should(demo_db)
    with demo_db.connect() as conn:
        assert (
            conn.execute(sa.text("SELECT count(*) FROM cases WHERE title = 'changed'")).scalar()
            == 0
        )
    test_the_app_role_is_refused(demo_db, "DELETE FROM case_history")
