"""The owner index of the current plan, kept per database and rebuilt when the plan changes:
`owner_index` checks the plan's version on a connection, `plan_index` at most once a second."""

from __future__ import annotations

from sqlalchemy.engine import Connection, Engine

from gis.owners.index import VERSION_SQL, OwnerIndex
from gis.store.kept import Kept

_kept: Kept[OwnerIndex] = Kept()


def owner_index(conn: Connection) -> OwnerIndex:
    """The index of the current plan, rebuilt when the plan has changed since it was built."""
    version = str(conn.execute(VERSION_SQL).scalar_one())
    return _kept.get(conn, version, lambda: OwnerIndex(conn))


def plan_index(engine: Engine, max_age_s: float = 1.0) -> OwnerIndex:
    """The index of the current plan, checked against the database at most every max_age_s.

    For the HTTP single locate: a request costs no database round trip, and a new plan is
    seen within a second.
    """
    return _kept.current(engine, owner_index, max_age_s)


def cached_plan_index(engine: Engine) -> OwnerIndex | None:
    """The index last built for this database, however old (never touches the database)."""
    return _kept.held(engine)
