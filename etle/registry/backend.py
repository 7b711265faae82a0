"""Which registry answers: the local database or the registry service (`ETLE_REGISTRY_BACKEND`).

Its own module so that neither implementation imports the other's chooser: `remote` builds on
`lookup` (it mirrors the service's answers into the local tables and reads them back).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from etle.config import Settings
from etle.registry.lookup import DatabaseRegistry, RegistryLookup
from etle.registry.remote import ServiceRegistry, client_for


def registry_for(session: Session, settings: Settings) -> RegistryLookup:
    if settings.registry_backend == "http":
        return ServiceRegistry(session, client_for(settings))
    return DatabaseRegistry(session)
