"""The database roles: who owns the schema, what the application may do (per table), and the
local cluster's passwords and pg_hba.conf (scram-sha-256 for everyone, nothing trusted)."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from gis.errors import ClusterError

SUPERUSER = "onemap"  # the local cluster's bootstrap superuser: creates roles, databases, PostGIS
OWNER = "onemap_owner"  # owns the database, its schema and every table; runs the migrations
APP = "onemap_app"  # the server and the everyday commands: rows only, never the schema
ROLES = (SUPERUSER, OWNER, APP)

# What the app role may do, table by table (every table the owner holds must be listed: a new
# table is granted deliberately or migrate stops). Reads everywhere; writes where a command
# writes; case_history is append-only by privilege: no UPDATE, no DELETE, no TRUNCATE. Imports
# lock their table in SHARE ROW EXCLUSIVE mode, which PostgreSQL allows only with UPDATE.
# The case counts and layer versions are kept by SECURITY DEFINER triggers (migration 0008):
# the app only reads them.
APP_PRIVILEGES: dict[str, tuple[str, ...]] = {
    "alembic_version": ("SELECT",),
    "regions": ("SELECT", "INSERT", "UPDATE"),
    "grids": ("SELECT", "INSERT", "UPDATE"),
    "units": ("SELECT", "INSERT", "UPDATE"),
    "cases": ("SELECT", "INSERT", "UPDATE"),
    "hotspots": ("SELECT", "INSERT", "UPDATE"),
    "parcels": ("SELECT", "INSERT", "UPDATE"),
    "stations": ("SELECT", "INSERT", "UPDATE"),
    "parcel_shares": ("SELECT", "INSERT", "DELETE"),  # derived from parcels, recomputed
    "case_history": ("SELECT", "INSERT"),
    "case_categories": ("SELECT", "UPDATE"),
    "users": ("SELECT", "INSERT", "UPDATE"),
    "layer_versions": ("SELECT",),
    "grid_case_counts": ("SELECT",),
    "village_case_counts": ("SELECT",),
    # Analyses the app recomputes (migration 0010): each publish or refresh replaces its rows.
    "grid_hotspots": ("SELECT", "INSERT", "DELETE"),
    "area_coverage": ("SELECT", "INSERT", "DELETE"),
    "grid_coverage": ("SELECT",),  # a view over area_coverage
    "gazetteer": ("SELECT", "INSERT", "UPDATE"),  # imported like a layer (migration 0012)
}

PG_HBA = """\
# OneMap local cluster: every role signs in with a scram-sha-256 password; nothing is trusted.
# (Written by gis/store/roles.py at each `onemap db start`; edits here are overwritten.)
local   all             all                     scram-sha-256
host    all             all     127.0.0.1/32    scram-sha-256
host    all             all     ::1/128         scram-sha-256
local   replication     all                     scram-sha-256
host    replication     all     127.0.0.1/32    scram-sha-256
"""


def trusts(hba: str) -> bool:
    """True when a pg_hba.conf text lets anyone in without a password."""
    lines = [line.split("#")[0].split() for line in hba.splitlines()]
    return any("trust" in words for words in lines)


def role_of(url: str) -> str | None:
    """The user name in a database URL."""
    return make_url(url).username


def with_role(url: str, role: str, password: str | None) -> str:
    """`url` signed in as `role` instead."""
    u = make_url(url).set(username=role, password=password)
    return u.render_as_string(hide_password=False)


def load_passwords(path: Path, create: bool) -> dict[str, str]:
    """The local cluster's role passwords from `path` (mode 0600), generated once when
    `create` and the file is missing."""
    if path.exists():
        stored = json.loads(path.read_text())
        if set(ROLES) <= set(stored):
            return {r: str(stored[r]) for r in ROLES}
    if not create:
        raise ClusterError(
            f"{path} (the local cluster's passwords) is missing or incomplete. A cluster made "
            "before the passwords gets them from `onemap db start` (or `make setup`); one that "
            "already asks for them needs the file put back, or `make clean-db db` to start "
            "afresh (which deletes the local data)."
        )
    made = {r: secrets.token_urlsafe(24) for r in ROLES}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_suffix(".partial"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(made, f, indent=1)
    os.replace(path.with_suffix(".partial"), path)
    return made


def provision(conn: psycopg.Connection, passwords: dict[str, str]) -> None:
    """Give every role its password (scram-sha-256) and the owner and app roles exactly the
    attributes they need: log in, nothing else. Idempotent."""
    conn.execute("SET password_encryption = 'scram-sha-256'")
    for role in ROLES:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        verb = "ALTER" if exists else "CREATE"
        attrs = "" if role == SUPERUSER else " NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION"
        conn.execute(
            sql.SQL("{} ROLE {} LOGIN{} PASSWORD {}").format(
                sql.SQL(verb),
                sql.Identifier(role),
                sql.SQL(attrs),
                sql.Literal(passwords[role]),
            )
        )


def adopt(conn: psycopg.Connection, database: str) -> None:
    """Make OWNER the owner of `database` and of every object in its public schema that is not
    PostGIS's (a cluster made before the roles had them all owned by the superuser)."""
    conn.execute(
        sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
            sql.Identifier(database), sql.Identifier(OWNER)
        )
    )
    conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    tables = conn.execute(
        "SELECT o.oid::regclass::text FROM pg_class o "
        "WHERE o.relnamespace = 'public'::regnamespace AND o.relkind IN ('r', 'p', 'v', 'm') "
        "AND pg_get_userbyid(o.relowner) <> %s "
        "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass "
        "AND d.objid = o.oid AND d.deptype = 'e')",
        (OWNER,),
    ).fetchall()
    for (name,) in tables:  # a table's own sequences follow it
        conn.execute(
            sql.SQL("ALTER TABLE {} OWNER TO {}").format(sql.SQL(name), sql.Identifier(OWNER))
        )
    functions = conn.execute(
        "SELECT o.oid::regprocedure::text FROM pg_proc o "
        "WHERE o.pronamespace = 'public'::regnamespace "
        "AND pg_get_userbyid(o.proowner) <> %s "
        "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass "
        "AND d.objid = o.oid AND d.deptype = 'e')",
        (OWNER,),
    ).fetchall()
    for (name,) in functions:
        conn.execute(
            sql.SQL("ALTER FUNCTION {} OWNER TO {}").format(sql.SQL(name), sql.Identifier(OWNER))
        )


