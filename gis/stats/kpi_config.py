"""The settings of the performance figures (绩效评价): denominators, weights and grades, read
from one TOML file (gis/stats/kpi.toml, or the file named by ONEMAP_KPI_FILE)."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from gis.errors import InvalidInput

DEFAULT_FILE = Path(__file__).with_name("kpi.toml")
ENV = "ONEMAP_KPI_FILE"
DUE_TO_CLOSE = ("due", "registered")
DUE_TO_HANDLE = ("due", "dispatched")
WEIGHTED = (
    "closed_on_time_rate",
    "closed_rate",
    "rework_free_rate",
    "handled_rate",
    "handled_on_time_rate",
)
GRADES = ("A", "B", "C")


@dataclass(frozen=True)
class KpiConfig:
    """Which denominators, the weights of the composite and the grades' lower bounds."""

    due_to_close: str
    due_to_handle: str
    weights: tuple[tuple[str, float], ...]
    grades: tuple[tuple[str, float], ...]  # (A, 90), (B, 80), (C, 60): highest first
    source: str


def _choice(value: object, allowed: tuple[str, ...], where: str) -> str:
    if value not in allowed:
        raise InvalidInput(f"{where} is {value!r}: use one of {', '.join(allowed)}")
    return str(value)


def parse_config(doc: dict[str, object], source: str) -> KpiConfig:
    """A checked KpiConfig from a parsed TOML document; InvalidInput names what is wrong."""
    den = doc.get("denominators", {})
    weights = doc.get("weights", {})
    grades = doc.get("grades", {})
    if not isinstance(den, dict) or not isinstance(weights, dict) or not isinstance(grades, dict):
        raise InvalidInput(f"{source}: [denominators], [weights] and [grades] must be tables")
    for key in weights:
        if key not in WEIGHTED:
            raise InvalidInput(f"{source}: unknown weight {key!r}: use {', '.join(WEIGHTED)}")
    pairs = []
    for key, value in weights.items():
        if not isinstance(value, int | float) or not 0 <= value <= 1:
            raise InvalidInput(f"{source}: weight {key} = {value!r} is not a number from 0 to 1")
        pairs.append((key, float(value)))
    if abs(sum(w for _, w in pairs) - 1.0) > 1e-6:
        raise InvalidInput(f"{source}: the weights sum to {sum(w for _, w in pairs):g}, not 1")
    bounds = []
    for grade in GRADES:
        value = grades.get(grade)
        if not isinstance(value, int | float) or not 0 <= value <= 100:
            raise InvalidInput(f"{source}: grade {grade} needs a lowest score from 0 to 100")
        bounds.append((grade, float(value)))
    if [b for _, b in bounds] != sorted((b for _, b in bounds), reverse=True):
        raise InvalidInput(f"{source}: the grades' lowest scores must fall from A to C")
    return KpiConfig(
        _choice(den.get("due_to_close", "due"), DUE_TO_CLOSE, f"{source}: due_to_close"),
        _choice(den.get("due_to_handle", "due"), DUE_TO_HANDLE, f"{source}: due_to_handle"),
        tuple(pairs),
        tuple(bounds),
        source,
    )


@lru_cache(maxsize=8)
def load_config(path: str | None = None) -> KpiConfig:
    """The settings in `path`, else in ONEMAP_KPI_FILE, else the defaults (kpi.toml)."""
    chosen = Path(path or os.environ.get(ENV) or DEFAULT_FILE)
    try:
        doc = tomllib.loads(chosen.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput(
            f"no KPI settings file {chosen} (set {ENV} to an existing file)"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{chosen} is not valid TOML: {exc}") from None
    return parse_config(doc, str(chosen))
