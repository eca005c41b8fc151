"""The layer registry: each layer declared once (table, geometry, id, fields with their
visibility class, import spec, tile zooms, style). Import, export, OGC API, tiles, the map,
health and the owner index all read it; adding a layer is one entry here plus a migration.

Every layer or field name that arrives in a request is looked up here (never spliced into
SQL); the SQL text below is ours. Who may see a field is not decided here: a field names its
visibility class, and the access policy (gis/access/policy.py) maps role x class to full,
masked or hidden.
"""

from __future__ import annotations

from gis.errors import UnknownLayer
from gis.geocode.levels import LEVELS as GAZETTEER_LEVELS
from gis.registry import vocab
from gis.registry.model import FREE_TEXT, PERSONAL, POLYGONAL, Field, Layer, Style

_LEADER = (
    Field("leader_name", max_len=50, visibility=PERSONAL, mask="name", in_tiles=False),
    Field("leader_phone", max_len=30, visibility=PERSONAL, mask="phone", in_tiles=False),
)
_OWNER_JOIN = "LEFT JOIN grids g ON g.id = t.grid_id LEFT JOIN units u ON u.id = t.unit_id"
_OWNERS = (
    Field("grid_code", "g.code", None, queryable=True, description="the owning grid"),
    Field("unit_code", "u.code", None, queryable=True, description="the owning unit"),
    Field("on_boundary", "t.on_boundary", None, type="boolean"),
    Field("snap_distance_m", "t.snap_distance_m", None, type="number"),
)
_ID = Field("id", "t.id", None, type="integer")


def _vocab(
    name: str, vocabulary: dict[str, str], required: bool = True, default: str | None = None
) -> Field:
    """A field whose values come from a vocabulary (code or label on import), filterable."""
    return Field(
        name,
        kind="vocab",
        required=required,
        vocabulary=vocabulary,
        default=default,
        queryable=True,
    )


def _region(level: str, label: str, title: str, min_zoom: int, style: Style) -> Layer:
    return Layer(
        id=f"{level}s",
        label=label,
        title=f"{label} {title}",
        description=f"{label} {title}: 12-digit statistical codes, names and parent codes",
        table="regions",
        where=f"t.level = '{level}'",  # a constant of this module, not a request value
        geometry=POLYGONAL,
        fields=(
            Field("code", required=True, queryable=True, description="statistical area code"),
            Field("name", required=True, max_len=100, queryable=True),
            Field("parent_code", queryable=True),  # derived from the code when absent
        ),
        id_field="code",
        level=level,
        min_zoom=min_zoom,
        generalised_below=13,
        style=style,
        popup=("name", "code", "parent_code"),
    )


