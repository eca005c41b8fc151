"""The layer registry: what each layer is (table, geometry, fields, import spec, tiles, style), codes and vocabularies."""
