"""Geocoding answers: a free-text address to ranked candidates, each with its point, owner
chain, the text it matched, a score and a GB/T 37149 precision; outside the jurisdiction said
so; an area over several grids with each grid's share."""

from __future__ import annotations

import math
import re
from typing import Any

from gis.errors import BadParameter
from gis.geocode.index import GazetteerIndex
from gis.geocode.levels import PRECISION
from gis.geocode.match import Candidate, candidates, find_hits, foreign
from gis.geocode.normalise import Modifier, normalise, split_modifier
from gis.owners.levels import LEVELS

MAX_LENGTH = 200
CONFIDENT = 0.6
"""A best candidate at or above this score is taken as placed (case intake, the CSV)."""
EARTH_M_PER_DEG = 111_320.0
_REFUSED = re.compile("[\x00-\x1f\ud800-\udfff]")
_CJK = re.compile("[\u4e00-\u9fff\uf900-\ufaff\u2e80-\u2fdf]")  # ideographs (and NFKC's)


def check_text(raw: object, name: str = "q") -> str:
    """The address as given, or BadParameter naming what is wrong with it."""
    if not isinstance(raw, str):
        raise BadParameter(name, f"give the address as text, not {type(raw).__name__}")
    text = raw.strip()
    if not text:
        raise BadParameter(name, "empty: give an address, e.g. 湖泰镇阳昌村3组12号")
    if len(text) > MAX_LENGTH:
        raise BadParameter(
            name, f"{len(text)} characters: an address has at most {MAX_LENGTH}; send only it"
        )
    if _REFUSED.search(text):
        raise BadParameter(name, "holds control characters or lone surrogates: remove them")
    if not _CJK.search(text):
        raise BadParameter(
            name,
            f"{text[:40]!r} has no Chinese characters to read as an address; write it as "
            "people do, e.g. 湖泰镇阳昌村3组12号",
        )
    return text


def _owner(ix: GazetteerIndex, i: int, lon: float, lat: float, moved: bool) -> dict[str, Any]:
    if moved:
        d = ix.plan.location(lon, lat).as_dict()
        return {level: d[level] for level in LEVELS}
    return ix.owner_of(i)


def _admin_owner(ix: GazetteerIndex, i: int) -> dict[str, Any]:
    """The chain of an area over several grids: its own district, town, village; no grid."""
    out: dict[str, Any] = dict.fromkeys(LEVELS)
    for level, a in ix.admin[i].items():
        code = ix.code[a]
        if level in out and code in ix.plan.regions:
            out[level] = {"code": code, "name": ix.plan.regions[code][0]}
    return out


def _moved(lon: float, lat: float, m: Modifier | None) -> tuple[float, float]:
    if m is None or m.bearing_deg is None or not m.distance_m:
        return lon, lat
    b = math.radians(m.bearing_deg)
    dlat = m.distance_m * math.cos(b) / EARTH_M_PER_DEG
    dlon = m.distance_m * math.sin(b) / (EARTH_M_PER_DEG * math.cos(math.radians(lat)))
    return lon + dlon, lat + dlat


def _candidate(
    ix: GazetteerIndex, c: Candidate, core: str, modifier: Modifier | None
) -> dict[str, Any]:
    i = c.entry
    lon, lat = _moved(float(ix.lon[i]), float(ix.lat[i]), modifier)
    moved = (lon, lat) != (float(ix.lon[i]), float(ix.lat[i]))
    shares = ix.shares(i) if ix.level[i] in ("district", "town", "village", "area") else []
    out: dict[str, Any] = {
        "address": ix.address(i),
        "lon": round(lon, 7),
        "lat": round(lat, 7),
        "precision": PRECISION[ix.level[i]],
        "score": round(c.score, 3),
        "matched": c.matched(core),
        "level": ix.level[i],
        "code": ix.code[i],
        "owner": _admin_owner(ix, i) if len(shares) > 1 else _owner(ix, i, lon, lat, moved),
    }
    if len(shares) > 1:
        out["grids"] = shares
    if modifier is not None:
        out["modifier"] = modifier.as_dict()
    h = c.hit
    if h.entry != h.place:
        until = ix.valid_to[h.entry]
        out["note"] = f"{ix.name[h.entry]}: {h.how} name of {ix.name[h.place]}" + (
            f" (until {until.isoformat()})" if until else ""
        )
    elif h.how in ("fuzzy", "short"):
        out["note"] = f"read {core[h.start : h.end]!r} as {ix.name[h.place]} ({h.how})"
    if c.missing_number:
        out["note"] = (out.get("note", "") + "; " if "note" in out else "") + (
            "a number in the address names no known place: answered at the level above"
        )
    if c.wrong_town:
        out["note"] = (out.get("note", "") + "; " if "note" in out else "") + (
            "not in the town the address gives"
        )
    return out


def geocode(ix: GazetteerIndex, text: str, limit: int = 5) -> dict[str, Any]:
    """Candidates for one address (checked with check_text first), best first: at most
    `limit` of them in full, and `found`, how many there were."""
    norm = normalise(text)
    core, modifier = split_modifier(norm)
    hits = find_hits(ix, core)
    elsewhere = foreign(ix, core, hits)
    if elsewhere:
        return {
            "status": "outside",
            "message": f"{elsewhere} is outside this city's jurisdiction: OneMap places "
            "addresses of its own city only",
            "candidates": [],
        }
    found = candidates(ix, core, hits)
    if not found:
        return {
            "status": "not_found",
            "message": "no place of the gazetteer is named in this address",
            "candidates": [],
        }
    answers = [_candidate(ix, c, core, modifier) for c in found[:limit]]
    ambiguous = len(found) > 1 and found[0].score < found[0].raw
    return {
        "status": "ambiguous" if ambiguous else "ok",
        "found": len(found),
        "candidates": answers,
    }