LAYERS: dict[str, Layer] = {
    layer.id: layer
    for layer in (
        _region("district", "区县", "districts", 0, Style("#8e1b1b", 3)),
        _region("town", "镇/街道", "towns and streets", 0, Style("#c0392b", 2)),
        _region("village", "村/社区", "villages and communities", 8, Style("#2c3e50", 1.2)),
        Layer(
            id="grids",
            label="网格",
            title="网格 grids",
            description="Grids of the current plan, with their village",
            table="grids",
            where="t.valid_to IS NULL",
            geometry=POLYGONAL,
            fields=(
                Field("code", required=True, queryable=True),
                Field("name", required=True, max_len=100, queryable=True),
                Field("village_code", file_name="parent_code", queryable=True),
                Field("valid_from", kind=None, type="date-time", in_tiles=False),
                *_LEADER,
            ),
            id_field="code",
            level="grid",
            generalised_below=13,
            min_zoom=12,  # 10,000 grids: below z12 the village level says more
            style=Style("#2980b9", 0.8, "#aed6f1", 0.25),
            popup=("name", "code", "village_code", "leader_name", "leader_phone"),
        ),
        Layer(
            id="units",
            label="单元",
            title="单元 units",
            description="Units (the smallest governance areas) of the current plan",
            table="units",
            where="t.valid_to IS NULL",
            geometry=POLYGONAL,
            fields=(
                Field("code", required=True, queryable=True),
                Field("name", required=True, max_len=100, queryable=True),
                Field("grid_code", file_name="parent_code", queryable=True),
                *_LEADER,
                Field("households", "", "int"),
                Field("party_contacts", "", "int"),
            ),
            id_field="code",
            level="unit",
            generalised_below=13,
            min_zoom=13,
            style=Style("#16a085", 0.5, "#d1f2eb", 0.0),  # outlines: tiles may overlap
            popup=("name", "code", "households", "party_contacts", "leader_name"),
        ),
        Layer(
            id="cases",
            label="事件/案件",
            title="事件/案件 cases",
            description="Resident reports, disputes and hazards with their owning grid and unit",
            table="cases",
            joins=_OWNER_JOIN,
            geometry=("Point",),
            fields=(
                _ID,
                _vocab("category", vocab.CASE_CATEGORIES),
                Field("title", required=True, max_len=200, visibility=FREE_TEXT, in_tiles=False),
                Field("description", max_len=5000, visibility=FREE_TEXT, in_tiles=False),
                _vocab("status", vocab.CASE_STATUSES, required=False, default="reported"),
                Field("reported_at", kind="datetime", required=True),
                *_OWNERS,
                Field("reporter_name", max_len=50, visibility=PERSONAL, mask="name"),
                Field("reporter_phone", max_len=30, visibility=PERSONAL, mask="phone"),
                Field("grid_leader_name", "g.leader_name", None, visibility=PERSONAL, mask="name"),
                Field(
                    "grid_leader_phone", "g.leader_phone", None, visibility=PERSONAL, mask="phone"
                ),
            ),
            id_field="id",
            owned=True,
            casework=True,
            grid_code_sql="g.code",
            tables=("grids", "units", "regions"),
            min_zoom=10,
            style=Style("#e74c3c"),
            popup=("id", "title", "category", "status", "reported_at", "grid_code"),
            datetime_field="reported_at",
            aggregate_below=15,
            aggregate_villages_below=12,
            tile_cap=3000,
        ),
        Layer(
            id="hotspots",
            label="内涝点/隐患点",
            title="内涝点/隐患点 hotspots",
            description="Waterlogging and hazard spots (points or areas) with risk levels",
            table="hotspots",
            joins=_OWNER_JOIN,
            geometry=("Point", *POLYGONAL),
            fields=(
                _ID,
                Field("name", required=True, max_len=100, queryable=True),
                _vocab("kind", vocab.HOTSPOT_KINDS),
                _vocab("risk_level", vocab.RISK_LEVELS),
                Field("last_inspected", kind="date"),
                *_OWNERS,
            ),
            id_field="id",
            owned=True,
            grid_code_sql="g.code",
            tables=("grids", "units"),
            min_zoom=10,
            style=Style("#2471a3", 1, "#5dade2", 0.4),
            popup=("name", "kind", "risk_level", "last_inspected", "grid_code"),
        ),
        Layer(
            id="parcels",
            label="征迁/违建地块",
            title="征迁/违建地块 parcels",
            description="Demolition and illegal-building parcels; the largest-share grid owns",
            table="parcels",
            joins="LEFT JOIN grids g ON g.id = t.grid_id",
            geometry=POLYGONAL,
            fields=(
                Field("code", required=True, max_len=40, queryable=True),
                Field("name", required=True, max_len=100, queryable=True),
                _vocab("kind", vocab.PARCEL_KINDS),
                _vocab("status", vocab.PARCEL_STATUSES),
                Field("grid_code", "g.code", None, queryable=True),
            ),
            id_field="code",
            owned=True,
            grid_code_sql="g.code",
            tables=("grids",),
            min_zoom=12,
            style=Style("#d35400", 1, "#f5cba7", 0.5),
            popup=("name", "code", "kind", "status", "grid_code"),
        ),
        Layer(
            id="stations",
            label="服务站点",
            title="服务站点 stations",
            description="Party service centres, convenience points, council halls and more",
            table="stations",
            joins=_OWNER_JOIN,
            geometry=("Point",),
            fields=(
                _ID,
                Field("name", required=True, max_len=100, queryable=True),
                _vocab("kind", vocab.STATION_KINDS),
                Field("hours", max_len=100),
                Field("address", max_len=200, in_tiles=False),
                *_OWNERS,
                Field("contact_name", max_len=50, visibility=PERSONAL, mask="name"),
                Field("contact_phone", max_len=30, visibility=PERSONAL, mask="phone"),
            ),
            id_field="id",
            owned=True,
            grid_code_sql="g.code",
            tables=("grids", "units"),
            min_zoom=10,
            style=Style("#8e44ad"),
            popup=("name", "kind", "hours", "address", "grid_code"),
        ),
        Layer(
            id="gazetteer",
            label="地名地址",
            title="地名地址 gazetteer",
            description="Named places for geocoding (gis/geocode): the hierarchy, roads and house "
            "numbers, 村民小组, buildings, landmarks, named areas, and other names of places "
            "(former names, short names, common miswritings) with the dates they held",
            table="gazetteer",
            joins="LEFT JOIN gazetteer p ON p.id = t.parent_id "
            "LEFT JOIN gazetteer a ON a.id = t.alias_of",
            geometry=("Point", *POLYGONAL),  # a polygon is kept, and its inner point served
            fields=(
                Field("code", required=True, max_len=40, queryable=True),
                Field("name", required=True, max_len=100, queryable=True),
                _vocab("level", GAZETTEER_LEVELS),
                Field("kind", max_len=40, queryable=True),
                Field("number", max_len=20, description="a house, group or building number"),
                Field("parent_code", "p.code", max_len=40, queryable=True),
                Field("alias_of", "a.code", max_len=40, description="the place this names"),
                Field("valid_from", kind="date"),
                Field("valid_to", kind="date"),
            ),
            id_field="code",
            min_zoom=15,  # house numbers: a street's worth per tile
            style=Style("#7d3c98"),
            popup=("name", "level", "number", "parent_code", "alias_of"),
        ),
    )
}

