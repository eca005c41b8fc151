"""What a layer is made of: its fields (import kind, SQL, JSON type, visibility class, mask)
and style, and the Layer record the registry (gis/registry/layers.py) declares one of per layer."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

POLYGONAL = ("Polygon", "MultiPolygon")
PUBLIC, PERSONAL, FREE_TEXT = "public", "personal", "free text"
"""Visibility classes: anyone may see a public field; a personal one (names and phones of
reporters, contacts and leaders) only as the access policy allows; free text (what residents
and workers type: a case's title, description, address, notes) may hold a phone or ID number,
so the policy shows it whole or with those numbers masked."""
_JSON_TYPES = {"text": "string", "vocab": "string", "int": "integer"}


@dataclass(frozen=True)
class Field:
    """One attribute: how it is read from files, stored, served and who may see it."""

    name: str  # the served name (OGC property, tile attribute, export column)
    sql: str = ""  # SQL over the layer's alias t (and g, u for owners); default t.<name>
    kind: str | None = "text"  # import kind: text | int | date | datetime | vocab; None: derived
    required: bool = False
    max_len: int | None = None
    vocabulary: dict[str, str] | None = None
    default: object = None
    file_name: str | None = None  # the name in files, where it differs from `name`
    type: str | None = None  # JSON type, for derived fields (else from the import kind)
    visibility: str = PUBLIC  # PUBLIC, PERSONAL or FREE_TEXT
    mask: str | None = None  # how a masked value looks (name | phone; free text: text)
    queryable: bool = False
    in_tiles: bool = True
    description: str = ""

    @property
    def expr(self) -> str:
        return self.sql or f"t.{self.name}"

    @property
    def json_type(self) -> str:
        """string | integer | number | boolean | date | date-time"""
        if self.type:
            return self.type
        return {"date": "date", "datetime": "date-time"}.get(self.kind or "", None) or (
            _JSON_TYPES.get(self.kind or "text", "string")
        )

    @property
    def enum(self) -> tuple[str, ...]:
        return tuple(self.vocabulary or ())

    @property
    def personal(self) -> bool:
        return self.visibility == PERSONAL

    @property
    def free_text(self) -> bool:
        return self.visibility == FREE_TEXT


@dataclass(frozen=True)
class Style:
    color: str
    weight: float = 1.0
    fill_color: str | None = None
    fill_opacity: float = 0.0


@dataclass(frozen=True)
class Layer:
    """A layer: where it is stored, what it holds, how it is imported, served and drawn."""

    id: str
    label: str  # the short Chinese name
    title: str
    description: str
    table: str
    geometry: tuple[str, ...]  # the geometry types it takes
    fields: tuple[Field, ...]
    id_field: str  # the field that is the feature id (a stable public key)
    min_zoom: int
    joins: str = ""  # joined to `table t` when served (owners: g, u)
    where: str = "TRUE"  # a constant condition (e.g. the current plan only)
    level: str | None = None  # the code level of boundary layers
    owned: bool = False  # gets its owning grid (and unit) on import
    casework: bool = False  # case records: the access policy scopes their rows by role
    grid_code_sql: str | None = None  # the owning grid's code, for row scopes
    tables: tuple[str, ...] = ()  # tables read besides its own (their versions key caches)
    max_zoom: int = 18
    style: Style = field(default_factory=lambda: Style("#3388ff"))
    popup: tuple[str, ...] = ()
    datetime_field: str | None = None
    aggregate_below: int | None = None  # below this zoom, tiles carry counts per grid
    aggregate_villages_below: int | None = None  # ... and below this, per village
    tile_cap: int | None = None  # at most this many features in one tile (newest first)
    generalised_below: int | None = None  # below this zoom tiles start from t.geom_lo

    @property
    def name(self) -> str:
        return self.id

    @property
    def source(self) -> str:
        """The FROM clause: the layer's table as t, with its joins."""
        return f"{self.table} t {self.joins}".strip()

    @property
    def reads(self) -> tuple[str, ...]:
        """Every table a served feature reads (their versions key the caches)."""
        return (self.table, *self.tables)

    @property
    def geometry_type(self) -> str:
        """The served geometry type: Point, MultiPolygon or Geometry."""
        if self.geometry == ("Point",):
            return "Point"
        return "MultiPolygon" if set(self.geometry) <= set(POLYGONAL) else "Geometry"

    @property
    def is_point(self) -> bool:
        return self.geometry_type == "Point"

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def import_fields(self) -> tuple[Field, ...]:
        """The fields read from files, under their names in files."""
        return tuple(
            replace(f, name=f.file_name) if f.file_name else f
            for f in self.fields
            if f.kind is not None
        )
