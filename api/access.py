"""Who may call a route, stated on every route as a dependency, so the authorisation test
(tests/api/test_authorization.py) can read each route's rule.

* `PublicRoute`: anyone on the internet (citizens): answers only what is safe to show anyone.
* `SignedWebhook`-style dependencies live with their routers: the caller proves itself with a
  signature over the body, not a login.
* `AdministratorOnly`: an officer whose role may manage notices (administrators); the
  dependency gives the officer's actor name for the audit trail.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from api.security import officer_auth
from etle.officers.access import Permission
from etle.officers.models import Officer


async def public_route() -> None:
    """No credential: the route is for everyone. (async: nothing to wait for, so no trip
    through the thread pool.)"""


async def require_administrator(
    officer: Annotated[Officer, Depends(officer_auth(Permission.MANAGE_NOTICES))],
) -> str:
    """The administrator's actor name (`officer:<username>`), for the audit trail."""
    return officer.actor


PublicRoute = Depends(public_route)
AdministratorOnly = Annotated[str, Depends(require_administrator)]
