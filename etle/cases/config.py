"""Review queue settings (prefix `ETLE_`)."""

from __future__ import annotations

from pydantic import Field

from etle.config import Settings


class ReviewSettings(Settings):
    # How long a claimed case stays with one officer before it returns to the queue.
    review_lease_seconds: int = Field(default=600, ge=30, le=7200)
    # Service level: a notice within this many days of capture.
    notice_target_days: int = Field(default=3, ge=1, le=60)
    # A waiting case whose service-level deadline is this close is "at risk".
    at_risk_hours: int = Field(default=24, ge=1)
