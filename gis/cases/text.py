"""Free-text fields of a case: trimmed, required or optional, bounded in length, and free of
control characters (a NUL would reach PostgreSQL, which refuses it)."""

from __future__ import annotations

from gis.errors import InvalidInput
from gis.registry.codes import CONTROL

MAX_TITLE, MAX_DESCRIPTION, MAX_NOTE, MAX_NAME, MAX_ADDRESS = 200, 5000, 2000, 50, 200


def text(name: str, value: str | None, limit: int, required: bool = False) -> str | None:
    if value is None or not str(value).strip():
        if required:
            raise InvalidInput(f"{name} is required")
        return None
    text = str(value).strip()
    bad = CONTROL.search(text)
    if bad:
        raise InvalidInput(
            f"{name} holds a control character (U+{ord(bad.group()):04X}) at position "
            f"{bad.start()}: remove it"
        )
    if len(text) > limit:
        raise InvalidInput(f"{name} is {len(text)} characters long: at most {limit}")
    return text
