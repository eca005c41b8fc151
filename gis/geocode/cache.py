"""The gazetteer index kept per database, rebuilt when the gazetteer or the plan changes:
`gazetteer_index` checks both versions on a connection, `current_index` at most once a second."""

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


def fresh_index(engine: Engine, max_age_s: float = 1.0) -> GazetteerIndex | None:
    """The cached index when it was checked within max_age_s, else None (never touches the
    database: the caller checks it off the event loop)."""
    key = str(engine.url)
    cached = _cache.get(key)
    if cached is not None and time.monotonic() - _checked.get(key, 0.0) < max_age_s:
        return cached
    return None
