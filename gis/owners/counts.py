"""Points counted per owner: the answer's columns and how rows are counted, shared by the
count on Dask (gis/owners/bulk_counts.py) and the count of located frames (`onemap`)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from gis.errors import InvalidInput
from gis.owners.levels import LEVELS
from gis.owners.model import OWNER_COLUMNS

COUNT = "points"
TEXT = pd.StringDtype("pyarrow")


def count_columns(level: str, by: Sequence[str] | str, names: Sequence[str]) -> list[str]:
    """The answer's key columns: the level's code and name, then `by` (one name or several);
    InvalidInput for an unknown level, or a `by` column the points do not have, given twice,
    or named as an owner column or the count."""
    if level not in LEVELS:
        raise InvalidInput(f"unknown level {level!r}: use one of {', '.join(LEVELS)}")
    by = [by] if isinstance(by, str) else list(by)
    taken = [c for c in by if c in OWNER_COLUMNS or c == COUNT]
    if taken:
        raise InvalidInput(
            f"cannot count by {', '.join(map(repr, taken))}: the answer has a column of that "
            "name; rename it in the points"
        )
    twice = sorted({c for c in by if by.count(c) > 1})
    if twice:
        raise InvalidInput(f"column {', '.join(map(repr, twice))} given twice to count by")
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
