"""Police officers who review cases, their roles, and the login attempts that rate-limit them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from etle.clock import utcnow
from etle.db import Base, BigId, UTCDateTime


class Role(StrEnum):
    REVIEWER = "reviewer"
    SUPERVISOR = "supervisor"
    ADMINISTRATOR = "administrator"


class Officer(Base):
    __tablename__ = "officers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[Role] = mapped_column(String(16))
    # argon2 hash; empty for accounts that cannot log in (e.g. the demo officer).
    password_hash: Mapped[str] = mapped_column(String(200), default="")
    # An officer's own NIK, so they are never given a case about their own vehicle.
    nik: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Every token and console session carries this number; disabling the officer or resetting
    # the password increments it, so everything issued before stops working at once.
    auth_version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))

    @property
    def actor(self) -> str:
        return f"officer:{self.username}"


class LoginAttempt(Base):
    """One attempt at something rate-limited, kept in the database so the limit holds across
    API processes: officer sign-ins (`purpose` login), and the public portal's lookups,
    verifications and scam reports (see `etle.ratelimit`)."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_at", "username", "attempted_at"),
        Index("ix_login_attempts_address_at", "address", "attempted_at"),
        Index("ix_login_attempts_purpose_address_at", "purpose", "address", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # As typed (lower-cased): unknown usernames are limited like known ones.
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))  # client IP address
    succeeded: Mapped[bool] = mapped_column(Boolean)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What was attempted (etle.ratelimit.Purpose). For the portal, `username` holds a keyed
    # hash of what was asked about (a plate), never the plate itself.
    purpose: Mapped[str] = mapped_column(String(16), default="login", server_default="login")
