"""The Indonesian plate grammar: one canonical form, clear reasons for refusing a plate."""

import pytest

from etle.errors import ValidationFailed
from etle.plates import (
    NUMBER_RANGES,
    REGION_CODES,
    VehicleClass,
    class_for_number,
    format_plate,
    is_valid_plate,
    normalise_plate,
    parse_plate,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("B 1234 ABC", "B1234ABC"),
        ("b1234abc", "B1234ABC"),
        ("b 1234 abc", "B1234ABC"),
        ("  dk-1744-fg ", "DK1744FG"),
        ("AB\t1023\nKE", "AB1023KE"),
        ("B 1234", "B1234"),
        ("PY 12", "PY12"),
        ("L158800", "L1588OO"),  # letters certain to be letters: 0 -> O in the suffix
        ("B12B4ABC", "B1284ABC"),  # a letter in a digit slot: B -> 8
        ("B1234A8C", "B1234ABC"),  # a digit in a letter slot: 8 -> B
        ("8 1234 ABC", "B1234ABC"),  # the group before the number holds letters only
        ("B 12O4 ABC", "B1204ABC"),  # the number group holds digits only
    ],
)
def test_plates_are_normalised_one_way(raw: str, expected: str) -> None:
    assert normalise_plate(raw) == expected


@pytest.mark.parametrize("code", sorted(REGION_CODES))
def test_every_region_code_is_accepted_in_any_case_and_spacing(code: str) -> None:
    plate = parse_plate(f" {code.lower()} 1234 ab ")
    assert plate.text == f"{code}1234AB"
    assert plate.region == code
    assert normalise_plate(f"{code}1234AB") == f"{code}1234AB"
    assert format_plate(f"{code}1234AB") == f"{code} 1234 AB"


def test_the_new_region_codes_are_known() -> None:
    # The 2012 split of South Sulawesi and the 2024 Papua provinces.
    for code in ("DP", "DW", "DC", "PY", "PS", "PT"):
        assert is_valid_plate(f"{code} 1 A")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("- . -", "empty"),
        ("AB1234ABCD", "too long"),
        ("B 12345 A", "1 to 4 digits"),
        ("B 1234 ABCD", "at most 3 letters"),
        ("ABC 1234 A", "1 or 2 letters"),
        ("XX1234", "not an Indonesian region code"),
        ("QQ 1234 AB", "not an Indonesian region code"),
        ("1234ABC", "does not read as"),  # region letters missing (a partial plate)
        ("9840VU", "does not read as"),
        ("B0123A", "does not read as"),  # a number never starts with 0
        ("B1234AB!", "letters and digits"),
        ("B1234ÄB", "letters and digits"),
        ("B1B1B", "does not read as"),  # two repairs equally likely: refused, not guessed
    ],
)
def test_invalid_plates_are_refused_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        normalise_plate(raw)
    assert reason in info.value.message
    assert info.value.status_code == 422
    assert not is_valid_plate(raw)


def test_a_plate_that_is_not_text_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="must be text"):
        normalise_plate(1234)  # type: ignore[arg-type]


def test_people_see_plates_with_spaces() -> None:
    assert format_plate("b1234abc") == "B 1234 ABC"
    assert format_plate("DK1") == "DK 1"


def test_number_ranges_give_the_vehicle_class() -> None:
    assert class_for_number(1) is VehicleClass.PASSENGER_CAR
    assert class_for_number(1999) is VehicleClass.PASSENGER_CAR
    assert class_for_number(2000) is VehicleClass.MOTORCYCLE
    assert class_for_number(6999) is VehicleClass.MOTORCYCLE
    assert class_for_number(7000) is VehicleClass.BUS
    assert class_for_number(7999) is VehicleClass.BUS
    assert class_for_number(8000) is VehicleClass.GOODS
    assert class_for_number(9999) is VehicleClass.GOODS
    assert parse_plate("B 4567 XYZ").vehicle_class is VehicleClass.MOTORCYCLE
    with pytest.raises(ValueError, match="outside"):
        class_for_number(10000)


def test_the_number_ranges_cover_1_to_9999_without_overlap() -> None:
    ranges = sorted(NUMBER_RANGES.values())
    assert ranges[0][0] == 1
    assert ranges[-1][1] == 9999
    assert all(a[1] + 1 == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
