"""Issuing a notice: the notice row and one delivery per channel the owner can be reached on,
written in the transaction of the officer's confirmation (see DESIGN.md)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from etle.audit.chain import record
from etle.cases.models import Case
from etle.cases.speeding import speed_of
from etle.clock import local, utcnow
from etle.errors import Conflict
from etle.notices.models import Channel, Delivery, Notice
from etle.registry.models import Owner
from etle.registry.rows import split_address

# Languages a notice can be written in; Bahasa Indonesia unless the owner chose English.
SUPPORTED_LANGUAGES = ("id", "en")

# No 0/O, 1/I/L: a verification code is read aloud and typed by people.
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def luhn_digit(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return str((10 - total % 10) % 10)


def notice_number(case_id: int, issue: int, year_month: str) -> str:
    """`YYMM` + case id + issue + a Luhn check digit: a typo is caught before any lookup."""
    body = f"{year_month}{case_id:08d}{issue}"
    return body + luhn_digit(body)


def is_well_formed_notice_number(value: str) -> bool:
    return len(value) >= 14 and value.isdigit() and luhn_digit(value[:-1]) == value[-1]


def new_verification_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))


def channels_for(owner: Owner) -> list[Channel]:
    channels = [Channel.POST] if owner.address.strip() else []
    if owner.email:
        channels.append(Channel.EMAIL)
    if owner.phone:
        channels.append(Channel.MESSAGE)
    return channels


def issue_notice(
    session: Session, case: Case, *, respond_days: int, zone: str, actor: str
) -> Notice:
    if case.owner_id is None:
        raise Conflict(f"case {case.id} has no registered owner to send a notice to")
    owner = session.get_one(Owner, case.owner_id)
    channels = channels_for(owner)
    if not channels:
        raise Conflict(f"owner of case {case.id} has no address, email or phone")
    issue = (
        session.scalar(select(func.max(Notice.issue)).where(Notice.case_id == case.id)) or 0
    ) + 1
    now = utcnow()
    number = notice_number(case.id, issue, f"{local(now, zone):%y%m}")
    speed = speed_of(session, case)
    # Owners written before addresses had parts (or by hand) have only the one line.
    street, district, city = (
        (owner.street, owner.district, owner.city)
        if owner.street or owner.city
        else split_address(owner.address)
    )
    notice = Notice(
        notice_number=number,
        case_id=case.id,
        issue=issue,
        owner_id=owner.id,
        recipient_name=owner.name,
        recipient_address=owner.address,
        recipient_street=street,
        recipient_district=district,
        recipient_city=city,
        recipient_postcode=owner.postcode,
        recipient_email=owner.email,
        recipient_phone=owner.phone,
        language=owner.language if owner.language in SUPPORTED_LANGUAGES else "id",
        measured_speed_kmh=speed.measured_kmh if speed else None,
        speed_limit_kmh=speed.limit_kmh if speed else None,
        verification_code=new_verification_code(),
        issued_at=now,
        respond_by=local(now, zone).date() + timedelta(days=respond_days),
    )
    session.add(notice)
    case.due_on = notice.respond_by  # the deadline now running (etle cases escalate)
    session.flush()
    for channel in channels:
        session.add(
            Delivery(
                notice_id=notice.id, channel=channel, idempotency_key=f"{number}-{channel.value}"
            )
        )
    session.flush()
    record(
        session,
        actor=actor,
        action="notice.issued",
        entity_type="case",
        entity_id=case.id,
        after={
            "notice_number": number,
            "issue": issue,
            "owner_id": owner.id,
            "channels": [c.value for c in channels],
            "respond_by": notice.respond_by,
        },
    )
    return notice
