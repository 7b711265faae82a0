"""Officer sign-in settings (prefix `ETLE_`)."""

from __future__ import annotations

from pydantic import Field

from etle.config import Settings


class OfficerSettings(Settings):
    # API access tokens are short-lived: a stolen token is worth minutes, not a shift.
    officer_token_minutes: int = Field(default=15, ge=1, le=120)
    # A console session lasts one shift at most.
    console_session_hours: int = Field(default=8, ge=1, le=24)
    # Failed logins allowed per username, and per client address, within the window.
    login_max_failures: int = Field(default=5, ge=1)
    login_max_failures_per_address: int = Field(default=30, ge=1)
    login_window_seconds: int = Field(default=900, ge=60)
