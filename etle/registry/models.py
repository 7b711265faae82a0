from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from etle.clock import utcnow
from etle.db import Base, BigId, UTCDateTime


class Owner(Base):
    __tablename__ = "owners"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    nik: Mapped[str | None] = mapped_column(String(16), index=True)
    # One line for people ("street, district, city"); the parts below are what a postal
    # service's import expects, column by column (the print batch's manifest).
    address: Mapped[str] = mapped_column(String(400), default="")
    street: Mapped[str] = mapped_column(String(200), default="")
    district: Mapped[str] = mapped_column(String(100), default="")  # kecamatan
    city: Mapped[str] = mapped_column(String(100), default="")  # kota / kabupaten
    postcode: Mapped[str] = mapped_column(String(10), default="")
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    # Language of the notices: None means Bahasa Indonesia; "en" for English.
    language: Mapped[str | None] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Vehicle(Base):
    __tablename__ = "vehicles"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    plate: Mapped[str] = mapped_column(String(16), unique=True)  # canonical: B1234ABC
    vehicle_class: Mapped[str] = mapped_column(String(32))
    brand: Mapped[str] = mapped_column(String(100), default="")
    model: Mapped[str] = mapped_column(String(100), default="")
    colour: Mapped[str] = mapped_column(String(50), default="")
    year: Mapped[int | None] = mapped_column(Integer)
    vin: Mapped[str | None] = mapped_column(String(32), index=True)
    engine_number: Mapped[str | None] = mapped_column(String(32))
    registration_valid_until: Mapped[date | None] = mapped_column(Date)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id"), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    owner: Mapped[Owner] = relationship(lazy="raise")


class Ownership(Base):
    """Who owned a vehicle when: a reported sale closes one row and opens the next."""

    __tablename__ = "ownerships"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id"), index=True)
    # None: since before the registry was first imported (the real date is not known).
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # import (a registry file), registry_service, sale_reported (by the owner, dates real)
    source: Mapped[str] = mapped_column(String(50), default="import")
