"""Geocoding by address over the local gazetteer: normalise, parse, match, rank, reverse."""
