"""API fixtures: a client on the suite's runtime (`rt`, tests/conftest.py), officers with
tokens."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Runtime
from etle.cases.models import Case
from etle.db import session_scope
from etle.frames.models import PlateRead
from etle.officers import passwords
from etle.officers.models import Officer, Role
from etle.officers.tokens import Audience, issue
from tests import factories
from tests.conftest import REPO
from tests.live_server import serving

SAMPLES = REPO / "sample_frames"
PASSWORD = "Tilang-elektronik-2026"


@pytest.fixture(autouse=True)
def quick_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap argon2 parameters for API tests (the real ones cost ~0.3 s a hash here);
    tests/etle/officers/test_officers.py checks the production parameters themselves."""
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))


@pytest.fixture
def client(rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(rt)) as test_client:
        yield test_client


@pytest.fixture
def live_url(rt: Runtime) -> Iterator[str]:
    with serving(create_app(rt)) as url:
        yield url


def bearer(rt: Runtime, officer: Officer) -> dict[str, str]:
    token, _ = issue(
        officer,
        signing_key=rt.settings.signing_key,
        audience=Audience.API,
        lifetime=timedelta(minutes=15),
    )
    return {"Authorization": f"Bearer {token}"}


def make_officer(rt: Runtime, role: Role = Role.REVIEWER, **overrides: object) -> Officer:
    with session_scope(rt.sessions) as session:
        return factories.officer(session, role=role, **overrides)


@dataclass(frozen=True)
class SampleCase:
    case_id: int
    plate: str
    box: list[int]
    brand: str


def sample_cases(rt: Runtime, count: int = 3, **overrides: object) -> list[SampleCase]:
    """Cases on the real sample frames: stored evidence, true plate boxes, and the sample
    registry's record of each plate (so the picture and the record agree)."""
    frames = json.loads((SAMPLES / "frames.json").read_text())
    registry = {
        row["plate"].replace(" ", ""): row
        for row in csv.DictReader(io.StringIO((SAMPLES / "registry.csv").read_text()))
    }
    out = []
    with session_scope(rt.sessions) as session:
        cam = factories.camera(session, name="Simpang Sarinah", road="Jl. M.H. Thamrin")
        for item in frames[:count]:
            record = registry[item["plate"]]
            data = (SAMPLES / item["file"]).read_bytes()
            src = factories.stored_frame(session, rt.evidence, cam, data)
            car = factories.vehicle(
                session,
                item["plate"],
                brand=record["brand"],
                model=record["model"],
                colour=record["colour"],
                year=int(record["year"]),
            )
            case: Case = factories.registered_case(
                session, item["plate"], camera=cam, frame=src, vehicle=car, owner=None, **overrides
            )
            read = session.get_one(PlateRead, case.plate_read_id)
            read.box = item["plate_box"]
            # A read with a little doubt on its last letter, as the reader reports it.
            read.confidence = 0.91
            read.slot_confidence = [0.99] * (len(item["plate"]) - 1) + [0.74]
            read.candidates = [
                {"text": item["plate"], "p": 0.91},
                {"text": item["plate"][:-1] + "G", "p": 0.06},
            ]
            out.append(SampleCase(case.id, item["plate"], item["plate_box"], record["brand"]))
    return out
