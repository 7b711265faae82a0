"""Public portal settings (prefix `ETLE_`)."""

from __future__ import annotations

from pydantic import Field

from etle.config import Settings


class PortalSettings(Settings):
    # How long a successful lookup opens the notice (cookie or bearer token), in minutes.
    portal_session_minutes: int = Field(default=30, ge=5, le=240)
    # Rate limits of the public portal, per sliding window: failed lookups per client address
    # and per plate asked about (from any address), failed verification codes per address,
    # scam reports per address.
    portal_window_seconds: int = Field(default=900, ge=60, le=86400)
    portal_max_failures_per_address: int = Field(default=10, ge=1)
    # Misses about one plate from every address together, within their own (longer) window.
    # Past it the plate's notices open only with the letter's verification code as well, so
    # an attacker can slow the guessing of notice numbers to a crawl without ever locking the
    # owner out (docs/portal.md, "Why guessing is hopeless").
    portal_max_failures_per_plate: int = Field(default=10, ge=1)
    portal_plate_window_seconds: int = Field(default=86400, ge=60, le=30 * 86400)
    portal_max_reports_per_address: int = Field(default=5, ge=1)
