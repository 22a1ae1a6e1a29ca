"""The published OSM layers. The importer writes them with COPY and set-based SQL
(matching_and_import_db.osm.publish); these declarations are for the migrations."""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, Computed, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class OsmRoad(db.Model):
    __tablename__ = "osm_roads"

    osm_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    highway: Mapped[str] = mapped_column(String(50))
    name: Mapped[str | None] = mapped_column(Text)
    oneway: Mapped[str | None] = mapped_column(String(20))
    maxspeed: Mapped[str | None] = mapped_column(String(50))
    surface: Mapped[str | None] = mapped_column(String(50))
    zone_traffic: Mapped[str | None] = mapped_column(String(50))
    # cycleway, cycleway:left, cycleway:right, cycleway:both and their sub-keys
    cycleway: Mapped[dict] = mapped_column(JSONB, default=dict)
    # who may ride or drive there: footway, sidewalk*, access, vehicle, motor_vehicle,
    # bicycle, foot, psv, bus, service, segregated, motorroad, oneway:bicycle
    # (reader.ACCESS_KEYS), as tagged
    access: Mapped[dict] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    geom = mapped_column(Geometry("LINESTRING", srid=4326, spatial_index=True), nullable=False)
    # Tiles query in web mercator; a stored generated column keeps it in step with geom.
    geom_3857 = mapped_column(
        Geometry("LINESTRING", srid=3857, spatial_index=True),
        Computed("ST_Transform(geom, 3857)", persisted=True),
    )


class OsmStop(db.Model):
    __tablename__ = "osm_stops"

    osm_type: Mapped[str] = mapped_column(String(1), primary_key=True)  # n | w
    osm_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(30))
    name: Mapped[str | None] = mapped_column(Text)
    ref: Mapped[str | None] = mapped_column(Text)
    uic_ref: Mapped[str | None] = mapped_column(Text)
    ref_ifopt: Mapped[str | None] = mapped_column(Text)
    ref_sloid: Mapped[str | None] = mapped_column(Text)
    local_ref: Mapped[str | None] = mapped_column(Text)
    operator: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[dict] = mapped_column(JSONB, default=dict)
    # the public_transport=stop_area relations the stop is a member of (stop matching
    # groups them into one stop)
    stop_areas: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), default=list,
                                                  server_default="{}")
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=False)
    geom_3857 = mapped_column(
        Geometry("POINT", srid=3857, spatial_index=True),
        Computed("ST_Transform(geom, 3857)", persisted=True),
    )
