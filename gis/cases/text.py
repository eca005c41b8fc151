"""Free-text fields of a case: trimmed, required or optional, bounded in length, and free of
control characters (a NUL would reach PostgreSQL, which refuses it), lone surrogates (no UTF-8
can carry them) and bidirectional overrides (they make a title read other than it is)."""

from __future__ import annotations

import re
import unicodedata

from gis.errors import InvalidInput
from gis.registry.codes import CONTROL

# Refused in free text, with what to do: control characters, lone surrogates (a JSON "\ud800"),
# and the bidirectional embeddings, overrides and isolates (U+202A-202E, U+2066-2069).
REFUSED = (
    (CONTROL, "a control character", "remove it"),
    (re.compile("[\ud800-\udfff]"), "a lone surrogate", "send valid UTF-16 pairs or UTF-8"),
    (re.compile("[\u202a-\u202e\u2066-\u2069]"), "a bidirectional control", "remove it"),
)

MAX_TITLE, MAX_DESCRIPTION, MAX_NOTE, MAX_NAME, MAX_ADDRESS = 200, 5000, 2000, 50, 200


def text(name: str, value: str | None, limit: int, required: bool = False) -> str | None:
    text = "" if value is None else str(value).strip()
    if not "".join(ch for ch in text if unicodedata.category(ch) != "Cf").strip():
        if required:  # nothing, or only spaces and invisible characters (zero-width ...)
            raise InvalidInput(f"{name} is required")
        return None
    for pattern, what, fix in REFUSED:
        bad = pattern.search(text)
        if bad:
            raise InvalidInput(
                f"{name} holds {what} (U+{ord(bad.group()):04X}) at position {bad.start()}: {fix}"
            )
    if len(text) > limit:
        raise InvalidInput(f"{name} is {len(text)} characters long: at most {limit}")
    return text
