"""Geocode a CSV of addresses (a hotline export) in chunks: every input column kept, the best
candidate's point, precision, score, the number of candidates and the owners added."""

from __future__ import annotations

import multiprocessing
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine
from tqdm import tqdm

from gis.errors import InvalidInput
from gis.geocode.answer import CONFIDENT, check_text, geocode
from gis.geocode.cache import gazetteer_index
from gis.geocode.index import GazetteerIndex
from gis.owners.levels import LEVELS

CHUNK = 20_000
ADDRESS_NAMES = ("address", "地址")
ADDED = (
    "lon",
    "lat",
    "precision",
    "score",
    "candidates",
    *(f"{lv}_{k}" for lv in LEVELS for k in ("code", "name")),
    "geocode_status",
    "geocode_address",
    "geocode_note",
)


def _count_rows(path: Path) -> int:
    """The data lines of a CSV file (its lines less the header), for the progress bar."""
    with path.open("rb") as f:
        return max(sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b"")) - 1, 0)


@dataclass
class GeocodeSummary:
    rows: int
    placed: int  # best score at or above CONFIDENT
    ambiguous: int
    unplaced: int
    seconds: float

    def __str__(self) -> str:
        return (
            f"{self.rows:,} rows in {self.seconds:.1f} s "
            f"({self.rows / max(self.seconds, 1e-9):,.0f} rows/s): {self.placed:,} placed "
            f"(score >= {CONFIDENT}), {self.ambiguous:,} ambiguous, {self.unplaced:,} not placed"
        )


def _row(answer: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = dict.fromkeys(ADDED, "")
    found = answer.get("candidates", [])
    out["candidates"] = answer.get("found", len(found))
    out["geocode_status"] = answer.get("status", "")
    out["geocode_note"] = answer.get("message") or answer.get("error") or ""
    if found:
        best = found[0]
        out |= {k: best[k] for k in ("lon", "lat", "precision", "score")}
        out["geocode_address"] = best["address"]
        out["geocode_note"] = best.get("note", "")
        for lv in LEVELS:
            named = best["owner"].get(lv)
            if named:
                out[f"{lv}_code"], out[f"{lv}_name"] = named["code"], named["name"]
    return out


_SHARED: list[GazetteerIndex] = []  # the index the forked workers inherit


def _geocode_rows(job: tuple[int, list[str]]) -> list[dict[str, Any]]:
    """Rows of ADDED for addresses (numbered from `first`), in a worker or in process."""
    first, texts = job
    ix = _SHARED[0]
    rows = []
    for i, raw in enumerate(texts):
        try:
            answer = geocode(ix, check_text(raw, f"row {first + i + 1}"), limit=1)
        except InvalidInput as exc:
            answer = {"status": "error", "error": str(exc), "candidates": []}
        rows.append(_row(answer))
    return rows


def geocode_csv(
    engine: Engine,
    src: Path,
    dst: Path,
    address_col: str | None = None,
    encoding: str | None = None,
    progress: bool = False,
    workers: int | None = None,
) -> GeocodeSummary:
    """Write `dst`: every row and column of `src` plus ADDED; a large file is geocoded by
    `workers` processes (default: one per core)."""
    if not src.exists():
        raise InvalidInput(f"no such file: {src}")
    started = time.perf_counter()
    try:
        header = pd.read_csv(src, nrows=0, encoding=encoding or "utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InvalidInput(f"cannot read {src.name} as CSV: {exc}; try --encoding GBK") from exc
    columns = [str(c) for c in header.columns]
    if address_col is not None:
        if address_col not in columns:
            raise InvalidInput(f"no column {address_col!r}; {src.name} has {', '.join(columns)}")
        col = address_col
    else:
        named = [c for c in columns if c.strip().lower() in ADDRESS_NAMES]
        if not named:
            raise InvalidInput(
                f"no address column: name it address or 地址, or pass --address-col; "
                f"{src.name} has {', '.join(columns)}"
            )
        col = named[0]
    clash = [c for c in ADDED if c in columns]
    if clash:
        raise InvalidInput(f"{src.name} already has column(s) {', '.join(clash)}; rename them")
    with engine.connect() as conn:
        _SHARED[:] = [gazetteer_index(conn)]
    counts = {"rows": 0, "placed": 0, "ambiguous": 0, "unplaced": 0}
    tmp = dst.with_name(dst.name + ".part")
    reader = pd.read_csv(
        src, dtype=str, keep_default_na=False, chunksize=CHUNK, encoding=encoding or "utf-8-sig"
    )
    total = _count_rows(src)
    workers = max(1, min(workers or os.cpu_count() or 1, 8)) if total >= 5 * CHUNK // 10 else 1
    # forked workers share the index built above (copy-on-write); they never touch the database
    pool = multiprocessing.get_context("fork").Pool(workers) if workers > 1 else None
    try:
        with tqdm(total=total, unit="rows", disable=not progress, desc="geocoding") as bar:
            for n, chunk in enumerate(reader):
                texts = chunk[col].tolist()
                step = -(-len(texts) // workers)
                jobs = [
                    (counts["rows"] + k, texts[k : k + step]) for k in range(0, len(texts), step)
                ]
                parts = pool.map(_geocode_rows, jobs) if pool else map(_geocode_rows, jobs)
                rows = [r for part in parts for r in part]
                for r in rows:
                    placed = r["score"] != "" and float(r["score"]) >= CONFIDENT
                    counts["placed"] += placed
                    counts["unplaced"] += not placed
                    counts["ambiguous"] += r["geocode_status"] == "ambiguous"
                added = pd.DataFrame(rows, index=chunk.index, columns=list(ADDED))
                out = pd.concat([chunk, added], axis=1)
                out.to_csv(tmp, mode="w" if n == 0 else "a", header=n == 0, index=False)
                counts["rows"] += len(chunk)
                bar.update(len(chunk))
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    tmp.replace(dst)
    return GeocodeSummary(
        counts["rows"],
        counts["placed"],
        counts["ambiguous"],
        counts["unplaced"],
        time.perf_counter() - started,
    )
