"""All settings of a running process: every package's settings in one validated object."""

from __future__ import annotations

from api.serving_config import ServingSettings
from camera_ingest.config import IngestSettings
from etle.cases.config import ReviewSettings
from etle.errors import ConfigError
from etle.officers.config import OfficerSettings
from etle.payments.config import PaymentSettings
from etle.portal.config import PortalSettings
from notices.config import NoticeSettings


class AppSettings(
    IngestSettings,
    NoticeSettings,
    OfficerSettings,
    ReviewSettings,
    PortalSettings,
    PaymentSettings,
    ServingSettings,
):
    pass


def load_app_settings(**overrides: object) -> AppSettings:
    try:
        return AppSettings(**overrides)  # type: ignore[arg-type]
    except ValueError as exc:  # pydantic ValidationError: one line per bad field
        lines = [str(exc).splitlines()[0]]
        errors = getattr(exc, "errors", None)
        if callable(errors):
            lines = [f"ETLE_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in errors()]
        raise ConfigError("invalid settings: " + "; ".join(lines)) from exc
