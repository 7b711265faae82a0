"""What one registry record must look like: validation shared by the file import, a reported
sale and the answers of an external registry service.

Every check says, in one line, what is wrong with the value, and every problem of a row is
reported (not only the first), so an operator fixes a row the import report points at in one
go. Values are stored normalised (plates `B1234ABC`, phones `+62...`, upper-case VIN), so
importing the same data twice compares equal and changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from functools import partial
from typing import NamedTuple, TypeVar

from etle.clock import utcnow
from etle.errors import ValidationFailed
from etle.plates import REGION_CODES, VehicleClass, parse_plate

T = TypeVar("T")

REQUIRED = ("plate", "owner_name", "vehicle_type")
# The owner's postal address: street, district (kecamatan) and city (kota/kabupaten) as a
# postal service's import expects them, or the older one-line `address` ("street, district,
# city"), split at its last two commas.
ADDRESS = ("street", "district", "city", "address")
OPTIONAL = (
    "postcode",
    "nik",
    "email",
    "phone",
    "brand",
    "model",
    "colour",
    "year",
    "vin",
    "engine_number",
    "registration_valid_until",
)
COLUMNS = REQUIRED + ADDRESS + OPTIONAL

# Words people put in a "vehicle type" column, mapped to the class the number range encodes.
VEHICLE_TYPES: dict[str, VehicleClass] = {
    "car": VehicleClass.PASSENGER_CAR,
    "mobil": VehicleClass.PASSENGER_CAR,
    "passenger_car": VehicleClass.PASSENGER_CAR,
    "sedan": VehicleClass.PASSENGER_CAR,
    "suv": VehicleClass.PASSENGER_CAR,
    "mpv": VehicleClass.PASSENGER_CAR,
    "motorcycle": VehicleClass.MOTORCYCLE,
    "motor": VehicleClass.MOTORCYCLE,
    "sepeda_motor": VehicleClass.MOTORCYCLE,
    "bus": VehicleClass.BUS,
    "truck": VehicleClass.GOODS,
    "truk": VehicleClass.GOODS,
    "goods": VehicleClass.GOODS,
    "pickup": VehicleClass.GOODS,
    "barang": VehicleClass.GOODS,
}

# First two digits of a NIK: the province (Kemendagri codes, incl. the 2022 Papua provinces).
NIK_PROVINCES = frozenset(
    {11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 31, 32, 33, 34, 35, 36, 51, 52, 53}
    | {61, 62, 63, 64, 65, 71, 72, 73, 74, 75, 76, 81, 82, 91, 92, 93, 94, 95, 96}
)
# ISO 3779: 17 characters, never I, O or Q (they look like 1 and 0).
_VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
_ENGINE = re.compile(r"^[A-Z0-9][A-Z0-9\-]{2,31}$")
_POSTCODE = re.compile(r"^[1-9][0-9]{4}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_SEPARATORS = re.compile(r"[\s\-().]")
_CANONICAL = re.compile(r"^([A-Z]{1,2})([1-9][0-9]{0,3})([A-Z]{0,3})$")
# Canonical, or with exactly one space between the parts: what parse_plate accepts unchanged.
_WELL_FORMED = re.compile(
    r"^([A-Z]{1,2})(?:([1-9][0-9]{0,3})([A-Z]{0,3})|"
    r" ([1-9][0-9]{0,3})(?: ([A-Z]{1,3}))?)$"
)


# Named tuples rather than dataclasses: a million of them are pickled to the import's temporary
# file and back, and tuples do that several times faster.
class OwnerDetails(NamedTuple):
    name: str
    nik: str | None
    address: str  # one line, for people: "street, district, city"
    postcode: str
    email: str | None
    phone: str | None
    street: str = ""
    district: str = ""
    city: str = ""


class VehicleDetails(NamedTuple):
    plate: str
    vehicle_class: str
    brand: str
    model: str
    colour: str
    year: int | None
    vin: str | None
    engine_number: str | None
    registration_valid_until: date | None


class RegistryRow(NamedTuple):
    line: int
    vehicle: VehicleDetails
    owner: OwnerDetails


class RowInvalid(ValidationFailed):
    """Every problem of one record, each in one line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems), detail=problems)
        self.problems = problems


