"""Indexes kept in process per database and rebuilt when their version moves (the plan's owner
index, the gazetteer's): one rule for building, re-checking at most every few seconds, and
reading the last one built without touching the database."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from sqlalchemy.engine import Connection, Engine


class Versioned(Protocol):
    version: str


T = TypeVar("T", bound=Versioned)


class Kept(Generic[T]):
    """One kind of index, kept per database URL."""

    def __init__(self) -> None:
        self._held: dict[str, T] = {}
        self._checked: dict[str, float] = {}
        self._lock = threading.Lock()

    def get(self, conn: Connection, version: str, build: Callable[[], T]) -> T:
        """The index at `version`, built (once, under a lock) when the one held is older."""
        key = str(conn.engine.url)
        with self._lock:
            held = self._held.get(key)
            if held is None or held.version != version:
                held = self._held[key] = build()
                # An index is hundreds of thousands of long-lived objects: moved out of the
                # collector's generations, a full collection no longer walks them (those
                # pauses were the p99 of GET /locate and GET /geocode under load).
                gc.collect()
                gc.freeze()
            return held

    def current(
        self, engine: Engine, fetch: Callable[[Connection], T], max_age_s: float = 1.0
    ) -> T:
        """The index, its version checked against the database (by `fetch`) at most every
        max_age_s: a request on the hot path costs no round trip, and a change is seen soon."""
        key = str(engine.url)
        now = time.monotonic()
        held = self._held.get(key)
        if held is not None and now - self._checked.get(key, 0.0) < max_age_s:
            return held
        with engine.connect() as conn:
            index = fetch(conn)
        self._checked[key] = now
        return index

    def held(self, engine: Engine) -> T | None:
        """The index last built for this database, however old (never touches the database)."""
        return self._held.get(str(engine.url))
