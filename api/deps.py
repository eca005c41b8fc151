"""Typed dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from sqlalchemy.engine import Engine

from gis.db import get_engine


async def engine() -> Engine:
    """The engine of the database in force (async: no thread hop for a cached lookup)."""
    return get_engine()


EngineDep = Annotated[Engine, Depends(engine)]
