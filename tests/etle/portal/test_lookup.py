"""Finding a notice: two factors always, one answer for every miss, limits per client and plate."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from api.settings import AppSettings
from etle.cases.models import Case
from etle.errors import NotFound, RateLimited, ValidationFailed
from etle.evidence import LocalBlobStore
from etle.notices.models import Notice
from etle.notices.service import luhn_digit
from etle.officers.models import LoginAttempt
from etle.plates import format_plate
from etle.portal import lookup
from tests import factories
from tests.portal_fixtures import sent


def _by_notice(
    session: Session, settings: AppSettings, number: str, plate: str, address: str = "10.0.0.1"
) -> lookup.LookupResult:
    return lookup.by_notice(
        session,
        notice_number=number,
        plate=plate,
        address=address,
        settings=settings,
        key=settings.signing_key,
    )


def _plate(session: Session, notice: Notice) -> str:
    return session.get_one(Case, notice.case_id).plate


def test_the_notice_number_and_its_plate_open_that_case_for_its_owner(
    session: Session, settings: AppSettings, notice: Notice
) -> None:
    # Written as people type it: spaces in the plate, the number in groups.
    plate = format_plate(_plate(session, notice)).lower()
    number = f"{notice.notice_number[:4]} {notice.notice_number[4:]}"
    result = _by_notice(session, settings, number, plate)
    assert result.granted() == [(notice.case_id, notice.owner_id)]


def test_an_unknown_notice_and_a_wrong_plate_are_the_same_miss(
    session: Session, settings: AppSettings, notice: Notice
) -> None:
    plate = _plate(session, notice)
    other = factories.unique_plate()
    # A well-formed number (its check digit right) that no notice has.
    unknown = notice.notice_number[:-2] + "9"
    unknown += luhn_digit(unknown)
    assert unknown != notice.notice_number
    misses = [
        _by_notice(session, settings, unknown, plate),
        _by_notice(session, settings, notice.notice_number, other),
    ]
    answers = []
    for miss in misses:
        with pytest.raises(NotFound) as caught:
            miss.granted()
        answers.append((type(caught.value), caught.value.status_code, caught.value.as_dict()))
    assert answers[0] == answers[1]
    assert answers[0][1] == 404


def test_every_miss_runs_the_same_statements(
    session: Session, settings: AppSettings, notice: Notice
) -> None:
    """No timing difference worth measuring: an unknown notice and a wrong plate send the
    database the same statements, with parameters of the same shape (bench/portal_lookup.py
    measures the times)."""
    plate = _plate(session, notice)
    unknown = notice.notice_number[:-2] + "9"
    unknown += luhn_digit(unknown)
    seen: list[list[tuple[str, int]]] = []

    def run(number: str, wanted: str, address: str) -> None:
        statements: list[tuple[str, int]] = []

        def remember(_conn: object, _cursor: object, sql: str, params: object, *_: object) -> None:
            size = len(params) if isinstance(params, tuple | list | dict) else 0
            statements.append((sql, size))

        bind = session.connection()
        event.listen(bind, "before_cursor_execute", remember)
        try:
            with pytest.raises(NotFound):
                _by_notice(session, settings, number, wanted, address).granted()
        finally:
            event.remove(bind, "before_cursor_execute", remember)
        seen.append(statements)

    run(unknown, plate, "10.9.0.1")
    run(notice.notice_number, factories.unique_plate(), "10.9.0.2")
    assert seen[0] == seen[1]
    assert len(seen[0]) >= 4  # limits counted, the one lookup, the attempt noted


def test_malformed_input_is_refused_before_any_lookup(
    session: Session, settings: AppSettings, notice: Notice
) -> None:
    typo = notice.notice_number[:-1] + str((int(notice.notice_number[-1]) + 1) % 10)
    with pytest.raises(ValidationFailed) as caught:
        _by_notice(session, settings, typo, _plate(session, notice))
    assert caught.value.detail == {"field": "notice_number", "code": "notice_number_invalid"}
    with pytest.raises(ValidationFailed) as caught:
        _by_notice(session, settings, notice.notice_number, "not a plate")
    assert caught.value.detail["code"] == "plate_invalid"
    attempts = session.scalar(
        select(func.count()).select_from(LoginAttempt).where(LoginAttempt.purpose != "login")
    )
    assert attempts == 0  # nothing was looked up, nothing counted


def test_plate_and_the_last_five_of_the_vin_open_the_vehicles_notices(
    session: Session, settings: AppSettings, store: LocalBlobStore
) -> None:
    first = sent(session, store, settings, vin="MHKA1BA1JFK012345")
    plate = _plate(session, first)
    car_id = session.get_one(Case, first.case_id).vehicle_id
    second_case = factories.noticed_case(
        session, vehicle=session.get_one(factories.Vehicle, car_id)
    )
    result = lookup.by_vin(
        session,
        plate=plate,
        vin_tail="12345",
        address="10.0.0.2",
        settings=settings,
        key=settings.signing_key,
    )
    assert sorted(result.granted()) == sorted(
        [(first.case_id, first.owner_id), (second_case.id, first.owner_id)]
    )


@pytest.mark.parametrize("vin", ["MHKA1BA1JFK012345", None])
def test_a_wrong_vin_or_a_vehicle_without_one_is_the_same_miss(
    session: Session, settings: AppSettings, store: LocalBlobStore, vin: str | None
) -> None:
    notice = sent(session, store, settings, vin=vin)
    with pytest.raises(NotFound) as caught:
        lookup.by_vin(
            session,
            plate=_plate(session, notice),
            vin_tail="12346",
            address="10.0.0.3",
            settings=settings,
            key=settings.signing_key,
        ).granted()
    assert caught.value.as_dict() == lookup.NoMatch().as_dict()


def test_never_by_plate_alone(session: Session, settings: AppSettings, notice: Notice) -> None:
    for tail in ("", "1234", "12 45"):
        with pytest.raises(ValidationFailed):
            lookup.by_vin(
                session,
                plate=_plate(session, notice),
                vin_tail=tail,
                address="10.0.0.4",
                settings=settings,
                key=settings.signing_key,
            )


def test_misses_from_one_address_lock_it_out_even_with_the_right_factors(
    session: Session, settings: AppSettings, notice: Notice
) -> None:
    plate = _plate(session, notice)
    for _ in range(settings.portal_max_failures_per_address):
        with pytest.raises(NotFound):
            _by_notice(session, settings, notice.notice_number, "B1A", "10.0.0.5").granted()
    with pytest.raises(RateLimited) as caught:
        _by_notice(session, settings, notice.notice_number, plate, "10.0.0.5").granted()
    assert caught.value.retry_after == settings.portal_window_seconds
    # Another address is not affected; refused tries were not counted.
    assert _by_notice(session, settings, notice.notice_number, plate, "10.0.0.6").granted()


def _guesses(notice: Notice, count: int) -> list[str]:
    """Well-formed notice numbers near the real one (an attacker's guesses), never it."""
    guesses = [notice.notice_number[:-3] + f"{i:02d}" for i in range(100)]
    guesses = [g + luhn_digit(g) for g in guesses]
    return [g for g in guesses if g != notice.notice_number][:count]


def _guard_plate(session: Session, settings: AppSettings, notice: Notice) -> None:
    """An attacker guesses notice numbers for the plate from many machines, up to its limit."""
    plate = _plate(session, notice)
    for i, guess in enumerate(_guesses(notice, settings.portal_max_failures_per_plate)):
        with pytest.raises(NotFound):
            _by_notice(session, settings, guess, plate, f"10.1.0.{i}").granted()


def test_misses_about_one_plate_from_many_addresses_stop_guessing_its_notice_numbers(
    session: Session, settings: AppSettings, notice: Notice
) -> None:
    """Past the plate's limit, number and plate alone open nothing, from any address, for the
    plate's own (long) window: the guessing stops."""
    plate = _plate(session, notice)
    _guard_plate(session, settings, notice)
    with pytest.raises(RateLimited) as caught:
        _by_notice(session, settings, notice.notice_number, plate, "10.2.0.1").granted()
    assert caught.value.detail == {"code": lookup.PLATE_GUARDED}
    assert caught.value.retry_after == settings.portal_plate_window_seconds
    # Another plate is not affected.
    other = sent(session, LocalBlobStore(settings.data_dir / "ev2"), settings)
    assert _by_notice(session, settings, other.notice_number, _plate(session, other), "10.2.0.1")


def test_an_attacker_cannot_lock_the_owner_out(
    session: Session, settings: AppSettings, notice: Notice
) -> None:
    """Issue 17: misses about a plate used to lock its owner out for good. The owner holds the
    letter, and its verification code opens the notice whatever strangers did; the code is
    what a guesser lacks (docs/portal.md has the arithmetic)."""
    plate = _plate(session, notice)
    _guard_plate(session, settings, notice)
    owner = "10.3.0.1"  # a new address: the owner's phone
    result = lookup.by_notice(
        session,
        notice_number=notice.notice_number,
        plate=plate,
        code=notice.verification_code.lower(),  # as people type it
        address=owner,
        settings=settings,
        key=settings.signing_key,
    )
    assert result.granted() == [(notice.case_id, notice.owner_id)]
    # The guesser keeps going: refused at once, and the owner still gets in.
    for i, guess in enumerate(_guesses(notice, 5)):
        with pytest.raises(RateLimited):
            _by_notice(session, settings, guess, plate, f"10.5.0.{i}").granted()
    again = lookup.by_notice(
        session,
        notice_number=notice.notice_number,
        plate=plate,
        code=notice.verification_code,
        address="10.3.0.2",
        settings=settings,
        key=settings.signing_key,
    )
    assert again.granted()


def test_a_wrong_code_is_an_ordinary_miss_and_counts_against_the_address(
    session: Session, settings: AppSettings, notice: Notice
) -> None:
    plate = _plate(session, notice)
    _guard_plate(session, settings, notice)
    wrong = "ABCDEFGH23" if notice.verification_code != "ABCDEFGH23" else "ABCDEFGH24"
    attacker = "10.4.0.1"
    for _ in range(settings.portal_max_failures_per_address):
        with pytest.raises(NotFound):
            lookup.by_notice(
                session,
                notice_number=notice.notice_number,  # even the right number and plate
                plate=plate,
                code=wrong,
                address=attacker,
                settings=settings,
                key=settings.signing_key,
            ).granted()
    with pytest.raises(RateLimited) as caught:
        lookup.by_notice(
            session,
            notice_number=notice.notice_number,
            plate=plate,
            code=notice.verification_code,
            address=attacker,
            settings=settings,
            key=settings.signing_key,
        ).granted()
    assert caught.value.detail is None  # the address's own limit, not the plate's
    with pytest.raises(ValidationFailed):
        lookup.by_notice(
            session,
            notice_number=notice.notice_number,
            plate=plate,
            code="short",
            address="10.4.0.2",
            settings=settings,
            key=settings.signing_key,
        )


def test_portal_misses_do_not_count_against_officer_sign_in(
    session: Session, settings: AppSettings, notice: Notice
) -> None:
    for _ in range(settings.portal_max_failures_per_address):
        with pytest.raises(NotFound):
            _by_notice(session, settings, notice.notice_number, "B1A", "10.0.0.9").granted()
    factories.officer_with_password(session, "Tilang-elektronik-2026", username="rina")
    result = factories.attempt_login(
        session,
        username="rina",
        password="Tilang-elektronik-2026",
        address="10.0.0.9",
        settings=settings,
    )
    assert result.accepted().username == "rina"


def test_the_rate_table_never_holds_a_plate(
    session: Session, settings: AppSettings, notice: Notice
) -> None:
    plate = _plate(session, notice)
    _by_notice(session, settings, notice.notice_number, plate, "10.0.0.10")
    subjects = set(
        session.scalars(select(LoginAttempt.username).where(LoginAttempt.purpose != "login"))
    )
    assert subjects
    assert plate not in subjects
    assert all(len(s) == 32 for s in subjects)
