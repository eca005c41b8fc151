"""The owner chain's levels, from the largest area to the smallest: every point a grid owns
has one of each (a module of its own, light enough for the command line to import)."""

LEVELS = ("district", "town", "village", "grid", "unit")
