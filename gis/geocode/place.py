"""Placing a case filed by address: the best candidate when it is confident, else nothing,
with the precision and score either way (a dispatcher sees how sure the place is)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Connection

from gis.geocode.answer import CONFIDENT, check_text, geocode
from gis.geocode.cache import gazetteer_index


@dataclass(frozen=True)
class Placement:
    """Where an address put a case, or that it could not (lon, lat None)."""

    lon: float | None
    lat: float | None
    precision: str | None
    score: float
    status: str  # ok | ambiguous | outside | not_found
    message: str

    @property
    def located(self) -> bool:
        return self.lon is not None


def place(conn: Connection, address: str, name: str = "address") -> Placement:
    """The placement of `address`: located when the best candidate scores >= CONFIDENT."""
    answer = geocode(gazetteer_index(conn), check_text(address, name))
    found = answer["candidates"]
    if not found:
        return Placement(None, None, None, 0.0, answer["status"], answer.get("message", ""))
    best = found[0]
    if best["score"] < CONFIDENT:
        return Placement(
            None,
            None,
            best["precision"],
            best["score"],
            answer["status"],
            f"not placed: the best match {best['address']} scores {best['score']} "
            f"(below {CONFIDENT}); a person must place it",
        )
    return Placement(
        best["lon"], best["lat"], best["precision"], best["score"], answer["status"], ""
    )
