"""What each importable layer holds: table, geometry types, fields, vocabularies, codes.

This is the spatial core's view of the layers (for import, export and checks); the
rendering catalogue in layers/ builds on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gis.errors import UnknownLayer
from gis.registry import vocab

POLYGONAL = ("Polygon", "MultiPolygon")


@dataclass(frozen=True)
class Field:
    """One attribute of a layer as it appears in files."""

    name: str
    kind: str = "text"  # text | int | date | datetime | vocab
    required: bool = False
    max_len: int | None = None
    vocabulary: dict[str, str] | None = None
    default: object = None
    personal: bool = False


@dataclass(frozen=True)
class LayerSpec:
    """An importable layer."""

    name: str
    table: str
    geometry: tuple[str, ...]
    fields: tuple[Field, ...]
    level: str | None = None  # the code level of boundary layers
    owned: bool = False  # gets its owning grid (and unit) on import
    label: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def personal_fields(self) -> list[str]:
        return [f.name for f in self.fields if f.personal]


def _boundary(name: str, level: str, label: str, *more: Field) -> LayerSpec:
    fields = (
        Field("code", required=True),
        Field("name", required=True, max_len=100),
        Field("parent_code"),  # derived from the code when absent
        *more,
    )
    table = "regions" if level in ("district", "town", "village") else name
    return LayerSpec(name, table, POLYGONAL, fields, level=level, label=label)


_LEADER = (
    Field("leader_name", max_len=50, personal=True),
    Field("leader_phone", max_len=30, personal=True),
)

LAYERS: dict[str, LayerSpec] = {
    spec.name: spec
    for spec in (
        _boundary("districts", "district", "区县"),
        _boundary("towns", "town", "镇/街道"),
        _boundary("villages", "village", "村/社区"),
        _boundary("grids", "grid", "网格", *_LEADER),
        _boundary(
            "units",
            "unit",
            "单元",
            *_LEADER,
            Field("households", "int"),
            Field("party_contacts", "int"),
        ),
        LayerSpec(
            "cases",
            "cases",
            ("Point",),
            (
                Field("category", "vocab", required=True, vocabulary=vocab.CASE_CATEGORIES),
                Field("title", required=True, max_len=200),
                Field("description", max_len=5000),
                Field("status", "vocab", vocabulary=vocab.CASE_STATUSES, default="reported"),
                Field("reported_at", "datetime", required=True),
                Field("reporter_name", max_len=50, personal=True),
                Field("reporter_phone", max_len=30, personal=True),
            ),
            owned=True,
            label="事件/案件",
        ),
        LayerSpec(
            "hotspots",
            "hotspots",
            ("Point", *POLYGONAL),
            (
                Field("name", required=True, max_len=100),
                Field("kind", "vocab", required=True, vocabulary=vocab.HOTSPOT_KINDS),
                Field("risk_level", "vocab", required=True, vocabulary=vocab.RISK_LEVELS),
                Field("last_inspected", "date"),
            ),
            owned=True,
            label="内涝点/隐患点",
        ),
        LayerSpec(
            "parcels",
            "parcels",
            POLYGONAL,
            (
                Field("code", required=True, max_len=40),
                Field("name", required=True, max_len=100),
                Field("kind", "vocab", required=True, vocabulary=vocab.PARCEL_KINDS),
                Field("status", "vocab", required=True, vocabulary=vocab.PARCEL_STATUSES),
            ),
            owned=True,
            label="征迁/违建地块",
        ),
        LayerSpec(
            "stations",
            "stations",
            ("Point",),
            (
                Field("name", required=True, max_len=100),
                Field("kind", "vocab", required=True, vocabulary=vocab.STATION_KINDS),
                Field("hours", max_len=100),
                Field("address", max_len=200),
                Field("contact_name", max_len=50, personal=True),
                Field("contact_phone", max_len=30, personal=True),
            ),
            owned=True,
            label="服务站点",
        ),
    )
}

BOUNDARY_LAYERS = ("districts", "towns", "villages", "grids", "units")
THEMATIC_LAYERS = ("cases", "hotspots", "parcels", "stations")


def get_layer(name: str) -> LayerSpec:
    """The spec of layer `name`, or UnknownLayer naming the layers there are."""
    try:
        return LAYERS[name]
    except KeyError:
        raise UnknownLayer(f"unknown layer {name!r}: use one of {', '.join(LAYERS)}") from None
