"""Coordinate reference systems: parsing CRS names, transforms, and the Chinese web-map offsets (GCJ-02, BD-09)."""
