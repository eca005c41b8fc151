"""Typed dependencies shared by the routers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import Depends
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.engine import Connection, Engine

from gis.store.db import get_engine


async def engine() -> Engine:
    """The engine of the database in force (async: no thread hop for a cached lookup)."""
    return get_engine()


EngineDep = Annotated[Engine, Depends(engine)]


T = TypeVar("T")


async def in_tx(engine: Engine, fn: Callable[[Connection], T]) -> T:
    """fn(connection) in one transaction, in a worker thread (off the event loop)."""

    def run() -> T:
        with engine.begin() as conn:
            return fn(conn)

    return await run_in_threadpool(run)
