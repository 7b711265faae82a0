"""The national registry service over HTTP: the production option behind `RegistryLookup`.

The contract (one call, batched, because the matcher asks for a read and its look-alikes at
once):

    POST {ETLE_REGISTRY_URL}/vehicles/lookup        Authorization: Bearer {ETLE_REGISTRY_TOKEN}
    {"plates": ["B1234ABC", "B1234A8C"]}
    200 {"vehicles": [{"plate": "B 1234 ABC", "vehicle_type": "car", "owner_name": ..., ...}]}

Each vehicle carries the columns of an import file (`etle.registry.rows.COLUMNS`) and is
validated the same way; plates the service does not know are simply absent. What the service
returns is mirrored into the local tables (cases and notices point at local rows, and the
letter must keep saying what was true when it was sent), then answered from there.

Every failure becomes `RegistryUnavailable` (HTTP 503, retry later) with a one-line reason:
timeout, connection refused, credentials refused, an error status, or an answer we cannot use.
A recognition job that meets it fails and is retried by the queue; nothing half-matched is kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import httpx
from sqlalchemy.orm import Session

from etle.clock import utcnow
from etle.config import Settings
from etle.errors import ServiceUnavailable, ValidationFailed
from etle.registry.bulk import write_rows
from etle.registry.lookup import DatabaseRegistry, RegistryRecord
from etle.registry.rows import RegistryRow, validate_row

LOOKUP_PATH = "/vehicles/lookup"
MAX_PLATES = 100  # per request; the matcher asks for far fewer


class RegistryUnavailable(ServiceUnavailable):
    error = "registry_unavailable"


class RegistryServiceClient:
    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout_seconds: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Accept": "application/json", "User-Agent": "etle-backoffice"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.timeout_seconds = timeout_seconds
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(timeout_seconds),
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def fetch(self, plates: list[str]) -> list[RegistryRow]:
        rows: list[RegistryRow] = []
        for start in range(0, len(plates), MAX_PLATES):
            rows.extend(self._fetch(plates[start : start + MAX_PLATES]))
        return rows

    def _fetch(self, plates: list[str]) -> list[RegistryRow]:
        try:
            response = self._http.post(LOOKUP_PATH, json={"plates": plates})
        except httpx.TimeoutException as exc:
            raise RegistryUnavailable(
                f"the registry service did not answer within {self.timeout_seconds:g} s"
            ) from exc
        except httpx.TransportError as exc:
            raise RegistryUnavailable(
                f"cannot reach the registry service ({type(exc).__name__})"
            ) from exc
        if response.status_code in (401, 403):
            raise RegistryUnavailable(
                f"the registry service refused our credentials (HTTP {response.status_code}); "
                "check ETLE_REGISTRY_TOKEN"
            )
        if response.status_code != 200:
            raise RegistryUnavailable(f"the registry service answered HTTP {response.status_code}")
        return _parse(response)


def _parse(response: httpx.Response) -> list[RegistryRow]:
    try:
        body: Any = response.json()
    except ValueError as exc:
        raise RegistryUnavailable("the registry service answered with something not JSON") from exc
    vehicles = body.get("vehicles") if isinstance(body, dict) else None
    if not isinstance(vehicles, list):
        raise RegistryUnavailable("the registry service answer has no 'vehicles' list")
    rows = []
    for index, item in enumerate(vehicles):
        if not isinstance(item, dict):
            raise RegistryUnavailable(f"the registry service's vehicle {index} is not an object")
        raw = {str(k): "" if v is None else str(v).strip() for k, v in item.items()}
        try:
            rows.append(validate_row(index, raw))
        except ValidationFailed as exc:
            raise RegistryUnavailable(
                f"the registry service's vehicle {index} is not valid: {exc.message}"
            ) from exc
    return rows


class ServiceRegistry:
    """`RegistryLookup` answered by the registry service, mirrored into the local tables."""

    def __init__(self, session: Session, client: RegistryServiceClient) -> None:
        self.session = session
        self.client = client

    def find(self, plate: str) -> RegistryRecord | None:
        return self.find_many([plate]).get(plate)

    def find_many(self, plates: Iterable[str]) -> dict[str, RegistryRecord]:
        wanted = sorted(set(plates))
        if not wanted:
            return {}
        answered = {
            row.vehicle.plate: row
            for row in self.client.fetch(wanted)
            if row.vehicle.plate in wanted
        }
        write_rows(self.session, list(answered.values()), now=utcnow(), source="registry_service")
        return DatabaseRegistry(self.session).find_many(answered)


def client_for(settings: Settings) -> RegistryServiceClient:
    token = settings.registry_token.get_secret_value() if settings.registry_token else None
    return _client(settings.registry_url or "", token, settings.registry_timeout_seconds)


@lru_cache(maxsize=4)
def _client(url: str, token: str | None, timeout: float) -> RegistryServiceClient:
    # One client (one connection pool) per configuration, shared by a process's threads.
    return RegistryServiceClient(url, token=token, timeout_seconds=timeout)
