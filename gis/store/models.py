"""ORM models of the store; the schema itself is created by the Alembic migrations."""

from __future__ import annotations

from datetime import date, datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    CHAR,
    REAL,
    BigInteger,
    Boolean,
    Computed,
    Date,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of OneMap's tables."""


# Generalised boundaries for low-zoom tiles (migration 0005).
LO = "ST_SimplifyPreserveTopology(geom, 0.0003)"


def _geom(kind: str) -> Geometry:
    return Geometry(kind, srid=4326, spatial_index=False)


class Region(Base):
    """A district, town/street or village/community, keyed by its 12-digit statistical code."""

    __tablename__ = "regions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    level: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(Text)
    parent_code: Mapped[str | None] = mapped_column(
        String(12), ForeignKey("regions.code", onupdate="CASCADE"), index=False
    )
    geom = mapped_column(_geom("MULTIPOLYGON"), nullable=False)
    geom_lo = mapped_column(_geom("GEOMETRY"), Computed(LO, persisted=True))
    label_point = mapped_column(_geom("POINT"), Computed("ST_PointOnSurface(geom)", persisted=True))
    __table_args__ = (
        Index("regions_geom_idx", "geom", postgresql_using="gist"),
        Index("regions_parent_idx", "parent_code"),
    )


class Grid(Base):
    """A grid (网格) of one plan generation; current rows have no valid_to."""

    __tablename__ = "grids"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(15))
    village_code: Mapped[str] = mapped_column(
        String(12), ForeignKey("regions.code", onupdate="CASCADE")
    )
    name: Mapped[str] = mapped_column(Text)
    leader_name: Mapped[str | None] = mapped_column(Text)
    leader_phone: Mapped[str | None] = mapped_column(Text)
    valid_from: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()")
    )
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    geom = mapped_column(_geom("MULTIPOLYGON"), nullable=False)
    label_point = mapped_column(_geom("POINT"), Computed("ST_PointOnSurface(geom)", persisted=True))
    geom_lo = mapped_column(_geom("GEOMETRY"), Computed(LO, persisted=True))
    __table_args__ = (
        UniqueConstraint("id", "code", name="grids_id_code_key"),
        Index(
            "grids_current_code_key", "code", unique=True, postgresql_where=text("valid_to IS NULL")
        ),
        Index("grids_geom_idx", "geom", postgresql_using="gist"),
        Index("grids_village_idx", "village_code"),
    )


class Unit(Base):
    """A unit (单元), the smallest governance area, inside one grid."""

    __tablename__ = "units"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(18))
    grid_id: Mapped[int] = mapped_column(Integer)
    grid_code: Mapped[str] = mapped_column(String(15))
    name: Mapped[str] = mapped_column(Text)
    leader_name: Mapped[str | None] = mapped_column(Text)
    leader_phone: Mapped[str | None] = mapped_column(Text)
    households: Mapped[int | None] = mapped_column(Integer)
    party_contacts: Mapped[int | None] = mapped_column(Integer)
    valid_from: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()")
    )
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    geom = mapped_column(_geom("MULTIPOLYGON"), nullable=False)
    geom_lo = mapped_column(_geom("GEOMETRY"), Computed(LO, persisted=True))
    __table_args__ = (
        ForeignKeyConstraint(
            ["grid_id", "grid_code"],
            ["grids.id", "grids.code"],
            name="units_grid_fkey",
            onupdate="CASCADE",
        ),
        Index(
            "units_current_code_key", "code", unique=True, postgresql_where=text("valid_to IS NULL")
        ),
        Index("units_geom_idx", "geom", postgresql_using="gist"),
        Index("units_grid_idx", "grid_id"),
    )


class _Owned:
    """Owner columns shared by the point layers."""

    grid_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("grids.id"))
    unit_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("units.id"))
    on_boundary: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    snap_distance_m: Mapped[float | None] = mapped_column(Float)


