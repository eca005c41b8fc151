"""The synthetic demo city: a deterministic generator of boundaries and thematic layers."""
