"""Adding flags to a case after it was opened (a later frame, a sighting elsewhere), audited.

Flags only ever accumulate: an officer reads them and decides; nothing removes one quietly.
`flag_details` keeps, per flag, what it rests on (e.g. the two sightings behind a suspected
clone), so the officer sees why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from etle.audit.chain import jsonable, record
from etle.cases.models import Case, CaseFlag


def add_flags(
    session: Session,
    case: Case,
    flags: Iterable[CaseFlag],
    *,
    actor: str,
    details: Mapping[CaseFlag, dict[str, Any]] | None = None,
) -> bool:
    """Add flags (and a detail entry per flag) the case lacks; returns whether anything changed."""
    before = list(case.flags or [])
    flag_list = list(before)
    stored: dict[str, Any] = dict(case.flag_details or {})
    added_details: dict[str, Any] = {}
    for flag in flags:
        if flag.value not in flag_list:
            flag_list.append(flag.value)
    for flag, detail in (details or {}).items():
        if flag.value not in flag_list:
            flag_list.append(flag.value)
        entry = jsonable(detail)
        entries = list(stored.get(flag.value, []))
        if entry not in entries:
            stored[flag.value] = [*entries, entry]
            added_details[flag.value] = entry
    if flag_list == before and not added_details:
        return False
    case.flags = flag_list
    case.flag_details = stored
    session.flush()
    after: dict[str, Any] = {"flags": flag_list}
    if added_details:
        after["details"] = added_details
    record(
        session,
        actor=actor,
        action="case.flagged",
        entity_type="case",
        entity_id=case.id,
        before={"flags": before},
        after=after,
    )
    return True
