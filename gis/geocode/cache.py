"""The gazetteer index kept per database, rebuilt when the gazetteer or the plan changes:
`gazetteer_index` checks both versions on a connection, `current_index` at most once a second,
and a server re-checks the index it holds in the background (`refresh_held`), so a request
never waits on the database for it."""

from __future__ import annotations

from sqlalchemy.engine import Connection, Engine

from gis.geocode.index import VERSION_SQL, GazetteerIndex
from gis.owners.cache import owner_index
from gis.store.kept import Kept

_kept: Kept[GazetteerIndex] = Kept()


def gazetteer_index(conn: Connection) -> GazetteerIndex:
    """The index of the gazetteer and the current plan, rebuilt when either has changed."""
    plan = owner_index(conn)
    version = f"{conn.execute(VERSION_SQL).scalar_one()}|{plan.version}"
    return _kept.get(conn, version, lambda: GazetteerIndex(conn, plan))


def current_index(engine: Engine, max_age_s: float = 1.0) -> GazetteerIndex:
    """The index, checked against the database at most every max_age_s (the HTTP hot path)."""
    return _kept.current(engine, gazetteer_index, max_age_s)


def held_index(engine: Engine) -> GazetteerIndex | None:
    """The index last built for this database, however old (never touches the database)."""
    return _kept.held(engine)


def refresh_held(engine: Engine) -> None:
    """Re-check an index that was built (by the server's background task, once a second); a
    server that never geocoded builds none."""
    if held_index(engine) is not None:
        current_index(engine, 0.0)
