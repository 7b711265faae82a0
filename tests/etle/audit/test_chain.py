from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from etle.audit.chain import event_hash, record, verify
from etle.audit.digest import head_digest, verify_with_digests
from etle.audit.models import AuditEvent


def _three_events(session: Session) -> None:
    for i in range(3):
        record(
            session,
            actor="test",
            action="thing.changed",
            entity_type="thing",
            entity_id=i,
            before={"n": i},
            after={"n": i + 1},
        )


def test_an_untouched_chain_verifies(session: Session) -> None:
    _three_events(session)
    verdict = verify(session)
    assert verdict.ok
    assert verdict.head_seq >= 3


def test_an_edited_event_is_named(session: Session) -> None:
    _three_events(session)
    head = verify(session).head_seq
    session.execute(
        update(AuditEvent).where(AuditEvent.seq == head - 1).values(actor="someone else")
    )
    session.expire_all()
    verdict = verify(session)
    assert not verdict.ok
    assert verdict.first_bad_seq == head - 1
    assert "edited" in (verdict.problem or "")


def test_a_deleted_event_is_named(session: Session) -> None:
    _three_events(session)
    head = verify(session).head_seq
    session.execute(delete(AuditEvent).where(AuditEvent.seq == head - 1))
    session.expire_all()
    verdict = verify(session)
    assert not verdict.ok
    assert verdict.first_bad_seq == head - 1
    assert "deleted" in (verdict.problem or "")


def test_an_event_inserted_out_of_place_is_named(session: Session) -> None:
    _three_events(session)
    head = verify(session).head_seq
    genuine = session.get_one(AuditEvent, head)
    forged = AuditEvent(
        seq=head + 1,
        occurred_at=genuine.occurred_at,
        actor="someone",
        action="case.transition",
        entity_type="case",
        entity_id="1",
        before=None,
        after={"status": "void"},
        prev_hash=genuine.prev_hash,  # chained to the event before the head, not to the head
    )
    forged.hash = event_hash(forged)
    session.add(forged)
    session.flush()
    verdict = verify(session)
    assert not verdict.ok
    assert verdict.first_bad_seq == head + 1
    assert "does not follow" in (verdict.problem or "")


def test_a_published_digest_catches_the_newest_events_being_deleted(session: Session) -> None:
    _three_events(session)
    digest = head_digest(session)
    assert verify_with_digests(session, [digest]).ok
    session.execute(delete(AuditEvent).where(AuditEvent.seq >= digest.seq - 1))
    session.expire_all()
    assert verify(session).ok  # what is left is still a valid chain...
    verdict = verify_with_digests(session, [digest])  # ...but not the one that was published
    assert not verdict.ok
    assert verdict.first_bad_seq == digest.seq - 1
    assert f"events {digest.seq - 1} to {digest.seq} are missing" in (verdict.problem or "")


def test_a_published_digest_catches_a_rewritten_chain(session: Session) -> None:
    _three_events(session)
    digest = head_digest(session)
    # Someone with database access edits an event and re-hashes everything after it.
    events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
    events[-2].actor = "someone else"
    previous = events[-3].hash
    for event in events[-2:]:
        event.prev_hash = previous
        event.hash = event_hash(event)
        previous = event.hash
    session.flush()
    assert verify(session).ok
    verdict = verify_with_digests(session, [digest])
    assert not verdict.ok
    assert verdict.first_bad_seq == digest.seq
    assert "rewritten" in (verdict.problem or "")
