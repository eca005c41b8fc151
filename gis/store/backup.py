"""Backups of the store: `backup` writes the database in force to a pg_dump custom-format
archive (written beside and renamed, so a killed backup leaves no half file); `restore` checks
an archive and replaces the database's contents with it in one transaction (all or nothing)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from gis.errors import BackupFailed, InvalidInput
from gis.store.cluster import pg_bindir


def _libpq(url: str) -> str:
    """A libpq connection URL (pg_dump's) from an SQLAlchemy one."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


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


def restore(url: str, path: str | Path) -> None:
    """Replace the contents of the database at `url` with the archive at `path`, in one
    transaction: on any error the database is as it was."""
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
    _run(
        [str(pg_bindir() / "pg_restore"), "--clean", "--if-exists", "--single-transaction",
         "--exit-on-error", "--no-owner", "--no-privileges", f"--dbname={_libpq(url)}",
         str(path)],
        "pg_restore",
    )  # fmt: skip
