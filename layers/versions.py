"""Data versions: what changed since a rendering was cached.

Every table's version lives in layer_versions, bumped by a statement trigger in the same
transaction as any change to the table (migration 0003). A cached rendering is keyed by the
versions of the tables it read, so an edit is seen by the next request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

T = TypeVar("T")
_memo: dict[tuple[Any, ...], Any] = {}
_lock = threading.Lock()
MAX_MEMO = 1024
_last: dict[str, dict[str, int]] = {}


def versions(conn: Connection) -> dict[str, int]:
    """Every table's version (one indexed read of a seven-row table)."""
    rows = conn.execute(sa.text("SELECT tbl, version FROM layer_versions"))
    found = _last[str(conn.engine.url)] = {tbl: int(v) for tbl, v in rows}
    return found


def last_versions(url: str) -> dict[str, int] | None:
    """The versions this process last read from the database at `url` (None: never): what a
    cache may still serve under while that database does not answer."""
    return _last.get(url)


def memo(conn: Connection, what: str, tables: tuple[str, ...], compute: Callable[[], T]) -> T:
    """`compute()`, remembered until one of `tables` changes (per database)."""
    current = versions(conn)
    key = (str(conn.engine.url), what, tuple(current.get(t, 0) for t in tables))
    with _lock:
        if key in _memo:
            return _memo[key]  # type: ignore[no-any-return]
    value = compute()
    with _lock:
        if len(_memo) >= MAX_MEMO:
            _memo.clear()
        _memo[key] = value
    return value