# The analysts' computed layers (issue 13): written by gis/stats (hotspots.publish,
# coverage.refresh), never imported; every field is derived (kind=None) and public: hotspot
# classes are aggregates, and case counts are stored as the public may see them.
_CURRENT_GRID = "EXISTS (SELECT 1 FROM grids g0 WHERE g0.id = t.grid_id AND g0.valid_to IS NULL)"


def _number(name: str, description: str = "", json_type: str = "number") -> Field:
    return Field(name, kind=None, type=json_type, description=description)


def _hotspot_layer(layer_id: str, subject: str, label: str, title: str, style: Style) -> Layer:
    return Layer(
        id=layer_id,
        label=label,
        title=f"{label} {title}",
        description=f"{title} per grid: local Gi* and Moran's I of the rate per km², "
        "permutation p-values (the last published analysis)",
        table="grid_hotspots",
        joins="JOIN grids g ON g.id = t.grid_id",
        where=f"t.subject = '{subject}' AND {_CURRENT_GRID}",  # constants of this module
        geometry=POLYGONAL,
        fields=(
            Field("code", kind=None, queryable=True, description="the grid"),
            Field("name", "g.name", None),
            Field("category", kind=None, description="the case category analysed (all: null)"),
            Field("period_from", kind=None, type="date-time"),
            Field("period_to", kind=None, type="date-time"),
            _number("n", "count in the grid (null: withheld, 1 to k-1)", "integer"),
            _number("rate", "count per km²"),
            _number("neighbours", "queen-contiguous grids", "integer"),
            _number("gi_z", "Getis-Ord Gi* z-score"),
            _number("gi_p", "Gi* permutation pseudo p-value"),
            Field("gi_class", kind=None, queryable=True, description="hot/cold_99|95|90, ns"),
            _number("moran_i", "local Moran's I"),
            _number("moran_p", "local Moran permutation pseudo p-value"),
            Field("moran_class", kind=None, queryable=True, description="HH, LH, LL, HL, ns"),
            _number("permutations", json_type="integer"),
            _number("seed", json_type="integer"),
            Field("computed_at", kind=None, type="date-time"),
        ),
        id_field="code",
        tables=("grids",),
        min_zoom=10,
        style=style,
        popup=("name", "code", "gi_class", "gi_z", "gi_p", "moran_class", "n", "rate"),
    )


def _coverage_fields() -> tuple[Field, ...]:
    out = [_number(f"{k}_m", f"metres to the nearest {k}") for k in vocab.STATION_KINDS]
    for k in vocab.STATION_KINDS:
        for what, of in (("area", "the grid's area"), ("units", "the grid's units")):
            out += [
                _number(f"{k}_{what}_{r}", f"share of {of} within {r} m of a {k}")
                for r in (300, 500, 1000)  # GB 50180-2018's radii (gis/stats/coverage.RADII)
            ]
    return tuple(out)


ANALYSIS_LAYERS = (
    _hotspot_layer(
        "case_hotspots",
        "cases",
        "案件热点",
        "case hotspots",
        Style("#922b21", 0.6, "#e74c3c", 0.45),
    ),
    _hotspot_layer(
        "waterlogging_hotspots",
        "waterlogging",
        "内涝热点",
        "waterlogging hotspots",
        Style("#1a5276", 0.6, "#5dade2", 0.45),
    ),
    Layer(
        id="coverage",
        label="服务覆盖",
        title="服务覆盖 service coverage",
        description="Per current grid and station kind: straight-line metres to the nearest "
        "station and the shares of area and units within 300, 500 and 1,000 m (GB 50180-2018)",
        table="grid_coverage",  # a view over area_coverage (migration 0010)
        geometry=POLYGONAL,
        fields=(
            Field("code", kind=None, queryable=True),
            Field("name", kind=None),
            Field("method", kind=None, description="straight-line (no road layer) or network"),
            Field("computed_at", kind=None, type="date-time"),
            *_coverage_fields(),
        ),
        id_field="code",
        tables=("grids", "area_coverage"),
        min_zoom=10,
        style=Style("#117a65", 0.6, "#76d7c4", 0.35),
        popup=("name", "code", "method", "party_service_center_m", "convenience_point_m"),
    ),
)
LAYERS.update((layer.id, layer) for layer in ANALYSIS_LAYERS)

BOUNDARY_LAYERS = tuple(k for k, v in LAYERS.items() if v.level)
THEMATIC_LAYERS = tuple(k for k, v in LAYERS.items() if not v.level)


def get_layer(layer_id: str) -> Layer:
    """The registry entry of `layer_id`, or UnknownLayer naming the layers there are."""
    try:
        return LAYERS[layer_id]
    except KeyError:
        raise UnknownLayer(
            f"unknown layer {layer_id[:60]!r}: use one of {', '.join(LAYERS)}"
        ) from None