class Case(_Owned, Base):
    """A case (事件/案件): a resident report, dispute or hazard."""

    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    category: Mapped[str] = mapped_column(
        Text, ForeignKey("case_categories.code", onupdate="CASCADE")
    )
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default=text("'reported'::text"))
    reported_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()")
    )
    reporter_name: Mapped[str | None] = mapped_column(Text)
    reporter_phone: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(_geom("POINT"), nullable=True)  # none: filed by a vague address (0012)
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    source: Mapped[str] = mapped_column(Text, server_default=text("'import'::text"))
    address: Mapped[str | None] = mapped_column(Text)
    respond_by: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    close_by: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()")
    )
    # filed by address (migration 0012): how sure the place is, or that a person must place it
    geocode_precision: Mapped[str | None] = mapped_column(Text)
    geocode_score: Mapped[float | None] = mapped_column(REAL)
    needs_location: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    __table_args__ = (
        Index("cases_geom_idx", "geom", postgresql_using="gist"),
        Index("cases_needs_location_idx", "id", postgresql_where=text("needs_location")),
        Index("cases_category_idx", "category"),
        Index("cases_grid_idx", "grid_id"),
        Index("cases_reported_idx", "reported_at"),
        Index("cases_status_idx", "status"),
        # the queue (migration 0009): open cases by deadline, other sorts, free text
        Index(
            "cases_open_close_by_idx",
            "close_by",
            "id",
            postgresql_include=["status", "category", "grid_id", "unit_id"],
            postgresql_where=text(
                "status IN ('reported', 'registered', 'dispatched', 'in_progress', 'responded')"
            ),
        ),
        Index("cases_close_by_idx", "close_by", "id"),
        Index("cases_updated_idx", "updated_at", "id"),
        Index(
            "cases_text_trgm_idx",
            "title",
            "description",
            "address",
            postgresql_using="gin",
            postgresql_ops={c: "gin_trgm_ops" for c in ("title", "description", "address")},
        ),
    )


class Hotspot(_Owned, Base):
    """A waterlogging or hazard spot (内涝点/隐患点), point or polygon."""

    __tablename__ = "hotspots"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    risk_level: Mapped[str] = mapped_column(Text)
    last_inspected: Mapped[date | None] = mapped_column(Date)
    geom = mapped_column(_geom("GEOMETRY"), nullable=False)
    __table_args__ = (
        Index("hotspots_geom_idx", "geom", postgresql_using="gist"),
        Index("hotspots_grid_idx", "grid_id"),
    )


class Parcel(Base):
    """A demolition or illegal-building parcel (征迁/违建地块); owned by its largest share."""

    __tablename__ = "parcels"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    geom = mapped_column(_geom("MULTIPOLYGON"), nullable=False)
    grid_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("grids.id"))
    __table_args__ = (
        Index("parcels_geom_idx", "geom", postgresql_using="gist"),
        Index("parcels_grid_idx", "grid_id"),
    )


class Station(_Owned, Base):
    """A service station (党群服务中心, 便民服务点, 网格议事厅, ...)."""

    __tablename__ = "stations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    hours: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    contact_name: Mapped[str | None] = mapped_column(Text)
    contact_phone: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(_geom("POINT"), nullable=False)
    __table_args__ = (
        Index("stations_geom_idx", "geom", postgresql_using="gist"),
        Index("stations_grid_idx", "grid_id"),
    )


class ParcelShare(Base):
    """The part of a parcel inside one grid (m² and % of the parcel)."""

    __tablename__ = "parcel_shares"
    parcel_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("parcels.id", ondelete="CASCADE"), primary_key=True
    )
    grid_id: Mapped[int] = mapped_column(Integer, ForeignKey("grids.id"), primary_key=True)
    area_m2: Mapped[float] = mapped_column(Float)
    share_pct: Mapped[float] = mapped_column(Float)
    __table_args__ = (Index("parcel_shares_grid_idx", "grid_id"),)


class LayerVersion(Base):
    """A table's version, bumped by a trigger in the transaction of every change to it."""

    __tablename__ = "layer_versions"
    tbl: Mapped[str] = mapped_column(Text, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, server_default=text("1"))
    changed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()")
    )


