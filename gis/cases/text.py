"""Free-text fields of a case: trimmed, required or optional, and bounded in length."""

from __future__ import annotations

from gis.errors import InvalidInput

MAX_TITLE, MAX_DESCRIPTION, MAX_NOTE, MAX_NAME, MAX_ADDRESS = 200, 5000, 2000, 50, 200


def text(name: str, value: str | None, limit: int, required: bool = False) -> str | None:
    if value is None or not str(value).strip():
        if required:
            raise InvalidInput(f"{name} is required")
        return None
    text = str(value).strip()
    if len(text) > limit:
        raise InvalidInput(f"{name} is {len(text)} characters long: at most {limit}")
    return text
