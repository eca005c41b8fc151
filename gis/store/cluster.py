"""The project-local PostgreSQL + PostGIS cluster kept under .onemap/ (start, stop, status),
with password-only sign-in and its three roles (gis/store/roles.py)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from gis.errors import ClusterError
from gis.store import roles
from gis.store.roles import APP, OWNER, SUPERUSER
from gis.store.settings import Settings

UNPRIVILEGED = "postgres"


# Chinese text needs a UTF-8 encoding and ctype (normalize(), regular expressions, sorting);
# a database is made so whatever the cluster's default (a copy keeps its template's).
UTF8 = sql.SQL(" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'")


def pg_bindir() -> Path:
    """The directory of initdb/pg_ctl: the newest /usr/lib/postgresql/N/bin, else PATH."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if candidates:
        return Path(candidates[-1])
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    raise ClusterError(
        "PostgreSQL is not installed (no pg_ctl found). On Debian/Ubuntu run "
        "`apt-get install postgresql postgresql-15-postgis-3`, or `make demo` which does it."
    )


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.3)
        return s.connect_ex((host, port)) == 0


@dataclass
class LocalCluster:
    """A PostgreSQL cluster in `home`, run as an unprivileged user, on a remembered port."""

    home: Path
    preferred_port: int
    db_name: str

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalCluster:
        return cls(Path(settings.home), settings.db_port, settings.db_name)

    # --- paths -------------------------------------------------------------------------
    @property
    def datadir(self) -> Path:
        return self.home / "pgdata"

    @property
    def sockdir(self) -> Path:
        return self.home / "run"

    @property
    def logfile(self) -> Path:
        return self.home / "log" / "postgres.log"

    @property
    def portfile(self) -> Path:
        return self.home / "port"

    @property
    def passwordfile(self) -> Path:
        return self.home / "passwords.json"

    # --- running commands as the right user -------------------------------------------
    def _as_owner(self, argv: list[str]) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", UNPRIVILEGED, "--", *argv]
        return argv

    def _run(self, argv: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(self._as_owner(argv), capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise ClusterError(
                f"`{' '.join(argv)}` failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}"
                f"\nSee {self.logfile} for the server's log."
            )
        return proc

    def _own(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self._own_file(path)

    def _own_file(self, path: Path) -> None:
        if os.geteuid() == 0:
            pw = pwd.getpwnam(UNPRIVILEGED)
            os.chown(path, pw.pw_uid, pw.pw_gid)

    # --- state -------------------------------------------------------------------------
    def initialised(self) -> bool:
        return (self.datadir / "PG_VERSION").exists()

    def running_port(self) -> int | None:
        """The port of our running server, or None when it is not running."""
        if not self.initialised():
            return None
        proc = self._run(
            [str(pg_bindir() / "pg_ctl"), "status", "-D", str(self.datadir)], check=False
        )
        if proc.returncode != 0:
            return None
        pid_lines = (self.datadir / "postmaster.pid").read_text().splitlines()
        return int(pid_lines[3]) if len(pid_lines) > 3 else None

    def port(self) -> int:
        """The running port, else the remembered one, else the preferred one."""
        running = self.running_port()
        if running:
            return running
        if self.portfile.exists():
            return int(self.portfile.read_text().strip())
        return self.preferred_port

    def passwords(self) -> dict[str, str]:
        """Each role's password (made at the first start, kept in .onemap/passwords.json)."""
        return roles.load_passwords(self.passwordfile, create=not self.initialised())

    def url(self, db_name: str | None = None, role: str = APP) -> str:
        """The URL of `db_name` signed in as `role`: by default the app role's."""
        password = self.passwords()[role]
        return (
            f"postgresql+psycopg://{role}:{password}@127.0.0.1:{self.port()}/"
            f"{db_name or self.db_name}"
        )

    def owner_url(self, db_name: str | None = None) -> str:
        return self.url(db_name, OWNER)

    def _superuser(self, dbname: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port(),
            user=SUPERUSER,
            password=self.passwords()[SUPERUSER],
            dbname=dbname,
            autocommit=True,
        )

    # --- actions -----------------------------------------------------------------------
    def init(self) -> None:
        """Create the cluster's data directory (once)."""
        if self.initialised():
            return
        self.home.mkdir(parents=True, exist_ok=True)
        for d in (self.datadir, self.sockdir, self.logfile.parent):
            self._own(d)
        superuser_password = roles.load_passwords(self.passwordfile, create=True)[SUPERUSER]
        pwfile = self.sockdir / "initdb-password"  # readable by the server's user, then gone
        with os.fdopen(os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(superuser_password + "\n")
        self._own_file(pwfile)
        try:
            self._run(
                [
                    str(pg_bindir() / "initdb"),
                    "-D",
                    str(self.datadir),
                    "-U",
                    SUPERUSER,
                    "--auth=scram-sha-256",
                    f"--pwfile={pwfile}",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                    "--no-instructions",
                ]
            )
        finally:
            pwfile.unlink(missing_ok=True)
        conf = self.datadir / "postgresql.conf"
        with conf.open("a") as f:
            f.write(
                "\n# OneMap local cluster\nlisten_addresses = '127.0.0.1'\n"
                "max_connections = 200\nshared_buffers = 1GB\nwork_mem = 64MB\n"
                "maintenance_work_mem = 1GB\nsynchronous_commit = off\n"
                "max_wal_size = 4GB\ncheckpoint_timeout = 15min\njit = off\n"
            )

    def _choose_port(self) -> int:
        port = self.port()
        while port_in_use(port):
            port += 1
            if port > 65000:
                raise ClusterError("no free TCP port found for the local PostgreSQL cluster")
        self.portfile.write_text(f"{port}\n")
        return port

    def start(self) -> int:
        """Start the cluster if it is not running; return its port. Idempotent."""
        self.init()
        running = self.running_port()
        if running:
            self.portfile.write_text(f"{running}\n")
            self.secure()
            self.ensure_database(self.db_name)
            return running
        port = self._choose_port()
        self._run(
            [
                str(pg_bindir() / "pg_ctl"),
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                str(self.datadir),
                "-l",
                str(self.logfile),
                "-o",
                f"-p {port} -k {self.sockdir}",
            ]
        )
        self.secure()
        self.ensure_database(self.db_name)
        return port

    def secure(self) -> None:
        """Every role with its password, and pg_hba.conf asking everyone for one (scram-sha-256,
        no trust): also turns a cluster made before the roles (trusting everyone) into one that
        does not. Idempotent."""
        hba = self.datadir / "pg_hba.conf"
        # a cluster that still trusts everyone may be given its passwords now
        roles.load_passwords(self.passwordfile, create=roles.trusts(hba.read_text()))
        with self._superuser() as conn:
            roles.provision(conn, self.passwords())
            if hba.read_text() != roles.PG_HBA:
                hba.write_text(roles.PG_HBA)
                self._own_file(hba)
                conn.execute("SELECT pg_reload_conf()")

    def stop(self) -> bool:
        """Stop the cluster; False when it was not running."""
        if self.running_port() is None:
            return False
        self._run(
            [str(pg_bindir() / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(self.datadir)]
        )
        return True

    def ensure_database(self, name: str) -> None:
        """Database `name` on the local cluster, owned by the owner role, with PostGIS (which
        only a superuser may create); made once, adopted if it predates the roles."""
        with self._superuser() as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if not exists:
                conn.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {}{}").format(
                        sql.Identifier(name), sql.Identifier(OWNER), UTF8
                    )
                )
        with self._superuser(name) as conn:
            roles.adopt(conn, name)

    def create_database(self, name: str, template: str | None = None) -> None:
        """A new database `name` (dropped first if it exists), owned by the owner role: a copy
        of `template`, or empty with PostGIS."""
        self.drop_database(name)
        with self._superuser() as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}{}").format(
                    sql.Identifier(name),
                    sql.Identifier(OWNER),
                    sql.SQL(" TEMPLATE {}").format(sql.Identifier(template)) if template else UTF8,
                )
            )
        if not template:
            with self._superuser(name) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    def drop_database(self, name: str) -> None:
        with self._superuser() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
