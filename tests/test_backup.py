"""Backup and restore round trip: back up, change the data, restore, and find it as it was
(row counts and a digest of every case and history row, by direct SQL)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.helpers import as_owner, run_cli

DIGEST = {
    "cases": "SELECT count(*) || ':' || md5(string_agg(id || status || version || title || "
    "ST_AsText(geom), ',' ORDER BY id)) FROM cases",
    "history": "SELECT count(*) || ':' || md5(string_agg(id || action || to_status, ',' "
    "ORDER BY id)) FROM case_history",
    "grids": "SELECT count(*) || ':' || md5(string_agg(code || ST_AsText(geom), ',' "
    "ORDER BY code)) FROM grids",
    "users": "SELECT count(*)::text FROM users",
}


def _digest(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return {k: str(conn.execute(sa.text(q)).scalar_one()) for k, q in DIGEST.items()}


def test_backup_change_restore_round_trip(demo_db: Engine, tmp_path: Path) -> None:
    before = _digest(demo_db)
    dump = tmp_path / "onemap.dump"
    r = run_cli("backup", str(dump), engine=demo_db)
    assert r.returncode == 0, r.stderr
    assert dump.stat().st_size > 100_000 and not list(tmp_path.glob(".*partial"))
    owner = as_owner(demo_db)  # change things, some beyond the app role
    with owner.begin() as conn:
        conn.execute(sa.text("UPDATE cases SET title = 'changed' WHERE id % 7 = 0"))
        conn.execute(sa.text("DELETE FROM grid_case_counts"))
        conn.execute(
            sa.text("INSERT INTO users (name, role, token_hash) VALUES ('x', 'analyst', 'h')")
        )
    owner.dispose()
    assert _digest(demo_db) != before
    r = run_cli("restore", str(dump), engine=demo_db)  # without --yes: asks, and stdin says no
    assert r.returncode != 0 and _digest(demo_db) != before
    r = run_cli("restore", str(dump), "--yes", engine=demo_db)
    assert r.returncode == 0, r.stderr
    assert _digest(demo_db) == before
    with demo_db.connect() as conn:  # the restored store still works: PostGIS, triggers, counts
        assert conn.execute(sa.text("SELECT sum(n) FROM grid_case_counts")).scalar_one() == (
            conn.execute(
                sa.text("SELECT count(*) FROM cases WHERE grid_id IS NOT NULL")
            ).scalar_one()
        )


def test_restore_refuses_what_is_not_a_backup(demo_db: Engine, tmp_path: Path) -> None:
    before = _digest(demo_db)
    junk = tmp_path / "junk.dump"
    junk.write_bytes(b"PGDMP not really")
    r = run_cli("restore", str(junk), "--yes", engine=demo_db)
    assert r.returncode == 2 and "not a OneMap backup" in r.stderr
    r = run_cli("restore", str(tmp_path / "missing.dump"), "--yes", engine=demo_db)
    assert r.returncode == 2 and "no backup file" in r.stderr
    assert _digest(demo_db) == before
