"""Registry import benchmark: a realistic million-row file into SQLite and PostgreSQL.

    python bench/registry_import.py                      # 1,000,000 rows, SQLite
    python bench/registry_import.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

Generates the file once (deterministic: the same seed gives the same file), then for each
backend, in a fresh child process and a fresh database: the first import (everything created),
the same file again (nothing changes), and the peak memory of the child. A baseline, the
row-by-row ORM importer this one replaced, runs on a smaller slice of the same file, so the
figures include a ratio. Prints one line per measurement and a JSON summary at the end.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import shutil
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

# Rough shares of Indonesia's fleet (BPS: motorcycles are about four in five vehicles).
CLASSES = [("motorcycle", 0.80), ("car", 0.15), ("truck", 0.04), ("bus", 0.01)]
NUMBERS = {"motorcycle": (2000, 6999), "car": (1, 1999), "bus": (7000, 7999), "truck": (8000, 9999)}
MODELS = {
    "motorcycle": [
        ("Honda", "Beat"),
        ("Honda", "Vario 125"),
        ("Honda", "Scoopy"),
        ("Yamaha", "NMAX"),
        ("Yamaha", "Mio M3"),
        ("Yamaha", "Aerox"),
        ("Suzuki", "Nex II"),
        ("Kawasaki", "KLX 150"),
    ],
    "car": [
        ("Toyota", "Avanza"),
        ("Toyota", "Innova"),
        ("Daihatsu", "Xenia"),
        ("Honda", "Brio"),
        ("Suzuki", "Ertiga"),
        ("Mitsubishi", "Xpander"),
        ("Toyota", "Calya"),
    ],
    "truck": [("Isuzu", "Elf"), ("Mitsubishi", "Colt Diesel"), ("Suzuki", "Carry Pick Up")],
    "bus": [("Hino", "RK8"), ("Mercedes-Benz", "OH 1526")],
}
REGIONS = [
    ("B", "Jakarta", 31, 0.30),
    ("D", "Bandung", 32, 0.08),
    ("F", "Bogor", 32, 0.05),
    ("H", "Semarang", 33, 0.06),
    ("AB", "Yogyakarta", 34, 0.04),
    ("L", "Surabaya", 35, 0.08),
    ("N", "Malang", 35, 0.05),
    ("DK", "Denpasar", 51, 0.05),
    ("BK", "Medan", 12, 0.07),
    ("BG", "Palembang", 16, 0.04),
    ("DD", "Makassar", 73, 0.05),
    ("KT", "Balikpapan", 64, 0.04),
    ("PA", "Jayapura", 91, 0.02),
    ("DB", "Manado", 71, 0.03),
    ("BE", "Bandar Lampung", 18, 0.04),
]
FIRST = (
    "Budi Siti Agus Dewi Rina Hendra Wahyu Sri Made Ayu Putu Andi Yusuf Nur Dian Eko Fitri".split()
)
LAST = (
    "Santoso Rahmawati Wibowo Lestari Gunawan Simanjuntak Saputra Hidayat Nasution Setiawan".split()
)
STREETS = (
    "Merdeka Sudirman Diponegoro Gajah Mada Pemuda Ahmad Yani Veteran Pahlawan Kartini".split()
)
COLOURS = "hitam putih merah biru perak abu-abu hijau kuning".split()
VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
HEADER = [
    "plate",
    "owner_name",
    "nik",
    "address",
    "postcode",
    "email",
    "phone",
    "vehicle_type",
    "brand",
    "model",
    "colour",
    "year",
    "vin",
    "engine_number",
    "registration_valid_until",
]


def generate(path: Path, rows: int, seed: int = 5) -> None:
    rnd = random.Random(seed)
    seen: set[tuple[str, int, str]] = set()
    regions = [r[:3] for r in REGIONS]
    region_weights = [r[3] for r in REGIONS]
    classes = [c for c, _ in CLASSES]
    class_weights = [w for _, w in CLASSES]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(HEADER)
        for i in range(rows):
            kind = rnd.choices(classes, class_weights)[0]
            while True:
                region, city, province = rnd.choices(regions, region_weights)[0]
                number = rnd.randint(*NUMBERS[kind])
                suffix = "".join(rnd.choices("ABCDEFGHJKLMNPRSTUVWXYZ", k=rnd.randint(1, 3)))
                if (region, number, suffix) not in seen:
                    seen.add((region, number, suffix))
                    break
            brand, model = rnd.choice(MODELS[kind])
            name = f"{rnd.choice(FIRST)} {rnd.choice(LAST)}"
            born = date(1950, 1, 1) + timedelta(days=rnd.randint(0, 365 * 55))
            day = born.day + (40 if rnd.random() < 0.5 else 0)
            nik = (
                f"{province:02d}{rnd.randint(1, 79):02d}{rnd.randint(1, 40):02d}"
                f"{day:02d}{born.month:02d}{born.year % 100:02d}{rnd.randint(1, 9999):04d}"
            )
            company = rnd.random() < 0.03  # companies have no NIK
            year = rnd.randint(1998, 2025)
            out.writerow(
                [
                    f"{region} {number} {suffix}",
                    f"PT {rnd.choice(LAST)} Abadi" if company else name,
                    "" if company else nik,
                    f"Jl. {rnd.choice(STREETS)} No. {rnd.randint(1, 250)}, {city}",
                    f"{rnd.randint(10110, 99999)}",
                    f"{name.split()[0].lower()}{i}@example.id" if rnd.random() < 0.6 else "",
                    f"+628{rnd.randint(100000000, 9999999999)}" if rnd.random() < 0.85 else "",
                    kind,
                    brand,
                    model,
                    rnd.choice(COLOURS),
                    year,
                    "MH" + "".join(rnd.choices(VIN_CHARS, k=15)),
                    "".join(rnd.choices("ABCDEFGHJKLMNPRSTUVWXYZ", k=3))
                    + f"{rnd.randint(1, 9)}E{rnd.randint(1000000, 9999999)}",
                    (date(2021, 1, 1) + timedelta(days=rnd.randint(0, 365 * 9))).isoformat(),
                ]
            )


def child(url: str, path: Path, mode: str) -> dict[str, Any]:
    """One measurement in this (fresh) process; returns figures incl. this process's peak RSS."""
    from etle.db import create_engine, session_factory, session_scope
    from etle.migrate import upgrade

    engine = create_engine(url)
    if mode == "setup":
        upgrade(engine)
        return {}
    sessions = session_factory(engine)
    started = time.perf_counter()
    with session_scope(sessions) as session:
        if mode == "baseline":
            result = _baseline_import(session, path)
        else:
            from etle.registry.importer import import_file

            report = import_file(session, path, actor="bench")
            assert report.ok, report.errors[:5]
            result = {
                "rows": report.rows,
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
            }
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    engine.dispose()
    return result


