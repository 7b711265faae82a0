"""Settings of the running service itself (prefix `ETLE_`): metrics, logs, readiness."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator

from etle.config import Settings, refuse_placeholder


class ServingSettings(Settings):
    # Bearer token Prometheus sends to scrape `/metrics`. Unset: `/metrics` answers 404, so a
    # server facing the internet shows nothing about itself unless asked to.
    metrics_token: SecretStr | None = None
    # `json`: one JSON object per line (log shippers); `text`: one readable line (a terminal).
    log_format: Literal["json", "text"] = "json"
    # `/readyz` answers 503 when the data directory has less free space than this: a full disk
    # would refuse every frame, so the load balancer should stop sending them here first.
    min_free_disk_mb: int = Field(default=1024, ge=0)
    # Requests one API process serves at once, shared out among lanes (api/admission.py);
    # past a lane's share a request is answered 503 with Retry-After at once. The thread pool
    # and the database pool of the process are sized to it (api/runtime.py).
    requests_at_once: int = Field(default=32, ge=8, le=512)
    # A connection that has not sent a whole request head within this many seconds of opening
    # (or of starting its next request) is closed: slow and half-open clients (api/protocol.py).
    header_timeout_seconds: float = Field(default=10.0, gt=0, le=300)

    @field_validator("metrics_token")
    @classmethod
    def _token(cls, value: SecretStr | None) -> SecretStr | None:
        value = refuse_placeholder(value, "ETLE_METRICS_TOKEN")
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("ETLE_METRICS_TOKEN must be at least 16 characters")
        return value
