"""The grid plan: new generations of grids and units, re-joining the layers, and quality checks."""