class _Problems:
    """Runs a row's checks one after the other and keeps every failure, not only the first."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def check(self, run: Callable[[], T]) -> T | None:
        try:
            return run()
        except RowInvalid as exc:
            self.found += exc.problems
        except ValidationFailed as exc:
            self.found.append(exc.message)
        return None

    def add(self, problem: str) -> None:
        self.found.append(problem)

    def raise_any(self) -> None:
        if self.found:
            raise RowInvalid(self.found)


def split_address(address: str) -> tuple[str, str, str]:
    """Street, district and city of a one-line address written "street, district, city" (the
    registry's older form): the last part is the city, the one before it the district."""
    parts = [p.strip() for p in address.replace("\n", ",").split(",") if p.strip()]
    if len(parts) >= 3:
        return ", ".join(parts[:-2]), parts[-2], parts[-1]
    if len(parts) == 2:
        return parts[0], "", parts[1]
    return address.strip(), "", ""


def join_address(street: str, district: str, city: str) -> str:
    return ", ".join(part for part in (street, district, city) if part)


def validate_nik(value: str) -> str:
    """NIK (Nomor Induk Kependudukan): 16 digits; province code, then birth date DDMMYY with 40
    added to the day for women."""
    nik = value.strip()
    if len(nik) != 16 or not nik.isascii() or not nik.isdigit():
        raise ValidationFailed("nik must be 16 digits")
    if int(nik[:2]) not in NIK_PROVINCES:
        raise ValidationFailed(f"nik starts with {nik[:2]}, which is not a province code")
    day, month = int(nik[6:8]), int(nik[8:10])
    if day > 40:
        day -= 40
    if not (1 <= day <= 31 and 1 <= month <= 12):
        raise ValidationFailed("nik digits 7-12 are not a birth date (DDMMYY, women DD+40)")
    return nik


def normalise_phone(value: str) -> str:
    """Indonesian numbers in one form, `+62...`: accepts 08..., 628..., +62 8...."""
    digits = _PHONE_SEPARATORS.sub("", value)
    if digits.startswith("+"):
        digits = digits[1:]
    elif digits.startswith("0"):
        digits = "62" + digits[1:]
    if not digits.isascii() or not digits.isdigit() or not digits.startswith("62"):
        raise ValidationFailed(f"phone {value!r} is not an Indonesian number (+62...)")
    if not 9 <= len(digits) <= 15:
        raise ValidationFailed(f"phone {value!r} has the wrong number of digits")
    return "+" + digits


def validate_email(value: str) -> str:
    email = value.strip()
    if len(email) > 254 or not _EMAIL.match(email):
        raise ValidationFailed(f"email {value!r} is not an address")
    return email


def validate_postcode(value: str) -> str:
    if not _POSTCODE.match(value):
        raise ValidationFailed(f"postcode {value!r} must be 5 digits")
    return value


def _text(raw: Mapping[str, str], column: str, limit: int) -> str:
    value = raw.get(column, "") or ""
    if len(value) > limit:
        raise ValidationFailed(f"{column} is longer than {limit} characters")
    return value


def owner_details(raw: Mapping[str, str], *, name_column: str = "owner_name") -> OwnerDetails:
    problems = _Problems()
    name = problems.check(lambda: _text(raw, name_column, 200))
    if name == "":
        problems.add(f"{name_column} is empty")
    address = problems.check(lambda: _address(raw))
    postcode = raw.get("postcode") or ""
    nik = raw.get("nik") or None
    email = raw.get("email") or None
    phone = raw.get("phone") or None
    details = OwnerDetails(
        name=name or "",
        nik=problems.check(lambda: validate_nik(nik)) if nik else None,
        address=address[0] if address else "",
        postcode=(problems.check(lambda: validate_postcode(postcode)) or "") if postcode else "",
        email=problems.check(lambda: validate_email(email)) if email else None,
        phone=problems.check(lambda: normalise_phone(phone)) if phone else None,
        street=address[1] if address else "",
        district=address[2] if address else "",
        city=address[3] if address else "",
    )
    problems.raise_any()
    return details


def _address(raw: Mapping[str, str]) -> tuple[str, str, str, str]:
    """(one line, street, district, city) from the structured columns, or from `address`."""
    problems = _Problems()
    street = problems.check(lambda: _text(raw, "street", 200)) or ""
    district = problems.check(lambda: _text(raw, "district", 100)) or ""
    city = problems.check(lambda: _text(raw, "city", 100)) or ""
    if street or district or city:
        if not street:
            problems.add("street is empty")
        if not city:
            problems.add("city is empty")
        line = join_address(street, district, city)
        if len(line) > 400:
            problems.add("street, district and city are longer than 400 characters together")
    else:
        line = problems.check(lambda: _text(raw, "address", 400)) or ""
        if not line and not problems.found:
            problems.add("address is empty: give street, district and city (or address)")
        street, district, city = split_address(line)
    problems.raise_any()
    return line, street, district, city


def canonical_plate(text: str) -> str:
    """`etle.plates.normalise_plate`, with a fast path for plates already written the usual
    way (`B 1234 ABC` or `B1234ABC`): a registry file has a million of them."""
    match = _WELL_FORMED.match(text)
    if match is not None and match[1] in REGION_CODES:
        return match[1] + (match[2] or match[4]) + (match[3] or match[5] or "")
    return parse_plate(text).text


def vehicle_details(raw: Mapping[str, str]) -> VehicleDetails:
    problems = _Problems()
    plate_text = raw.get("plate") or ""
    plate = problems.check(lambda: canonical_plate(plate_text)) if plate_text else None
    if not plate_text:
        problems.add("plate is empty")
    kind_text = raw.get("vehicle_type") or ""
    kind = kind_text.lower().replace(" ", "_").replace("-", "_")
    if not kind_text:
        problems.add("vehicle_type is empty")
    elif kind not in VEHICLE_TYPES:
        problems.add(f"unknown vehicle_type {kind_text!r}")
    year_text = raw.get("year") or ""
    year: int | None = None
    if year_text:
        if not year_text.isdigit() or not 1900 <= int(year_text) <= utcnow().year + 1:
            problems.add(f"year {year_text!r} is not a model year")
        else:
            year = int(year_text)
    until_text = raw.get("registration_valid_until") or ""
    until: date | None = None
    if until_text:
        try:
            until = date.fromisoformat(until_text)
        except ValueError:
            problems.add(f"registration_valid_until {until_text!r} is not a date (YYYY-MM-DD)")
    vin = (raw.get("vin") or "").upper() or None
    if vin is not None and not _VIN.match(vin):
        problems.add(f"vin {vin!r} must be 17 letters and digits, without I, O or Q")
    engine = (raw.get("engine_number") or "").upper() or None
    if engine is not None and not _ENGINE.match(engine):
        problems.add(f"engine_number {engine!r} must be 3-32 letters, digits or '-'")
    texts: dict[str, str] = {}
    for column, limit in _TEXTS:
        texts[column] = problems.check(partial(_text, raw, column, limit)) or ""
    problems.raise_any()
    assert plate is not None
    return VehicleDetails(
        plate=plate,
        vehicle_class=VEHICLE_TYPES[kind].value,
        brand=texts["brand"],
        model=texts["model"],
        colour=texts["colour"],
        year=year,
        vin=vin,
        engine_number=engine,
        registration_valid_until=until,
    )


_TEXTS = (("brand", 100), ("model", 100), ("colour", 50))


def same_person(current: OwnerDetails, incoming: OwnerDetails) -> bool:
    """Whether a row describes the vehicle's current owner (then details are updated in place)
    or someone else (then the vehicle changed hands)."""
    if current.nik and incoming.nik:
        return current.nik == incoming.nik
    return current.name.strip().casefold() == incoming.name.strip().casefold()


def validate_row(line: int, raw: Mapping[str, str]) -> RegistryRow:
    """The row, or RowInvalid with every problem of the vehicle and of the owner."""
    problems = _Problems()
    vehicle = problems.check(lambda: vehicle_details(raw))
    owner = problems.check(lambda: owner_details(raw))
    problems.raise_any()
    assert vehicle is not None
    assert owner is not None
    return RegistryRow(line=line, vehicle=vehicle, owner=owner)


def plate_key(plate: str) -> int:
    """A canonical plate (`B1234ABC`) as one integer below 2**63, exactly (no collisions): lets
    the duplicate check of a million-row file keep 8 bytes a row instead of a Python string."""
    match = _CANONICAL.match(plate)
    if match is None:
        raise ValueError(f"{plate!r} is not a canonical plate")
    region, number, suffix = match.groups()
    return (_letters(region, 2) * 10_000 + int(number)) * 27**3 + _letters(suffix, 3)


def plate_from_key(key: int) -> str:
    rest, suffix = divmod(key, 27**3)
    region, number = divmod(rest, 10_000)
    return _unletters(region, 2) + str(number) + _unletters(suffix, 3)


def _letters(text: str, width: int) -> int:
    value = 0
    for i in range(width):
        value = value * 27 + (ord(text[i]) - 64 if i < len(text) else 0)
    return value


def _unletters(value: int, width: int) -> str:
    chars = []
    for _ in range(width):
        value, digit = divmod(value, 27)
        if digit:
            chars.append(chr(digit + 64))
    return "".join(reversed(chars))
