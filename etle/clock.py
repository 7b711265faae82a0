"""Time: stored in UTC (timezone-aware), shown in the camera's zone (default Asia/Jakarta)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

DEFAULT_ZONE = "Asia/Jakarta"

# Indonesian zone abbreviations people see on letters and pages.
_ZONE_LABELS = {
    "Asia/Jakarta": "WIB",
    "Asia/Pontianak": "WIB",
    "Asia/Makassar": "WITA",
    "Asia/Jayapura": "WIT",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def require_aware(value: datetime, what: str = "time") -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must carry a time zone (ISO 8601 with offset, e.g. +07:00)")
    return value.astimezone(UTC)


def local(value: datetime, zone: str = DEFAULT_ZONE) -> datetime:
    return require_aware(value).astimezone(ZoneInfo(zone))


def zone_label(zone: str) -> str:
    return _ZONE_LABELS.get(zone, zone)


def format_local(value: datetime, zone: str = DEFAULT_ZONE) -> str:
    """`22-11-2026 14:05:09 WIB`: the day-month-year order Indonesian readers expect."""
    return f"{local(value, zone):%d-%m-%Y %H:%M:%S} {zone_label(zone)}"
