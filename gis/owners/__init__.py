"""Ownership: which grid and unit own a point or an area (PostGIS, and the in-process plan index)."""
