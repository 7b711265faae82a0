"""What each role may do: one table, checked by the API and again by the services.

Separation of duties: administrators manage accounts but never decide cases; reviewers decide
cases but never see other officers' records; supervisors take escalations, watch overrides and
the numbers.

A leaf: it imports only the officer model, so every service (cases, catalogue, officers) can
check a permission without importing another service.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from etle.errors import Forbidden, Unauthorized
from etle.officers.models import Officer, Role


class Permission(StrEnum):
    REVIEW = "review"  # claim cases, confirm / correct / reject / escalate, second confirmations
    DECIDE_ESCALATED = "decide_escalated"
    SEE_OVERRIDES = "see_overrides"
    SEE_STATS = "see_stats"
    MANAGE_OFFICERS = "manage_officers"
    MANAGE_NOTICES = "manage_notices"  # print batches, hand-over, returned letters
    MANAGE_CATALOGUE = "manage_catalogue"  # violation catalogue, jurisdiction deadlines
    VOID_CASES = "void_cases"  # void a case at any stage, with a reason
    MONITOR_CAMERAS = "monitor_cameras"  # camera health: which cameras are down or drifting


GRANTS: Mapping[Role, frozenset[Permission]] = {
    Role.REVIEWER: frozenset({Permission.REVIEW}),
    Role.SUPERVISOR: frozenset(
        {
            Permission.REVIEW,
            Permission.DECIDE_ESCALATED,
            Permission.SEE_OVERRIDES,
            Permission.SEE_STATS,
            Permission.VOID_CASES,
            Permission.MONITOR_CAMERAS,
        }
    ),
    Role.ADMINISTRATOR: frozenset(
        {
            Permission.MANAGE_OFFICERS,
            Permission.MANAGE_NOTICES,
            Permission.MANAGE_CATALOGUE,
            Permission.MONITOR_CAMERAS,
        }
    ),
}


def allows(officer: Officer, permission: Permission) -> bool:
    return officer.active and permission in GRANTS.get(Role(officer.role), frozenset())


def require(officer: Officer, permission: Permission) -> None:
    if not officer.active:
        raise Unauthorized("officer account is disabled")
    if permission not in GRANTS.get(Role(officer.role), frozenset()):
        raise Forbidden(f"the {officer.role} role may not {permission.value.replace('_', ' ')}")