def grant_app(conn: psycopg.Connection, app: str) -> None:
    """Give role `app` exactly APP_PRIVILEGES on the tables the connected (owner) role holds,
    and nothing else: no CREATE on the schema, no other table, sequences for its inserts only.
    Idempotent: run after every migration."""
    owned = [
        r[0]
        for r in conn.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
            "AND relkind IN ('r', 'p', 'v', 'm') AND relowner = current_user::regrole"
        )
    ]
    unlisted = sorted(set(owned) - set(APP_PRIVILEGES))
    if unlisted:
        raise ClusterError(
            f"tables {', '.join(unlisted)} have no entry in APP_PRIVILEGES "
            "(gis/store/roles.py): say what the app role may do with them"
        )
    role = sql.Identifier(app)
    conn.execute(sql.SQL("REVOKE CREATE ON SCHEMA public FROM PUBLIC, {}").format(role))
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role))
    for table in owned:
        t = sql.Identifier(table)
        conn.execute(sql.SQL("REVOKE ALL ON {} FROM PUBLIC, {}").format(t, role))
        privileges = sql.SQL(", ").join(sql.SQL(p) for p in APP_PRIVILEGES[table])
        conn.execute(sql.SQL("GRANT {} ON {} TO {}").format(privileges, t, role))
    sequences = conn.execute(
        "SELECT s.oid::regclass::text, t.relname FROM pg_class s "
        "JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i') "
        "JOIN pg_class t ON t.oid = d.refobjid "
        "WHERE s.relkind = 'S' AND s.relnamespace = 'public'::regnamespace "
        "AND s.relowner = current_user::regrole"
    ).fetchall()
    for seq, table in sequences:
        s = sql.SQL(seq)
        conn.execute(sql.SQL("REVOKE ALL ON SEQUENCE {} FROM PUBLIC, {}").format(s, role))
        if "INSERT" in APP_PRIVILEGES.get(table, ()):
            conn.execute(sql.SQL("GRANT USAGE ON SEQUENCE {} TO {}").format(s, role))
