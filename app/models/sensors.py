"""Sensors: the device registry and the time series the MQTT subscriber writes
(matching_and_import_db.live.sensor_store, in batches); these declarations are for the
migrations."""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, Computed, DateTime, Float, Identity, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class SensorDevice(db.Model):
    """A device of the registry: its name, kind, position and the unit of each measurement."""

    __tablename__ = "sensor_devices"

    device_id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text, server_default="sensor")
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=True)
    geom_3857 = mapped_column(Geometry("POINT", srid=3857, spatial_index=True),
                              Computed("ST_Transform(geom, 3857)", persisted=True))
    units: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SensorMeasurement(db.Model):
    __tablename__ = "sensor_measurements"

    device_id: Mapped[str] = mapped_column(Text, primary_key=True)
    measurement: Mapped[str] = mapped_column(Text, primary_key=True)
    measured_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    value: Mapped[float] = mapped_column(Float)


class SensorSignal(db.Model):
    """Radio diagnostics of an uplink, one row per gateway that heard it."""

    __tablename__ = "sensor_signals"

    device_id: Mapped[str] = mapped_column(Text, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    gateway: Mapped[str] = mapped_column(Text, primary_key=True)
    rssi: Mapped[float | None] = mapped_column(Float)
    snr: Mapped[float | None] = mapped_column(Float)


class SensorInvalidMessage(db.Model):
    """A message the subscriber could not use, with why, for operators."""

    __tablename__ = "sensor_invalid_messages"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                  server_default=func.now(), index=True)
    topic: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)
