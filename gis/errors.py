"""Domain errors of the spatial core; api/errors.py maps them to HTTP answers once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class OneMapError(Exception):
    """Base of every error OneMap raises on purpose; its message says how to fix it.

    `facts` are machine-readable details of this occurrence (the bad parameter's name, the
    nearest grid...), JSON-ready; the HTTP fronts pass them on beside the message.
    """

    facts: Mapping[str, Any] = {}


class DatabaseUnavailable(OneMapError):
    """The database cannot be reached or is not a PostGIS database."""


class ClusterError(OneMapError):
    """The project-local PostgreSQL cluster could not be managed."""


class BackupFailed(ClusterError):
    """pg_dump or pg_restore refused; nothing was changed."""


class InvalidCRS(OneMapError):
    """A coordinate reference system name that OneMap does not know."""


class UnknownLayer(OneMapError):
    """A layer name that is not in the catalogue."""


class InvalidInput(OneMapError):
    """A file or value that cannot be read at all (format, encoding, columns)."""


class BadParameter(InvalidInput):
    """A request parameter that cannot be used; the message names it and its value."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param, self.message = param, message
        self.facts = {"parameter": param}


class TileOutOfRange(OneMapError):
    """z/x/y that name no tile."""


class OutsideCoverage(OneMapError):
    """A point in no grid and further than the snap tolerance from every grid."""

    def __init__(self, message: str, **facts: Any) -> None:
        super().__init__(message)
        self.facts = facts


@dataclass
class RowError:
    """One rejected row of an import: where it is, which field, and why."""

    row: int
    field: str
    value: object
    reason: str

    def __str__(self) -> str:
        value = repr(self.value)
        if len(value) > 60:
            value = value[:57] + "..."
        return f"row {self.row}: {self.field}={value}: {self.reason}"


@dataclass
class ImportRejected(OneMapError):
    """An import in which some rows are invalid; nothing was written."""

    layer: str
    source: str
    errors: list[RowError] = field(default_factory=list)
    total_rows: int = 0

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        shown = "\n".join(f"  {e}" for e in self.errors[:50])
        more = len(self.errors) - 50
        tail = f"\n  ... and {more} more rejected rows" if more > 0 else ""
        return (
            f"import of {self.layer} from {self.source} refused: {len(self.errors)} problem(s) "
            f"in {self.total_rows} rows; nothing was written.\n{shown}{tail}"
        )


class RowsRejected(InvalidInput):
    """A bulk input (a file of points) with bad rows; none of it was answered."""

    def __init__(self, source: str, errors: list[RowError], rows: int, bad: int) -> None:
        shown = "; ".join(str(e) for e in errors[:10])
        more = f"; and {bad - 10:,} more" if bad > 10 else ""
        super().__init__(
            f"{source}: {bad:,} of {rows:,} rows cannot be located, so none was: {shown}{more}. "
            'Fix those rows, or have them marked locate_status "error" instead (bad_rows=mark; '
            "--bad-rows mark on the command line)"
        )
        self.errors, self.rows, self.bad = errors, rows, bad
        self.facts = {
            "rows": rows,
            "bad_rows": bad,
            "errors": [
                {"row": e.row, "column": e.field, "value": _shown(e.value), "reason": e.reason}
                for e in errors
            ],
        }


def _shown(value: object) -> object:
    """A bad cell as a refusal shows it: JSON-ready, at most 60 characters."""
    if value is None or isinstance(value, bool | int | float):
        return value
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


class TooLarge(OneMapError):
    """A request larger than the caller may send (anonymous callers have lower limits)."""


class TooManyRequests(OneMapError):
    """A client over a rate limit; the message names the limit and when to retry."""

    def __init__(self, message: str, limit: str, rate: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.facts = {"limit": limit, "rate": rate, "retry_after_s": retry_after_s}


class NotAuthenticated(OneMapError):
    """No token, or a token that is unknown or disabled, where one is needed."""


class Forbidden(OneMapError):
    """The caller's role may not do this."""


class NotFound(OneMapError):
    """No such object, or none the caller may see."""


class IllegalTransition(OneMapError):
    """A case action that its current stage does not allow."""


class StaleVersion(OneMapError):
    """An If-Match version that is no longer the case's version."""


class PreconditionRequired(OneMapError):
    """A change sent without the version it was based on (If-Match)."""
