"""The files the registration office (Samsat) works from, written by `etle cases escalate`.

In the registration folder (`ETLE_REGISTRATION_DIR`, default DATA_DIR/registration):

* `blocks-YYYY-MM-DD.csv`: blocks first listed that day (block these registrations);
* `unblocks-YYYY-MM-DD.csv`: blocks lifted and first listed that day (lift these, unless
  `vehicle_still_blocked` says another unpaid case keeps the vehicle blocked);
* `active-blocks.csv`: every block in force now, the full picture to reconcile against.

Each is rebuilt from the database (the stamps the job wrote) and replaced atomically, so
writing them again gives the same files and a crash never leaves half a list.
"""

from __future__ import annotations

import csv
import io
import os
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from etle.cameras.models import Camera
from etle.cases.models import Case
from etle.clock import local
from etle.escalation.models import RegistrationBlock
from etle.notices.models import Notice
from etle.registry.models import Owner, Vehicle
from etle.violations.models import ViolationType

BLOCK_COLUMNS = [
    "plate",
    "vin",
    "engine_number",
    "owner_name",
    "owner_nik",
    "owner_address",
    "case_id",
    "notice_number",
    "violation",
    "legal_basis",
    "max_fine_rp",
    "violation_date",
    "due_on",
    "blocked_on",
]
UNBLOCK_COLUMNS = ["plate", "vin", "case_id", "lifted_on", "reason", "vehicle_still_blocked"]


def _latest_notice() -> Any:
    return (
        select(Notice.case_id, func.max(Notice.issue).label("issue"))
        .group_by(Notice.case_id)
        .subquery()
    )


def _block_rows(session: Session, query: Select[Any]) -> list[list[Any]]:
    rows = []
    for block, case, vehicle, owner, violation, zone, notice_number in session.execute(query):
        rows.append(
            [
                block.plate,
                vehicle.vin or "",
                vehicle.engine_number or "",
                owner.name,
                owner.nik or "",
                owner.address,
                case.id,
                notice_number or "",
                violation.code,
                violation.legal_basis,
                violation.max_fine_rp,
                local(case.first_captured_at, zone).date().isoformat(),
                case.due_on.isoformat() if case.due_on else "",
                local(block.blocked_at, zone).date().isoformat(),
            ]
        )
    return rows


def _blocks_query() -> Select[Any]:
    latest = _latest_notice()
    notice = aliased(Notice)
    return (
        select(RegistrationBlock, Case, Vehicle, Owner, ViolationType, Camera.timezone)
        .add_columns(notice.notice_number)
        .join(Case, Case.id == RegistrationBlock.case_id)
        .join(Vehicle, Vehicle.id == RegistrationBlock.vehicle_id)
        .join(Owner, Owner.id == Case.owner_id)
        .join(ViolationType, ViolationType.code == Case.violation_code)
        .join(Camera, Camera.id == Case.camera_id)
        .outerjoin(latest, latest.c.case_id == Case.id)
        .outerjoin(notice, (notice.case_id == Case.id) & (notice.issue == latest.c.issue))
        .order_by(RegistrationBlock.plate, RegistrationBlock.case_id)
    )


def write_lists(session: Session, folder: Path, day: date) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    blocks = folder / f"blocks-{day.isoformat()}.csv"
    unblocks = folder / f"unblocks-{day.isoformat()}.csv"
    active = folder / "active-blocks.csv"
    query = _blocks_query()
    _write(
        blocks,
        BLOCK_COLUMNS,
        _block_rows(session, query.where(RegistrationBlock.listed_on == day)),
    )
    _write(
        active,
        BLOCK_COLUMNS,
        _block_rows(session, query.where(RegistrationBlock.lifted_at.is_(None))),
    )
    still_blocked = set(
        session.scalars(
            select(RegistrationBlock.vehicle_id).where(RegistrationBlock.lifted_at.is_(None))
        )
    )
    lifted = session.execute(
        select(RegistrationBlock, Vehicle.vin, Camera.timezone)
        .join(Vehicle, Vehicle.id == RegistrationBlock.vehicle_id)
        .join(Case, Case.id == RegistrationBlock.case_id)
        .join(Camera, Camera.id == Case.camera_id)
        .where(RegistrationBlock.lift_listed_on == day)
        .order_by(RegistrationBlock.plate, RegistrationBlock.case_id)
    )
    _write(
        unblocks,
        UNBLOCK_COLUMNS,
        [
            [
                block.plate,
                vin or "",
                block.case_id,
                local(block.lifted_at, zone).date().isoformat() if block.lifted_at else "",
                block.lift_reason or "",
                "yes" if block.vehicle_id in still_blocked else "no",
            ]
            for block, vin, zone in lifted
        ],
    )
    return {"blocks": blocks, "unblocks": unblocks, "active": active}


def _write(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(buffer.getvalue(), encoding="utf-8")
    os.replace(temp, path)
