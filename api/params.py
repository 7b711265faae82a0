"""Bounds on what a URL may carry, so that no number or date reaches the database that it
cannot hold (issue 17: a case id past 64 bits, or the year 1 shifted to UTC, answered 500).

* Record numbers are 64-bit on PostgreSQL (BIGINT) and SQLite alike: 1 to 2**63 - 1. A larger
  one can name nothing; it is refused with 422 like any malformed parameter.
* Times carry an offset and lie between 2000 and 2100: the service records nothing outside
  those years, and the bounds keep every zone shift inside what `datetime` can hold.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator

RECORD_ID_MAX = 2**63 - 1
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def sane_time(value: datetime) -> datetime:
    """The time in UTC, if it has an offset and lies within 2000-2099; ValueError otherwise."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("the time must carry an offset (ISO 8601, e.g. 2026-11-25T10:15:00+07:00)")
    # The wall-clock year first: the year 1 at +07:00 has no UTC equivalent to convert to.
    if not EARLIEST.year - 1 <= value.year <= LATEST.year:
        raise ValueError("the time must lie between the years 2000 and 2099")
    utc = value.astimezone(UTC)
    if not EARLIEST <= utc < LATEST:
        raise ValueError("the time must lie between the years 2000 and 2099")
    return utc


CaseId = Annotated[int, Path(ge=1, le=RECORD_ID_MAX, description="the case's number")]
SaneTime = Annotated[datetime, AfterValidator(sane_time)]
