"""Matching a read to the registry: exact first, look-alikes and reader alternatives only as
candidates for the officer, and a flag for everything the officer must look at."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from etle.cases.matching import LOOKALIKE_PAIRS, lookalike_variants, match_plate
from etle.cases.models import CaseFlag
from etle.plates import VehicleClass
from etle.registry.lookup import DatabaseRegistry
from tests import factories

ON = date(2026, 11, 20)

# For each look-alike pair: a registered plate, and a read that differs from it by that pair
# only. Swaps that keep a plate valid move the boundary between the number and the series.
LOOKALIKES = {
    ("O", "0"): ("B1230AB", "B123OAB"),
    ("I", "1"): ("B1231AB", "B123IAB"),
    ("B", "8"): ("D1238AB", "D123BAB"),
    ("S", "5"): ("D1235AB", "D123SAB"),
    ("Z", "2"): ("D1232AB", "D123ZAB"),
    ("G", "6"): ("D1236AB", "D123GAB"),
    ("D", "0"): ("B1230AB", "B123DAB"),
}


def test_every_lookalike_pair_is_covered() -> None:
    assert set(LOOKALIKES) == set(LOOKALIKE_PAIRS)


def test_an_exact_match_is_taken_with_no_flags(session: Session) -> None:
    car = factories.vehicle(session, "B1234ABC", registration_valid_until=date(2029, 8, 31))
    match = match_plate(DatabaseRegistry(session), plate="B1234ABC", on=ON)
    assert match.record is not None
    assert match.record.vehicle_id == car.id
    assert match.flags == []
    assert match.candidates == []


@pytest.mark.parametrize("pair", sorted(LOOKALIKES))
def test_a_lookalike_that_is_registered_is_offered_never_chosen(
    session: Session, pair: tuple[str, str]
) -> None:
    registered, read = LOOKALIKES[pair]
    assert registered in lookalike_variants(read)
    factories.vehicle(session, registered)
    match = match_plate(DatabaseRegistry(session), plate=read, on=ON)
    assert match.record is None  # the read stays what it is; an officer decides
    assert match.plate == read
    assert [(c["plate"], c["source"]) for c in match.candidates] == [(registered, "lookalike")]
    assert match.flags == [CaseFlag.PLATE_NOT_REGISTERED, CaseFlag.LOOKALIKE_CANDIDATES]


def test_the_readers_alternatives_that_are_registered_are_offered_with_their_probability(
    session: Session,
) -> None:
    factories.vehicle(session, "B1734ABC")
    match = match_plate(
        DatabaseRegistry(session),
        plate="B1234ABC",
        alternatives=[
            {"text": "B1234ABC", "p": 0.61},
            {"text": "B1734ABC", "p": 0.33},
            {"text": "B1284ABC", "p": 0.02},  # not registered: not offered
        ],
        on=ON,
    )
    assert match.record is None
    assert match.candidates == [
        {
            "plate": "B1734ABC",
            "source": "reader",
            "p": 0.33,
            "vehicle_class": "passenger_car",
            "brand": "Toyota",
            "colour": "merah",
        }
    ]


def test_an_unregistered_plate_without_registered_lookalikes_is_flagged_alone(
    session: Session,
) -> None:
    match = match_plate(DatabaseRegistry(session), plate="DK1744FG", on=ON)
    assert (match.record, match.candidates, match.flags) == (
        None,
        [],
        [CaseFlag.PLATE_NOT_REGISTERED],
    )


def test_an_expired_registration_is_flagged(session: Session) -> None:
    factories.vehicle(session, "B1234ABC", registration_valid_until=date(2026, 11, 19))
    match = match_plate(DatabaseRegistry(session), plate="B1234ABC", on=ON)
    assert match.flags == [CaseFlag.REGISTRATION_EXPIRED]
    assert match.details[CaseFlag.REGISTRATION_EXPIRED] == {"valid_until": date(2026, 11, 19)}
    valid_today = match_plate(DatabaseRegistry(session), plate="B1234ABC", on=date(2026, 11, 19))
    assert valid_today.flags == []


def test_a_class_that_does_not_fit_the_number_range_is_flagged(session: Session) -> None:
    factories.vehicle(session, "B1234ABC", vehicle_class="motorcycle")  # 1-1999: cars
    match = match_plate(DatabaseRegistry(session), plate="B1234ABC", on=ON)
    assert match.flags == [CaseFlag.CLASS_MISMATCH]
    assert match.details[CaseFlag.CLASS_MISMATCH] == {
        "registered_class": "motorcycle",
        "number_range_class": "passenger_car",
    }


def test_a_camera_seeing_another_kind_of_vehicle_flags_a_suspected_clone(
    session: Session,
) -> None:
    factories.vehicle(session, "B1234ABC")
    seen_as_car = match_plate(
        DatabaseRegistry(session),
        plate="B1234ABC",
        on=ON,
        reported_class=VehicleClass.PASSENGER_CAR,
    )
    assert seen_as_car.flags == []
    seen_as_truck = match_plate(
        DatabaseRegistry(session), plate="B1234ABC", on=ON, reported_class=VehicleClass.GOODS
    )
    assert seen_as_truck.flags == [CaseFlag.SUSPECTED_CLONE]
    assert seen_as_truck.details[CaseFlag.SUSPECTED_CLONE] == {
        "registered_class": "passenger_car",
        "camera_class": "goods",
    }