class GridCaseCount(Base):
    """Cases per grid and status, kept by triggers on cases (for low-zoom tiles)."""

    __tablename__ = "grid_case_counts"
    grid_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("grids.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(Text, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)


class CaseCategory(Base):
    """A minor class (小类) of cases with its major class (大类) and deadlines in hours."""

    __tablename__ = "case_categories"
    code: Mapped[str] = mapped_column(Text, primary_key=True)
    major: Mapped[str] = mapped_column(Text)
    major_label: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(Text)
    respond_hours: Mapped[int] = mapped_column(Integer)
    close_hours: Mapped[int] = mapped_column(Integer)


class User(Base):
    """Someone who holds a bearer token (stored as its SHA-256) and a role."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    role: Mapped[str] = mapped_column(Text)
    grid_code: Mapped[str | None] = mapped_column(String(15))
    token_hash: Mapped[str] = mapped_column(CHAR(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()")
    )
    disabled: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    expires_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()")
    )


class CaseHistory(Base):
    """One transition of a case (append-only, enforced by a trigger)."""

    __tablename__ = "case_history"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id"))
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("clock_timestamp()")
    )
    actor: Mapped[str] = mapped_column(Text)
    actor_role: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    from_status: Mapped[str | None] = mapped_column(Text)
    to_status: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("case_history_case_idx", "case_id", "id"),)


class VillageCaseCount(Base):
    """Cases per village and status, kept by triggers on cases (for the lowest zooms)."""

    __tablename__ = "village_case_counts"
    village_code: Mapped[str] = mapped_column(
        String(12),
        ForeignKey("regions.code", onupdate="CASCADE", ondelete="CASCADE"),
        primary_key=True,
    )
    status: Mapped[str] = mapped_column(Text, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)


class GridHotspot(Base):
    """A published hotspot analysis (Gi*, local Moran's I) of one subject, per grid (0010)."""

    __tablename__ = "grid_hotspots"
    subject: Mapped[str] = mapped_column(Text, primary_key=True)
    grid_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("grids.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(15))
    category: Mapped[str | None] = mapped_column(Text)
    period_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    period_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    n: Mapped[int | None] = mapped_column(Integer)
    rate: Mapped[float | None] = mapped_column(Float)
    neighbours: Mapped[int] = mapped_column(Integer)
    gi_z: Mapped[float | None] = mapped_column(Float)
    gi_p: Mapped[float | None] = mapped_column(Float)
    gi_class: Mapped[str] = mapped_column(Text)
    moran_i: Mapped[float | None] = mapped_column(Float)
    moran_p: Mapped[float | None] = mapped_column(Float)
    moran_class: Mapped[str] = mapped_column(Text)
    permutations: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()")
    )
    geom = mapped_column(_geom("MULTIPOLYGON"), nullable=False)
    __table_args__ = (Index("grid_hotspots_geom_idx", "geom", postgresql_using="gist"),)


class AreaCoverage(Base):
    """Service coverage of a grid or unit by one station kind (GB 50180-2018 radii, 0010)."""

    __tablename__ = "area_coverage"
    level: Mapped[str] = mapped_column(Text, primary_key=True)
    area_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(18))
    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    method: Mapped[str] = mapped_column(Text)
    nearest_m: Mapped[float | None] = mapped_column(Float)
    area_300: Mapped[float] = mapped_column(Float)
    area_500: Mapped[float] = mapped_column(Float)
    area_1000: Mapped[float] = mapped_column(Float)
    units_300: Mapped[float | None] = mapped_column(Float)
    units_500: Mapped[float | None] = mapped_column(Float)
    units_1000: Mapped[float | None] = mapped_column(Float)
    computed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()")
    )
    __table_args__ = (Index("area_coverage_code_idx", "code"),)


class GazetteerEntry(Base):
    """A named place of the gazetteer (地名地址): a level, a point (and polygon), its parent,
    and for another name of a place the entry it names, with its dates (migration 0012)."""

    __tablename__ = "gazetteer"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(Text)
    kind: Mapped[str | None] = mapped_column(Text)
    number: Mapped[str | None] = mapped_column(Text)
    parent_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("gazetteer.id"))
    alias_of: Mapped[int | None] = mapped_column(Integer, ForeignKey("gazetteer.id"))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    norm: Mapped[str] = mapped_column(Text)
    bigrams: Mapped[list[str]] = mapped_column(ARRAY(Text))
    geom = mapped_column(_geom("POINT"), nullable=False)
    area = mapped_column(_geom("MULTIPOLYGON"))
    __table_args__ = (
        Index("gazetteer_bigrams_idx", "bigrams", postgresql_using="gin"),
        Index("gazetteer_geom_idx", "geom", postgresql_using="gist"),
        Index("gazetteer_parent_idx", "parent_id", "level"),
        Index("gazetteer_norm_idx", "norm"),
    )
