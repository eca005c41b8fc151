"""The gazetteer index kept per database, rebuilt when the gazetteer or the plan changes:
`gazetteer_index` checks both versions on a connection, `current_index` at most once a second,
and a server re-checks the index it holds in the background (`refresh_held`), so a request
never waits on the database for it."""

from __future__ import annotations

import gc
import threading
import time

from sqlalchemy.engine import Connection, Engine

from gis.geocode.index import VERSION_SQL, GazetteerIndex
from gis.owners.cache import owner_index

_cache: dict[str, GazetteerIndex] = {}
_checked: dict[str, float] = {}
_lock = threading.Lock()


def gazetteer_index(conn: Connection) -> GazetteerIndex:
    """The index of the gazetteer and the current plan, rebuilt when either has changed."""
    key = str(conn.engine.url)
    plan = owner_index(conn)
    version = f"{conn.execute(VERSION_SQL).scalar_one()}|{plan.version}"
    with _lock:
        cached = _cache.get(key)
        if cached is None or cached.version != version:
            cached = _cache[key] = GazetteerIndex(conn, plan)
            # long-lived objects out of the collector's generations (as the plan's index):
            # full collections walking them were the p99 of GET /geocode
            gc.collect()
            gc.freeze()
        return cached


def current_index(engine: Engine, max_age_s: float = 1.0) -> GazetteerIndex:
    """The index, checked against the database at most every max_age_s (the HTTP hot path)."""
    key = str(engine.url)
    now = time.monotonic()
    cached = _cache.get(key)
    if cached is not None and now - _checked.get(key, 0.0) < max_age_s:
        return cached
    with engine.connect() as conn:
        index = gazetteer_index(conn)
    _checked[key] = now
    return index


def held_index(engine: Engine) -> GazetteerIndex | None:
    """The index last built for this database, however old (never touches the database)."""
    return _cache.get(str(engine.url))


def refresh_held(engine: Engine) -> None:
    """Re-check an index that was built (by the server's background task, once a second); a
    server that never geocoded builds none."""
    if held_index(engine) is not None:
        current_index(engine, 0.0)
