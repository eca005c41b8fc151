"""Reading, validating, writing and exporting layer files."""
