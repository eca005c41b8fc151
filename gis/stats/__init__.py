"""Statistics over cases: counts and rankings per area (aggregates only)."""
