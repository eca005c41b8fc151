"""Killed jobs: an import of 300,000 cases, a plan change and an export, each SIGKILLed while
it writes, leave the database (and the destination) as before, hold no lock, leave no
temporary table, and the next run works. Oracles: direct SQL counts and pg_locks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.helpers import ROOT, run_cli, url_of

APP = "onemap-killed-job"  # the killed job's application_name, to find its backend
BOUNDARIES = ROOT / "data" / "boundaries"
ROWS = 300_000


def _start(engine: Engine, log: Path, *args: str) -> subprocess.Popen[bytes]:
    """`onemap ARGS` in the background, its backend named APP."""
    env = {**os.environ, "ONEMAP_DATABASE_URL": url_of(engine), "PGAPPNAME": APP}
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "api.cli", *args], cwd=ROOT, env=env, stdout=out, stderr=out
        )


def _kill_while_writing(proc: subprocess.Popen[bytes], engine: Engine, ready: str) -> None:
    """SIGKILL `proc` as soon as SQL `ready` (about its backend) is true; fail if it ended first."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        deadline = time.monotonic() + 300
        while not conn.execute(sa.text(ready), {"app": APP}).scalar():
            assert proc.poll() is None, f"the job ended ({proc.returncode}) before it was killed"
            assert time.monotonic() < deadline, "the job never started writing"
            time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(30) == -signal.SIGKILL  # killed, not finished


# Its transaction has written: PostgreSQL gave it a transaction id.
WRITING = (
    "SELECT bool_or(backend_xid IS NOT NULL) FROM pg_stat_activity WHERE application_name = :app"
)
# Its COPY has put rows into cases (uncommitted).
COPYING = (
    "SELECT bool_or(p.tuples_processed > 0) FROM pg_stat_activity a "
    "JOIN pg_stat_progress_copy p USING (pid) "
    "WHERE a.application_name = :app AND p.relid = 'cases'::regclass"
)
# What a killed job could leave behind in this database: its backend, locks on tables,
# advisory locks, temporary tables, prepared transactions.
LEFT_OVER = {
    "backend": "SELECT count(*) FROM pg_stat_activity WHERE application_name = :app",
    "locks": "SELECT count(*) FROM pg_locks WHERE pid <> pg_backend_pid() AND database = "
    "(SELECT oid FROM pg_database WHERE datname = current_database())",
    "temp tables": "SELECT count(*) FROM pg_class WHERE relpersistence = 't'",
    "prepared": "SELECT count(*) FROM pg_prepared_xacts",
}


def _left_over(engine: Engine) -> dict[str, int]:
    """What is left of the killed job once its backend has noticed (within 15 s)."""
    deadline = time.monotonic() + 15
    while True:
        with engine.connect() as conn:
            found = {k: conn.execute(sa.text(q), {"app": APP}).scalar_one() for k, q in LEFT_OVER.items()}  # fmt: skip
        if not any(found.values()) or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def _counts(engine: Engine) -> dict[str, int]:
    queries = {
        "cases": "SELECT count(*) FROM cases",
        "history": "SELECT count(*) FROM case_history",
        "grids": "SELECT count(*) FROM grids",
        "current grids": "SELECT count(*) FROM grids WHERE valid_to IS NULL",
        "units": "SELECT count(*) FROM units",
        "current units": "SELECT count(*) FROM units WHERE valid_to IS NULL",
    }
    with engine.connect() as conn:
        return {k: conn.execute(sa.text(q)).scalar_one() for k, q in queries.items()}


def _cases_csv(engine: Engine, path: Path, n: int, tag: str) -> None:
    """n cases at random points inside the current grids' extent."""
    with engine.connect() as conn:
        x0, y0, x1, y1 = conn.execute(
            sa.text(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                "(SELECT ST_Extent(geom) e FROM grids WHERE valid_to IS NULL) s"
            )
        ).one()
    rng = np.random.default_rng(7)
    lon, lat = rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)
    rows = "".join(f"noise,{tag} {i},2026-05-01 08:30,{x:.6f},{y:.6f}\n" for i, (x, y) in enumerate(zip(lon, lat, strict=True)))  # fmt: skip
    path.write_text("category,title,reported_at,lon,lat\n" + rows, encoding="utf-8")


def test_a_killed_import_of_300000_cases_changes_nothing(demo_db: Engine, tmp_path: Path) -> None:
    big, small = tmp_path / "big.csv", tmp_path / "small.csv"
    _cases_csv(demo_db, big, ROWS, "killed")
    _cases_csv(demo_db, small, 100, "after")
    before = _counts(demo_db)
    proc = _start(demo_db, tmp_path / "import.log", "import", "cases", str(big))
    _kill_while_writing(proc, demo_db, COPYING)  # rows are in cases, not committed
    assert _left_over(demo_db) == dict.fromkeys(LEFT_OVER, 0)
    assert _counts(demo_db) == before

    done = run_cli("import", "cases", str(small), engine=demo_db)
    assert done.returncode == 0, done.stderr
    with demo_db.connect() as conn:
        titles = conn.execute(sa.text("SELECT count(*) FROM cases WHERE title LIKE 'after %'"))
        assert titles.scalar_one() == 100
        assert conn.execute(sa.text("SELECT count(*) FROM cases WHERE title LIKE 'killed %'")).scalar_one() == 0  # fmt: skip
    assert _counts(demo_db)["cases"] == before["cases"] + 100


def test_a_killed_plan_change_changes_nothing(demo_db: Engine, tmp_path: Path) -> None:
    grids, units = str(BOUNDARIES / "grids.geojson"), str(BOUNDARIES / "units.geojson")
    before = _counts(demo_db)
    proc = _start(demo_db, tmp_path / "plan.log", "new-plan", grids, units)
    _kill_while_writing(proc, demo_db, WRITING)  # the current plan is being closed
    assert _left_over(demo_db) == dict.fromkeys(LEFT_OVER, 0)
    assert _counts(demo_db) == before

    done = run_cli("new-plan", grids, units, engine=demo_db)
    assert done.returncode == 0, done.stderr
    after = _counts(demo_db)
    assert after["current grids"] == before["current grids"]
    assert after["grids"] == before["grids"] + before["current grids"]
    assert after["units"] == before["units"] + before["current units"]


def test_a_killed_export_leaves_no_file(demo_db: Engine, tmp_path: Path) -> None:
    dest = tmp_path / "out" / "units.geojson"
    proc = _start(demo_db, tmp_path / "export.log", "export", "units", str(dest))
    partial = dest.parent / f".{dest.name}.partial" / dest.name
    deadline = time.monotonic() + 300
    while not partial.exists():  # it is writing
        assert proc.poll() is None, f"the export ended ({proc.returncode}) before it was killed"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(30) == -signal.SIGKILL
    assert sorted(p.name for p in dest.parent.iterdir() if not p.name.startswith(".")) == []

    done = run_cli("export", "units", str(dest), engine=demo_db)
    assert done.returncode == 0, done.stderr
    with demo_db.connect() as conn:
        current = conn.execute(sa.text("SELECT count(*) FROM units WHERE valid_to IS NULL"))
        assert len(json.loads(dest.read_text())["features"]) == current.scalar_one()
    assert [p.name for p in dest.parent.iterdir()] == [dest.name]  # the folder beside is gone
