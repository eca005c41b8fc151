"""The owner index of the current plan, kept per database and rebuilt when the plan changes:
`owner_index` checks the plan's version on a connection, `plan_index` at most once a second."""

from __future__ import annotations

import gc
import threading
import time

from sqlalchemy.engine import Connection, Engine

from gis.owners.index import VERSION_SQL, OwnerIndex

_cache: dict[str, OwnerIndex] = {}
_cache_lock = threading.Lock()


def owner_index(conn: Connection) -> OwnerIndex:
    """The index of the current plan, rebuilt when the plan has changed since it was built."""
    key = str(conn.engine.url)
    version = str(conn.execute(VERSION_SQL).scalar_one())
    with _cache_lock:
        cached = _cache.get(key)
        if cached is None or cached.version != version:
            cached = _cache[key] = OwnerIndex(conn)
            # The index is hundreds of thousands of long-lived objects: moved out of the
            # collector's generations, a full collection no longer walks them (those pauses
            # were the p99 of GET /locate under load).
            gc.collect()
            gc.freeze()
        return cached


_checked: dict[str, float] = {}


def plan_index(engine: Engine, max_age_s: float = 1.0) -> OwnerIndex:
    """The index of the current plan, checked against the database at most every max_age_s.

    For the HTTP single locate: a request costs no database round trip, and a new plan is
    seen within a second.
    """
    key = str(engine.url)
    now = time.monotonic()
    cached = _cache.get(key)
    if cached is not None and now - _checked.get(key, 0.0) < max_age_s:
        return cached
    with engine.connect() as conn:
        index = owner_index(conn)
    _checked[key] = now
    return index


def cached_plan_index(engine: Engine) -> OwnerIndex | None:
    """The index last built for this database, however old (never touches the database)."""
    return _cache.get(str(engine.url))
