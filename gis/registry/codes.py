"""Statistical area codes: formats of each level and the parent each code implies."""

from __future__ import annotations

import re

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""Control characters (all but tab and line breaks): never part of a value OneMap stores."""


def is_digits(text: str, max_len: int) -> bool:
    """Whether `text` is 1 to max_len ASCII digits ('²' and '٣' are digits to str.isdigit)."""
    return 0 < len(text) <= max_len and text.isascii() and text.isdigit()


# Each level's code length and the level of its parent.
LENGTH = {"district": 12, "town": 12, "village": 12, "grid": 15, "unit": 18}
PARENT_LEVEL = {
    "district": None,
    "town": "district",
    "village": "town",
    "grid": "village",
    "unit": "grid",
}
_DIGITS = {n: re.compile(rf"^[0-9]{{{n}}}$") for n in (12, 15, 18)}

EXAMPLE = {
    "district": "350302000000 (province 2, city 2, county 2 digits, then 000000)",
    "town": "350302001000 (the district's 6 digits, a 3-digit town, then 000)",
    "village": "350302001201 (the town's 9 digits and a 3-digit village, not 000)",
    "grid": "350302001201003 (the village's 12 digits and a 3-digit sequence, not 000)",
    "unit": "350302001201003002 (the grid's 15 digits and a 3-digit sequence, not 000)",
}


def code_problem(level: str, code: str) -> str | None:
    """Why `code` is not a valid code of `level`, or None when it is."""
    n = LENGTH[level]
    if not _DIGITS[n].match(code):
        return f"a {level} code is {n} digits, e.g. {EXAMPLE[level]}"
    if level == "district" and (code[6:] != "000000" or code[4:6] == "00"):
        return f"a district code ends in 000000 and has a county part, e.g. {EXAMPLE[level]}"
    if level == "town" and (code[9:] != "000" or code[6:9] == "000"):
        return f"a town code ends in 000 after a non-zero town part, e.g. {EXAMPLE[level]}"
    if level in ("village", "grid", "unit") and code[-3:] == "000":
        return f"a {level} code does not end in 000, e.g. {EXAMPLE[level]}"
    return None


def implied_parent(level: str, code: str) -> str | None:
    """The parent code a valid code implies (None for districts)."""
    if level == "district":
        return None
    if level == "town":
        return code[:6] + "000000"
    if level == "village":
        return code[:9] + "000"
    if level == "grid":
        return code[:12]
    return code[:15]
