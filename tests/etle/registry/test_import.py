"""Registry import: validate every row first, import all or nothing, idempotent, CSV and JSON."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from etle.audit.models import AuditEvent
from etle.errors import ValidationFailed
from etle.registry.importer import import_file
from etle.registry.models import Owner, Ownership, Vehicle
from etle.registry.rows import plate_from_key, plate_key

HEADER = (
    "plate,owner_name,nik,address,postcode,email,phone,vehicle_type,brand,model,colour,year,"
    "vin,engine_number,registration_valid_until"
)
ROWS = [
    "B 1234 ABC,Budi Santoso,3171010101800001,Jl. Kebon Sirih 12,10340,budi@example.id,"
    "0812-1111-0001,car,Toyota,Avanza,merah,2019,mhfm1ba3jk1234567,1NR1234567,2029-08-31",
    "D 2567 XY,Siti Rahmawati,3273024505850002,Jl. Dago 45,40135,,+62 812 1111 0002,motor,"
    "Honda,Beat,hitam,2021,MH1JM1111MK123456,JM11E1234567,2028-01-31",
    "B 9120 UXT,CV Maju Jaya,,Jl. Cakung Km 2,13910,admin@majujaya.example.id,,truck,Isuzu,"
    "Elf,kuning,2018,,,",
    "AB 1023 KE,Agus Wibowo,3471011203790003,Jl. Malioboro 7,55271,,,car,Suzuki,Ertiga,hitam,"
    "2020,,,2024-01-31",
]


def write_csv(tmp_path: Path, rows: list[str], name: str = "registry.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def imports(session: Session) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == "registry.imported")))


def test_a_valid_file_imports_vehicles_owners_and_their_ownerships(
    session: Session, tmp_path: Path
) -> None:
    report = import_file(session, write_csv(tmp_path, ROWS), actor="operator:test")
    assert report.ok
    assert report.imported
    assert (report.rows, report.created, report.updated, report.unchanged) == (4, 4, 0, 0)

    car = session.scalars(select(Vehicle).where(Vehicle.plate == "B1234ABC")).one()
    assert (car.vehicle_class, car.brand, car.model, car.year) == (
        "passenger_car",
        "Toyota",
        "Avanza",
        2019,
    )
    assert car.vin == "MHFM1BA3JK1234567"  # upper case, as stamped on the chassis
    assert car.engine_number == "1NR1234567"
    assert car.registration_valid_until == date(2029, 8, 31)
    owner = session.get_one(Owner, car.owner_id)
    assert (owner.name, owner.nik, owner.postcode) == ("Budi Santoso", "3171010101800001", "10340")
    assert owner.phone == "+6281211110001"  # one form for every phone number
    [ownership] = session.scalars(select(Ownership).where(Ownership.vehicle_id == car.id))
    assert (ownership.owner_id, ownership.valid_to, ownership.source) == (owner.id, None, "import")
    company = session.scalars(select(Vehicle).where(Vehicle.plate == "B9120UXT")).one()
    assert company.vehicle_class == "goods"
    assert session.get_one(Owner, company.owner_id).nik is None

    [event] = imports(session)
    assert event.actor == "operator:test"
    assert event.after is not None
    assert event.after["created"] == 4
    assert event.after["sha256"] == report.sha256


def test_a_file_with_one_bad_row_imports_nothing_and_names_the_line(
    session: Session, tmp_path: Path
) -> None:
    bad = ROWS[2].replace("13910", "1391")  # line 4 of the file (the header is line 1)
    vehicles_before = count(session, Vehicle)
    report = import_file(session, write_csv(tmp_path, [ROWS[0], ROWS[1], bad, ROWS[3]]), actor="t")
    assert not report.ok
    assert not report.imported
    assert report.errors == [(4, "postcode '1391' must be 5 digits")]
    assert count(session, Vehicle) == vehicles_before
    assert imports(session) == []


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("nik", "317101010180001", "nik must be 16 digits"),
        ("nik", "3171010101800A01", "nik must be 16 digits"),
        ("nik", "9971010101800001", "not a province code"),
        ("nik", "3171013201800001", "not a birth date"),
        ("email", "budi@", "is not an address"),
        ("phone", "12345", "not an Indonesian number"),
        ("vin", "MHFM1BA3JK123456O", "without I, O or Q"),
        ("vin", "MHFM1BA3", "17 letters and digits"),
        ("year", "1850", "is not a model year"),
        ("vehicle_type", "spaceship", "unknown vehicle_type"),
        ("plate", "XX 1234 AB", "not an Indonesian region code"),
        ("plate", "", "plate is empty"),
        ("owner_name", "", "owner_name is empty"),
        ("address", "", "address is empty"),
        ("registration_valid_until", "31-08-2029", "is not a date"),
    ],
)
def test_each_bad_value_is_reported_with_a_reason(
    session: Session, tmp_path: Path, column: str, value: str, problem: str
) -> None:
    columns = HEADER.split(",")
    fields = ROWS[0].split(",")
    fields[columns.index(column)] = value
    report = import_file(session, write_csv(tmp_path, [ROWS[1], ",".join(fields)]), actor="t")
    [(line, message)] = report.errors
    assert line == 3
    assert problem in message
    assert count(session, Vehicle) == 0


def test_a_row_with_the_wrong_number_of_fields_is_reported(
    session: Session, tmp_path: Path
) -> None:
    report = import_file(session, write_csv(tmp_path, [ROWS[0], "B 1 A,too,few"]), actor="t")
    assert report.errors == [(3, "has 3 fields, the header has 15")]


def test_duplicate_plates_are_reported_whatever_their_spelling(
    session: Session, tmp_path: Path
) -> None:
    again = ROWS[1].replace("D 2567 XY", "d-2567-xy")
    report = import_file(session, write_csv(tmp_path, [*ROWS, again]), actor="t")
    assert report.errors == [(6, "plate D2567XY is already on line 3")]
    assert count(session, Vehicle) == 0


def test_missing_columns_are_refused_before_any_row(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("plate,owner_name\nB 1 A,Budi\n")
    missing = r"missing columns vehicle_type, address \(or street, district, city\)"
    with pytest.raises(ValidationFailed, match=missing):
        import_file(session, path, actor="t")


def test_importing_the_same_file_again_changes_nothing(session: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path, ROWS)
    import_file(session, path, actor="t")
    events = count(session, AuditEvent)
    again = import_file(session, path, actor="t")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert count(session, AuditEvent) == events  # nothing changed, nothing to audit
    assert count(session, Vehicle) == 4
    assert count(session, Ownership) == 4


def test_changed_details_update_in_place_and_a_new_owner_opens_a_new_ownership(
    session: Session, tmp_path: Path
) -> None:
    import_file(session, write_csv(tmp_path, ROWS), actor="t")
    car = session.scalars(select(Vehicle).where(Vehicle.plate == "B1234ABC")).one()
    seller = car.owner_id
    changed = [
        ROWS[0].replace("Jl. Kebon Sirih 12", "Jl. Sabang 3"),  # same owner, moved house
        ROWS[1].replace("hitam", "merah"),  # resprayed
        ROWS[2],
        ROWS[3].replace("Agus Wibowo,3471011203790003", "Dewi Lestari,3471014506900004"),  # sold
    ]
    report = import_file(session, write_csv(tmp_path, changed, "v2.csv"), actor="t")
    assert (report.created, report.updated, report.unchanged, report.owners_changed) == (
        0,
        3,
        1,
        1,
    )
    session.expire_all()
    assert session.get_one(Owner, seller).address == "Jl. Sabang 3"
    assert session.get_one(Vehicle, car.id).owner_id == seller
    sold = session.scalars(select(Vehicle).where(Vehicle.plate == "AB1023KE")).one()
    history = list(
        session.scalars(
            select(Ownership).where(Ownership.vehicle_id == sold.id).order_by(Ownership.id)
        )
    )
    assert len(history) == 2
    assert history[0].valid_to is not None
    assert history[1].valid_to is None
    assert history[1].owner_id == sold.owner_id
    assert session.get_one(Owner, sold.owner_id).name == "Dewi Lestari"


def test_json_array_and_json_lines_import_with_line_numbers(
    session: Session, tmp_path: Path
) -> None:
    columns = HEADER.split(",")
    records = [dict(zip(columns, row.split(","), strict=True)) for row in ROWS]
    records[1]["year"] = 2021  # numbers are fine where text is expected
    array_file = tmp_path / "registry.json"
    array_file.write_text(json.dumps(records, indent=2))
    report = import_file(session, array_file, actor="t")
    assert report.ok
    assert report.created == 4

    records[2]["nik"] = "123"
    lines_file = tmp_path / "registry.jsonl"
    lines_file.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    report = import_file(session, lines_file, actor="t", check_only=True)
    assert report.errors == [(3, "nik must be 16 digits")]

    records[2]["nik"] = ""
    pretty = json.dumps(records, indent=2)  # every record spans many lines
    (tmp_path / "pretty.json").write_text(pretty.replace('"CV Maju Jaya"', '"CV Maju Jaya" oops'))
    report = import_file(session, tmp_path / "pretty.json", actor="t")
    [(line, problem)] = report.errors
    assert "not valid JSON" in problem
    assert pretty.splitlines()[line - 1].strip().startswith('"owner_name": "CV Maju Jaya"')


def test_a_json_record_of_the_wrong_shape_is_reported_and_the_rest_checked(
    session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text('["not", "an object"]\n{"plate": "B 1 A", "owner_name": ["x"]}\n')
    report = import_file(session, path, actor="t")
    assert report.errors == [
        (1, "is not an object ({...})"),
        (2, "owner_name must be text or a number"),
    ]


def test_large_files_are_written_in_chunks_with_the_same_result(
    session: Session, tmp_path: Path
) -> None:
    seen: dict[str, tuple[int, int]] = {}
    report = import_file(
        session,
        write_csv(tmp_path, ROWS),
        actor="t",
        chunk_rows=1,
        progress=lambda phase, done, total: seen.__setitem__(phase, (done, total)),
    )
    assert report.created == 4
    assert count(session, Ownership) == 4
    assert seen["validating"][0] == seen["validating"][1] > 0  # bytes of the file
    assert seen["importing"] == (4, 4)  # rows


def test_check_only_validates_and_imports_nothing(session: Session, tmp_path: Path) -> None:
    report = import_file(session, write_csv(tmp_path, ROWS), actor="t", check_only=True)
    assert report.ok
    assert not report.imported
    assert count(session, Vehicle) == 0


@pytest.mark.parametrize("plate", ["B1A", "AB1023KE", "DK9999ZZZ", "Z1", "PY12"])
def test_plates_pack_into_one_integer_and_back(plate: str) -> None:
    assert plate_from_key(plate_key(plate)) == plate
    assert 0 < plate_key(plate) < 2**63


def test_every_problem_of_a_row_is_reported_not_only_the_first(
    session: Session, tmp_path: Path
) -> None:
    header = "plate,owner_name,street,district,city,vehicle_type,nik,email,year"
    row = "XX 1234 AB,,Jl. Sabang 3,Menteng,,spaceship,123,budi@,1850"
    report = import_file(session, write_csv_with(tmp_path, header, [row]), actor="t")
    assert report.bad_rows == 1
    assert [problem for _, problem in report.errors] == [
        "plate 'XX 1234 AB': 'XX' is not an Indonesian region code",
        "unknown vehicle_type 'spaceship'",
        "year '1850' is not a model year",
        "owner_name is empty",
        "city is empty",
        "nik must be 16 digits",
        "email 'budi@' is not an address",
    ]
    assert {line for line, _ in report.errors} == {2}


def test_an_address_in_parts_is_kept_in_parts_and_a_one_line_one_is_split(
    session: Session, tmp_path: Path
) -> None:
    header = "plate,owner_name,street,district,city,address,postcode,vehicle_type"
    rows = [
        "B 1234 ABC,Budi,Jl. Kebon Sirih No. 12,Menteng,Jakarta Pusat,,10340,car",
        'D 2567 XY,Siti,,,,"Jl. Dago No. 45, RT 02, Coblong, Bandung",40135,car',
    ]
    report = import_file(session, write_csv_with(tmp_path, header, rows), actor="t")
    assert report.ok, report.errors
    owners = {o.name: o for o in session.scalars(select(Owner))}
    budi, siti = owners["Budi"], owners["Siti"]
    assert (budi.street, budi.district, budi.city) == (
        "Jl. Kebon Sirih No. 12",
        "Menteng",
        "Jakarta Pusat",
    )
    assert budi.address == "Jl. Kebon Sirih No. 12, Menteng, Jakarta Pusat"
    assert (siti.street, siti.district, siti.city) == (
        "Jl. Dago No. 45, RT 02",
        "Coblong",
        "Bandung",
    )
    again = import_file(session, write_csv_with(tmp_path, header, rows), actor="t")
    assert again.unchanged == 2


def write_csv_with(tmp_path: Path, header: str, rows: list[str]) -> Path:
    path = tmp_path / "registry.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path
