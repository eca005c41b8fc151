"""The access policy as a Markdown table (role x layer x field -> full, masked or hidden), for
the README: generated from the policy itself, and a test checks the README holds it verbatim.

Run `python -m gis.access.table` to print it."""

from __future__ import annotations

from gis.access.policy import ALL, NONE, OWN_GRID, row_scope, visibility
from gis.access.roles import ROLES, Actor
from gis.registry.layers import LAYERS
from gis.registry.model import Field, Layer

_ROWS = {ALL: "all rows", OWN_GRID: "own grid's rows", NONE: "counts per grid"}


def _row(layer_id: str, what: str, cells: list[str]) -> str:
    return f"| {layer_id} | {what} | " + " | ".join(cells) + " |"


def _seen(layer: Layer, fields: list[Field], role: str, tiles: bool = False) -> str:
    """How `role` sees `fields` (one word when they agree)."""
    seen = {visibility(layer, f, role, tiles) for f in fields}
    return seen.pop() if len(seen) == 1 else "mixed"


def markdown() -> str:
    """Per layer: the rows each role reads, each personal field, its free text (phone and ID
    numbers masked where `masked`), then the public fields."""
    roles = list(ROLES)
    lines = [_row("layer", "field", roles), "|---|---|" + "---|" * len(roles)]
    for layer in LAYERS.values():
        lines.append(
            _row(layer.id, "*rows*", [_ROWS[row_scope(layer, Actor(r, r, "G"))] for r in roles])
        )
        personal = [f for f in layer.fields if f.personal]
        for f in personal:
            tiles = _seen(layer, [f], roles[0], tiles=True)
            lines.append(
                _row("", f"{f.name} (tiles: {tiles})", [_seen(layer, [f], r) for r in roles])
            )
        free = [f for f in layer.fields if f.free_text]
        if free:
            tiles = _seen(layer, free, roles[0], tiles=True)
            names = ", ".join(f.name for f in free) + f" (free text; tiles: {tiles})"
            lines.append(_row("", names, [_seen(layer, free, r) for r in roles]))
        public = [f for f in layer.fields if not f.personal and not f.free_text]
        names = ", ".join(f.name for f in public)
        lines.append(_row("", names, [_seen(layer, public, r) for r in roles]))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
