"""The registry service over HTTP: answers mirrored locally, every failure a clear domain error.

Tested against httpx.MockTransport and, for timeouts and connections, a real local server.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.settings import load_app_settings
from etle.cases.matching import match_plate
from etle.errors import ConfigError
from etle.registry.backend import registry_for
from etle.registry.lookup import DatabaseRegistry
from etle.registry.models import Owner, Vehicle
from etle.registry.remote import RegistryServiceClient, RegistryUnavailable, ServiceRegistry

RECORD = {
    "plate": "B 1234 ABC",
    "vehicle_type": "car",
    "brand": "Toyota",
    "model": "Avanza",
    "colour": "merah",
    "year": 2019,
    "vin": "MHFM1BA3JK1234567",
    "registration_valid_until": "2029-08-31",
    "owner_name": "Budi Santoso",
    "nik": "3171010101800001",
    "address": "Jl. Kebon Sirih 12, Jakarta",
    "postcode": "10340",
    "email": "budi@example.id",
    "phone": "+6281211110001",
}


def service(handler: Callable[[httpx.Request], httpx.Response]) -> RegistryServiceClient:
    return RegistryServiceClient(
        "https://regident.example.id/api",
        token="t0ken-for-tests",
        timeout_seconds=2,
        transport=httpx.MockTransport(handler),
    )


def known(*records: dict[str, object]) -> Callable[[httpx.Request], httpx.Response]:
    by_plate = {str(r["plate"]).replace(" ", ""): r for r in records}

    def answer(request: httpx.Request) -> httpx.Response:
        asked = json.loads(request.content)["plates"]
        return httpx.Response(200, json={"vehicles": [by_plate[p] for p in asked if p in by_plate]})

    return answer


def test_a_known_plate_is_answered_and_mirrored_into_the_local_tables(session: Session) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return known(RECORD)(request)

    registry = ServiceRegistry(session, service(handler))
    found = registry.find("B1234ABC")
    assert found is not None
    assert (found.plate, found.vehicle_class, found.registration_valid_until) == (
        "B1234ABC",
        "passenger_car",
        date(2029, 8, 31),
    )
    vehicle = session.get_one(Vehicle, found.vehicle_id)
    assert session.get_one(Owner, vehicle.owner_id).name == "Budi Santoso"
    assert seen[0].url.path == "/api/vehicles/lookup"
    assert seen[0].headers["authorization"] == "Bearer t0ken-for-tests"
    assert json.loads(seen[0].content) == {"plates": ["B1234ABC"]}

    again = registry.find("B1234ABC")  # asked again: the same local rows, nothing duplicated
    assert again is not None
    assert again.vehicle_id == found.vehicle_id
    assert len(list(session.scalars(select(Vehicle).where(Vehicle.plate == "B1234ABC")))) == 1


def test_an_unknown_plate_is_none(session: Session) -> None:
    assert ServiceRegistry(session, service(known(RECORD))).find("D1A") is None


def test_look_alike_candidates_come_from_the_service_too(session: Session) -> None:
    registered = {**RECORD, "plate": "B 1230 AB"}
    match = match_plate(
        ServiceRegistry(session, service(known(registered))),
        plate="B123OAB",
        on=date(2026, 11, 20),
    )
    assert match.record is None
    assert [c["plate"] for c in match.candidates] == ["B1230AB"]


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (httpx.Response(500), "answered HTTP 500"),
        (httpx.Response(401), r"refused our credentials \(HTTP 401\)"),
        (httpx.Response(200, text="<html>"), "not JSON"),
        (httpx.Response(200, json={"cars": []}), "no 'vehicles' list"),
        (httpx.Response(200, json={"vehicles": ["B1234ABC"]}), "vehicle 0 is not an object"),
        (
            httpx.Response(200, json={"vehicles": [{**RECORD, "nik": "12"}]}),
            "vehicle 0 is not valid: nik must be 16 digits",
        ),
    ],
)
def test_bad_answers_become_a_clear_domain_error(
    session: Session, answer: httpx.Response, message: str
) -> None:
    registry = ServiceRegistry(session, service(lambda _request: answer))
    with pytest.raises(RegistryUnavailable, match=message) as info:
        registry.find("B1234ABC")
    assert info.value.status_code == 503
    assert session.scalars(select(Vehicle)).first() is None


def test_a_timeout_is_a_clear_domain_error() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(RegistryUnavailable, match="did not answer within 2 s"):
        service(slow).fetch(["B1234ABC"])


class _Server:
    """A registry service on a free local port: answers after `delay` seconds."""

    def __init__(self, delay: float) -> None:
        delay_ = delay

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
                asked = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                time.sleep(delay_)
                body = json.dumps(
                    {"vehicles": [RECORD] if "B1234ABC" in asked["plates"] else []}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def slow_server() -> Iterator[_Server]:
    server = _Server(delay=1.0)
    yield server
    server.close()


@pytest.fixture
def quick_server() -> Iterator[_Server]:
    server = _Server(delay=0)
    yield server
    server.close()


def test_over_real_http_an_answer_arrives_and_a_slow_service_times_out(
    quick_server: _Server, slow_server: _Server
) -> None:
    [row] = RegistryServiceClient(quick_server.url, timeout_seconds=2).fetch(["B1234ABC"])
    assert row.vehicle.plate == "B1234ABC"
    started = time.perf_counter()
    with pytest.raises(RegistryUnavailable, match="did not answer within 0.2 s"):
        RegistryServiceClient(slow_server.url, timeout_seconds=0.2).fetch(["B1234ABC"])
    assert time.perf_counter() - started < 0.9


def test_a_service_that_is_down_is_a_clear_domain_error(quick_server: _Server) -> None:
    url = quick_server.url
    quick_server.close()  # nothing listens on that port any more
    with pytest.raises(RegistryUnavailable, match="cannot reach the registry service"):
        RegistryServiceClient(url, timeout_seconds=1).fetch(["B1234ABC"])


def test_settings_choose_the_implementation(session: Session) -> None:
    assert isinstance(registry_for(session, load_app_settings()), DatabaseRegistry)
    remote = load_app_settings(
        registry_backend="http", registry_url="https://regident.example.id/api"
    )
    assert isinstance(registry_for(session, remote), ServiceRegistry)
    with pytest.raises(ConfigError, match="needs ETLE_REGISTRY_URL"):
        load_app_settings(registry_backend="http")
    with pytest.raises(ConfigError, match="REGISTRY_TOKEN"):
        load_app_settings(registry_token="changeme")
