"""The layer catalogue: the one place that says what each served layer is.

For every layer: its SQL source, geometry type, public and restricted (personal) fields,
which fields may be filtered on, zoom range, style, popup and who may read it. OGC API
Features, the tiles, TileJSON and the map page are all built from these entries; adding
a layer means adding one entry here. Every layer or field name that arrives in a request
is looked up here (never spliced into SQL), and every value is a bound parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gis.errors import UnknownLayer
from gis.registry import vocab

ROLES = ("public", "dispatcher", "grid_worker", "analyst", "admin")
# Roles that may see personal fields (reporters', contacts' and leaders' names and phones).
PERSONAL_READERS = ("dispatcher", "admin")
OPEN_STATUSES = ("reported", "registered", "dispatched", "in_progress", "responded")


@dataclass(frozen=True)
class Prop:
    """A feature property: its public name, SQL expression (over alias t) and JSON type."""

    name: str
    sql: str
    type: str = "string"  # string | integer | number | boolean | date | date-time
    queryable: bool = False
    restricted: bool = False  # personal data: only PERSONAL_READERS see it
    in_tiles: bool = True
    description: str = ""
    enum: tuple[str, ...] = ()


@dataclass(frozen=True)
class Style:
    color: str
    weight: float = 1.0
    fill_color: str | None = None
    fill_opacity: float = 0.0
    icon: str | None = None  # Font Awesome name, for point layers


@dataclass(frozen=True)
class Layer:
    """A served layer."""

    id: str
    title: str
    description: str
    source: str  # FROM clause; the layer's own table is aliased t, its geometry is t.geom
    where: str  # a constant condition (e.g. the current plan only)
    geometry: str  # Point | Polygon | MultiPolygon | Geometry
    id_prop: str  # the property that is the feature id (a stable public key)
    props: tuple[Prop, ...]
    tables: tuple[str, ...]  # tables read (their versions key the tile cache)
    min_zoom: int
    max_zoom: int = 18
    style: Style = field(default_factory=lambda: Style("#3388ff"))
    popup: tuple[str, ...] = ()
    readers: tuple[str, ...] = ROLES
    datetime_prop: str | None = None
    aggregate_below: int | None = None  # below this zoom, tiles carry counts per grid
    tile_cap: int | None = None  # at most this many features in one tile (newest first)
    # Below this zoom, tiles start from t.geom_lo (boundaries generalised to ~30 m).
    generalised_below: int | None = None
    # Below this zoom, counts are per village rather than per grid.
    aggregate_villages_below: int | None = None
    # The owning grid's code (SQL): a grid worker reads only rows where it is their grid.
    grid_scope: str | None = None
    # Roles that may read features; others get counts per grid (tiles) or a 401/403 (items).
    feature_readers: tuple[str, ...] = ROLES

    @property
    def is_point(self) -> bool:
        return self.geometry == "Point"

    def prop(self, name: str) -> Prop:
        for p in self.props:
            if p.name == name:
                return p
        raise KeyError(name)

    def visible(self, role: str = "public") -> tuple[Prop, ...]:
        """The properties `role` may see."""
        personal = role in PERSONAL_READERS
        return tuple(p for p in self.props if personal or not p.restricted)

    def queryables(self, role: str = "public") -> tuple[Prop, ...]:
        return tuple(p for p in self.visible(role) if p.queryable)

    @property
    def restricted_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.props if p.restricted)


def _region(level: str, title: str, min_zoom: int, style: Style) -> Layer:
    return Layer(
        id=f"{level}s" if level != "district" else "districts",
        title=title,
        description=f"{title}: 12-digit statistical codes, names and parent codes",
        source="regions t",
        where=f"t.level = '{level}'",  # a constant of this module, not a request value
        geometry="MultiPolygon",
        id_prop="code",
        props=(
            Prop("code", "t.code", queryable=True, description="statistical area code"),
            Prop("name", "t.name", queryable=True),
            Prop("parent_code", "t.parent_code", queryable=True),
        ),
        tables=("regions",),
        min_zoom=min_zoom,
        generalised_below=13,
        style=style,
        popup=("name", "code", "parent_code"),
    )


_OWNER_JOIN = "LEFT JOIN grids g ON g.id = t.grid_id LEFT JOIN units u ON u.id = t.unit_id"
_OWNER_PROPS = (
    Prop("grid_code", "g.code", queryable=True, description="the owning grid"),
    Prop("unit_code", "u.code", queryable=True, description="the owning unit"),
    Prop("on_boundary", "t.on_boundary", "boolean"),
    Prop("snap_distance_m", "t.snap_distance_m", "number"),
)
_LEADER = (
    Prop("leader_name", "t.leader_name", restricted=True, in_tiles=False),
    Prop("leader_phone", "t.leader_phone", restricted=True, in_tiles=False),
)


def _enum(v: dict[str, str]) -> tuple[str, ...]:
    return tuple(v)


CATALOGUE: dict[str, Layer] = {
    layer.id: layer
    for layer in (
        _region("district", "区县 districts", 0, Style("#8e1b1b", 3)),
        _region("town", "镇/街道 towns and streets", 0, Style("#c0392b", 2)),
        _region("village", "村/社区 villages and communities", 8, Style("#2c3e50", 1.2)),
        Layer(
            id="grids",
            title="网格 grids",
            description="Grids of the current plan, with their village",
            source="grids t",
            where="t.valid_to IS NULL",
            geometry="MultiPolygon",
            id_prop="code",
            props=(
                Prop("code", "t.code", queryable=True),
                Prop("name", "t.name", queryable=True),
                Prop("village_code", "t.village_code", queryable=True),
                Prop("valid_from", "t.valid_from", "date-time", in_tiles=False),
                *_LEADER,
            ),
            tables=("grids",),
            generalised_below=13,
            min_zoom=12,  # 10,000 grids: below z12 the village level says more
            style=Style("#2980b9", 0.8, "#aed6f1", 0.25),
            popup=("name", "code", "village_code", "leader_name", "leader_phone"),
        ),
        Layer(
            id="units",
            title="单元 units",
            description="Units (the smallest governance areas) of the current plan",
            source="units t",
            where="t.valid_to IS NULL",
            geometry="MultiPolygon",
            id_prop="code",
            props=(
                Prop("code", "t.code", queryable=True),
                Prop("name", "t.name", queryable=True),
                Prop("grid_code", "t.grid_code", queryable=True),
                Prop("households", "t.households", "integer"),
                Prop("party_contacts", "t.party_contacts", "integer"),
                *_LEADER,
            ),
            tables=("units",),
            generalised_below=13,
            min_zoom=13,
            style=Style("#16a085", 0.5, "#d1f2eb", 0.0),  # outlines: tiles may overlap
            popup=("name", "code", "households", "party_contacts", "leader_name"),
        ),
        Layer(
            id="cases",
            title="事件/案件 cases",
            description="Resident reports, disputes and hazards with their owning grid and unit",
            source=f"cases t {_OWNER_JOIN}",
            where="TRUE",
            geometry="Point",
            id_prop="id",
            props=(
                Prop("id", "t.id", "integer"),
                Prop(
                    "category",
                    "t.category",
                    queryable=True,
                    enum=_enum(vocab.CASE_CATEGORIES),
                ),
                Prop("title", "t.title", in_tiles=False),
                Prop("status", "t.status", queryable=True, enum=_enum(vocab.CASE_STATUSES)),
                Prop("reported_at", "t.reported_at", "date-time"),
                *_OWNER_PROPS,
                Prop("reporter_name", "t.reporter_name", restricted=True, in_tiles=False),
                Prop("reporter_phone", "t.reporter_phone", restricted=True, in_tiles=False),
            ),
            tables=("cases", "grids", "units", "regions"),
            min_zoom=10,
            style=Style("#e74c3c", icon="exclamation"),
            popup=("id", "title", "category", "status", "reported_at", "grid_code"),
            datetime_prop="reported_at",
            aggregate_below=15,
            aggregate_villages_below=12,
            tile_cap=3000,
            grid_scope="g.code",
            feature_readers=("dispatcher", "grid_worker", "analyst", "admin"),
        ),
        Layer(
            id="hotspots",
            title="内涝点/隐患点 hotspots",
            description="Waterlogging and hazard spots (points or areas) with risk levels",
            source=f"hotspots t {_OWNER_JOIN}",
            where="TRUE",
            geometry="Geometry",
            id_prop="id",
            props=(
                Prop("id", "t.id", "integer"),
                Prop("name", "t.name", queryable=True),
                Prop("kind", "t.kind", queryable=True, enum=_enum(vocab.HOTSPOT_KINDS)),
                Prop("risk_level", "t.risk_level", queryable=True, enum=_enum(vocab.RISK_LEVELS)),
                Prop("last_inspected", "t.last_inspected", "date"),
                *_OWNER_PROPS,
            ),
            tables=("hotspots", "grids", "units"),
            min_zoom=10,
            style=Style("#2471a3", 1, "#5dade2", 0.4, icon="tint"),
            popup=("name", "kind", "risk_level", "last_inspected", "grid_code"),
        ),
        Layer(
            id="parcels",
            title="征迁/违建地块 parcels",
            description="Demolition and illegal-building parcels; the largest-share grid owns",
            source="parcels t LEFT JOIN grids g ON g.id = t.grid_id",
            where="TRUE",
            geometry="MultiPolygon",
            id_prop="code",
            props=(
                Prop("code", "t.code", queryable=True),
                Prop("name", "t.name", queryable=True),
                Prop("kind", "t.kind", queryable=True, enum=_enum(vocab.PARCEL_KINDS)),
                Prop("status", "t.status", queryable=True, enum=_enum(vocab.PARCEL_STATUSES)),
                Prop("grid_code", "g.code", queryable=True),
            ),
            tables=("parcels", "grids"),
            min_zoom=12,
            style=Style("#d35400", 1, "#f5cba7", 0.5),
            popup=("name", "code", "kind", "status", "grid_code"),
        ),
        Layer(
            id="stations",
            title="服务站点 stations",
            description="Party service centres, convenience points, council halls and more",
            source=f"stations t {_OWNER_JOIN}",
            where="TRUE",
            geometry="Point",
            id_prop="id",
            props=(
                Prop("id", "t.id", "integer"),
                Prop("name", "t.name", queryable=True),
                Prop("kind", "t.kind", queryable=True, enum=_enum(vocab.STATION_KINDS)),
                Prop("hours", "t.hours"),
                Prop("address", "t.address", in_tiles=False),
                *_OWNER_PROPS,
                Prop("contact_name", "t.contact_name", restricted=True, in_tiles=False),
                Prop("contact_phone", "t.contact_phone", restricted=True, in_tiles=False),
            ),
            tables=("stations", "grids", "units"),
            min_zoom=10,
            style=Style("#8e44ad", icon="home"),
            popup=("name", "kind", "hours", "address", "grid_code"),
        ),
    )
}


def get_layer(layer_id: str) -> Layer:
    """The catalogue entry of `layer_id`, or UnknownLayer naming the layers there are."""
    try:
        return CATALOGUE[layer_id]
    except KeyError:
        raise UnknownLayer(
            f"unknown layer {layer_id[:60]!r}: use one of {', '.join(CATALOGUE)}"
        ) from None