def _baseline_import(session: Any, path: Path) -> dict[str, Any]:
    """The previous importer's way: one ORM object per owner, vehicle and ownership, flushed
    row by row, after validating the whole file into memory."""
    from sqlalchemy import select

    from etle.registry.models import Owner, Ownership, Vehicle
    from etle.registry.rows import validate_row

    with path.open(newline="", encoding="utf-8") as handle:
        rows = [validate_row(n, raw) for n, raw in enumerate(csv.DictReader(handle), start=2)]
    existing = set(session.scalars(select(Vehicle.plate)))
    for row in rows:
        if row.vehicle.plate in existing:
            continue
        owner = Owner(**row.owner._asdict())
        session.add(owner)
        session.flush()
        vehicle = Vehicle(owner_id=owner.id, **row.vehicle._asdict())
        session.add(vehicle)
        session.flush()
        session.add(Ownership(vehicle_id=vehicle.id, owner_id=owner.id))
    session.flush()
    return {"rows": len(rows)}


def run_child(url: str, path: Path, mode: str) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--url", url, "--file", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


def slice_file(path: Path, rows: int) -> Path:
    target = path.with_name(f"{path.stem}-first{rows}{path.suffix}")
    if not target.exists():
        with path.open(encoding="utf-8") as src, target.open("w", encoding="utf-8") as dst:
            for i, line in enumerate(src):
                if i > rows:
                    break
                dst.write(line)
    return target


def postgres_database(admin_url: str) -> tuple[str, Any]:
    from sqlalchemy import make_url, text

    from etle.db import create_engine

    name = f"etle_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--file", type=Path, default=Path("/tmp/etle-bench/registry-1m.csv"))
    parser.add_argument("--postgres", help="admin URL; a scratch database is created and dropped")
    parser.add_argument("--baseline-rows", type=int, default=20_000)
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.url, args.file, args.child)))
        return

    if not args.file.exists():
        started = time.perf_counter()
        generate(args.file, args.rows)
        print(f"generated {args.rows:,} rows in {time.perf_counter() - started:.0f} s: {args.file}")
    size_mb = args.file.stat().st_size / 1e6
    print(f"file {args.file} ({size_mb:.0f} MB)")
    small = slice_file(args.file, args.baseline_rows)
    summary: dict[str, Any] = {"file": str(args.file), "size_mb": round(size_mb)}
    backends: list[tuple[str, Any]] = []
    if not args.skip_sqlite:
        backends.append(("sqlite", None))
    if args.postgres:
        backends.append(("postgresql", args.postgres))
    for backend, admin in backends:
        figures: dict[str, Any] = {}
        runs = (
            [("baseline", small, "baseline ORM row by row")],
            [("import", small, "bulk importer")],
            [("import", args.file, "bulk importer"), ("import", args.file, "same file again")],
        )
        for steps in runs:  # each group on a fresh database
            url, drop = _fresh(backend, admin)
            try:
                for mode, path, what in steps:
                    result = run_child(url, path, mode)
                    result["rows_per_second"] = round(result["rows"] / max(result["seconds"], 0.1))
                    label = f"{what}, {result['rows']:,} rows"
                    figures[label] = result
                    print(
                        f"{backend:<10} {label:<44} {result['seconds']:>7.1f} s "
                        f"{result['rows_per_second']:>9,} rows/s  peak {result['peak_rss_mb']} MB"
                    )
            finally:
                drop()
        base = figures[f"baseline ORM row by row, {args.baseline_rows:,} rows"]["rows_per_second"]
        bulk = figures[f"bulk importer, {args.baseline_rows:,} rows"]["rows_per_second"]
        figures["speed-up over baseline"] = round(bulk / max(base, 1), 1)
        print(f"{backend:<10} bulk importer over the baseline: {bulk / max(base, 1):.1f}x")
        summary[backend] = figures
    print(json.dumps(summary))


def _fresh(backend: str, admin: str | None) -> tuple[str, Any]:
    if backend == "sqlite":
        folder = Path("/tmp/etle-bench") / uuid.uuid4().hex[:8]
        folder.mkdir(parents=True)
        url = f"sqlite:///{folder / 'etle.db'}"

        def drop() -> None:
            shutil.rmtree(folder, ignore_errors=True)

    else:
        assert admin is not None
        url, drop = postgres_database(admin)
    run_child(url, Path("/dev/null"), "setup")
    return url, drop


if __name__ == "__main__":
    main()
