"""Backups of the store: `backup` writes the database in force to a pg_dump custom-format
archive (written beside and renamed, so a killed backup leaves no half file); `restore` checks
an archive and replaces the database's contents with it in one transaction (all or nothing)."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

import psycopg
from psycopg import sql

from gis.errors import BackupFailed, InvalidInput
from gis.store.cluster import pg_bindir
from gis.store.db import libpq_url as _libpq
from gis.store.migrate import grant

EXTENSION = re.compile(r"^\d+; \d+ \d+ EXTENSION - (\S+)", re.M)  # a pg_restore --list entry
SUPERUSER_EXTENSIONS = {"postgis", "plpgsql"}  # in place already: the cluster made them


def _run(argv: list[str], what: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        # pg_dump's messages name objects and files, never row values
        raise BackupFailed(f"{what} failed: {done.stderr.strip()[-500:]}")
    return done


def backup(url: str, path: str | Path) -> int:
    """Write the database at `url` to `path` (pg_dump custom format); its size in bytes."""
    path = Path(path)
    if path.is_dir():
        raise InvalidInput(f"{path} is a directory: give a file name, e.g. onemap.dump")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    try:
        _run(
            [str(pg_bindir() / "pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
             f"--file={partial}", f"--dbname={_libpq(url)}"],
            "pg_dump",
        )  # fmt: skip
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path.stat().st_size


def restore(url: str, path: str | Path, app_role: str | None = None) -> None:
    """Replace the contents of the database at `url` (signed in as its owner) with the archive
    at `path`, in one transaction: on any error the database is as it was. The restored tables
    are the owner's; `app_role` is given its privileges again (the archive holds none)."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"no backup file {path}: give the file `onemap backup` wrote")
    listed = subprocess.run(
        [str(pg_bindir() / "pg_restore"), "--list", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if listed.returncode != 0 or "TABLE DATA public cases" not in listed.stdout:
        raise InvalidInput(
            f"{path} is not a OneMap backup (a pg_dump custom archive holding the cases "
            "table): make one with `onemap backup FILE`"
        )
    # PostGIS and its spatial_ref_sys stay as they are (only a superuser may change them;
    # OneMap adds no reference systems): everything else is restored, owned by the role
    # signed in (the owner), with no privileges from the archive.
    entries = [
        line
        for line in listed.stdout.splitlines()
        if " EXTENSION " not in line and " spatial_ref_sys " not in line
    ]
    # The archive's other extensions (pg_trgm, for the queue's text index: trusted, so the
    # owner may create it) must exist before the objects that use them, in a fresh database too.
    for name in sorted(set(EXTENSION.findall(listed.stdout)) - SUPERUSER_EXTENSIONS):
        with psycopg.connect(_libpq(url), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(name)))
    with tempfile.NamedTemporaryFile("w", suffix=".list") as use_list:
        use_list.write("\n".join(entries) + "\n")
        use_list.flush()
        _run(
            [str(pg_bindir() / "pg_restore"), "--clean", "--if-exists", "--single-transaction",
             "--exit-on-error", "--no-owner", "--no-privileges", f"--use-list={use_list.name}",
             f"--dbname={_libpq(url)}", str(path)],
            "pg_restore",
        )  # fmt: skip
    grant(url, app_role)
