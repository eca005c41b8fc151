"""What the server's logs may not hold: a key or token in a query string is hidden from
uvicorn's access log (which logs each request's path and query), so a refused
`?api_key=...` leaves no key behind."""

from __future__ import annotations

import logging
import re

SECRET = re.compile(r"((?:^|[?&])(?:api_key|token|access_token)=)[^&\s]*", re.I)


class HideKeys(logging.Filter):
    """Replaces the value of a key-like query parameter in a log record's arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any("=" in str(a) for a in record.args):
            record.args = tuple(
                SECRET.sub(r"\1[hidden]", a) if isinstance(a, str) else a for a in record.args
            )
        return True


def hide_keys() -> None:
    """Install the filter on uvicorn's access log (once)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, HideKeys) for f in access.filters):
        access.addFilter(HideKeys())
