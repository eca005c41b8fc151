"""Points counted per owner: the answer's columns and how rows are counted, shared by the
count on Dask (gis/owners/bulk_counts.py) and the count of located frames (`onemap`)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from gis.errors import InvalidInput

LEVELS = ("district", "town", "village", "grid", "unit")
COUNT = "points"
TEXT = pd.StringDtype("pyarrow")


def count_columns(level: str, by: Sequence[str], names: Sequence[str]) -> list[str]:
    """The answer's key columns: the level's code and name, then `by`; InvalidInput for an
    unknown level or a `by` column the points do not have."""
    if level not in LEVELS:
        raise InvalidInput(f"unknown level {level!r}: use one of {', '.join(LEVELS)}")
    missing = [c for c in by if c not in names]
    if missing:
        raise InvalidInput(
            f"no column {', '.join(map(repr, missing))} to count by: the points have "
            f"{', '.join(names)}"
        )
    return [f"{level}_code", f"{level}_name", *by]


def tally(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The rows of `frame` counted by `keys` (count_columns), no owner counted under ""."""
    groups = frame.groupby(keys, dropna=False, sort=False, observed=True)
    counts = groups.size().rename(COUNT).reset_index()  # grouped first: categoricals stay cheap
    counts[keys[:2]] = counts[keys[:2]].astype(TEXT).fillna("")
    return counts


def ordered(counts: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Counts sorted by the level's code, then the `by` columns."""
    return counts.sort_values(keys, kind="stable", ignore_index=True)[[*keys, COUNT]]
