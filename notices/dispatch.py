"""The dispatcher: deliveries waiting in the ledger go out through their channel.

The ledger (one `Delivery` row per notice and channel, written with the officer's confirmation)
is the outbox. For each email or message delivery a worker:

1. claims it for a lease, in a short transaction, and reads the letter's facts;
2. renders the PDF outside any transaction (or reuses the one kept by hash: rendering is
   repeatable, so a second render gives the same bytes);
3. calls the provider with the delivery's idempotency key, unless this machine's sent journal
   shows the provider already accepted it (a crash after the send);
4. notes the acceptance in the sent journal at once, then marks the delivery sent.

A crash anywhere leaves the delivery pending and its claim lapses; the sweep queues it again
and the journal (and the gateways' idempotency keys) keep it from going out twice. Temporary
failures wait with exponential backoff; permanent ones hand the notice to its other channels
(`etle.notices.ledger`). Post goes out in print batches (`notices.post_batches`).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from etle.cases.models import Case
from etle.clock import utcnow
from etle.db import after_commit, session_scope
from etle.errors import NotConfigured
from etle.evidence import BlobStore, sha256_hex
from etle.jurisdictions.service import default_issuer
from etle.notices import ledger
from etle.notices.models import Channel, DeliveryStatus, Notice
from notices.channels.base import Outgoing, PermanentFailure, Sender, Sent, TemporaryFailure
from notices.channels.email import DkimSigner, FolderEmailSender, SmtpEmailSender
from notices.channels.gateways import SmsGatewaySender, WhatsAppCloudSender
from notices.channels.message import OutboxMessageSender
from notices.config import NoticeSettings
from notices.journal import SentJournal
from notices.letter import Letter, LetterRows, letter_from_rows, letter_rows, load_letter
from notices.render import render_letter
from notices.wording import Wording

log = logging.getLogger(__name__)
DISPATCH_ACTOR = "system:dispatcher"
ELECTRONIC = (Channel.EMAIL, Channel.MESSAGE)


@dataclass
class DispatchContext:
    settings: NoticeSettings
    sessions: sessionmaker[Session]
    evidence: BlobStore
    documents: BlobStore
    senders: dict[Channel, Sender]
    wording: Wording
    journal: SentJournal
    worker: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    # Queue the delivery's job again after a delay (seconds); set by the composition root.
    retry_later: Callable[[int, float], None] | None = None
    # The demo (`etle demo`): notices go to local files and link to the local portal, so a
    # plain-http ETLE_PORTAL_URL is allowed there and nowhere else (see `portal_refusal`).
    demo: bool = False
    _keeper: ThreadPoolExecutor | None = None

    def keep(self, pdf: bytes, sha256: str) -> Future[str]:
        """Write a rendered letter to the document store in a background thread (its fsyncs
        wait for the disk, not for this thread)."""
        if self._keeper is None:
            self._keeper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="etle-keep")
        return self._keeper.submit(self.documents.put, pdf, digest=sha256)

    def close(self) -> None:
        if self._keeper is not None:
            self._keeper.shutdown(wait=True)
            self._keeper = None
        for sender in self.senders.values():
            sender.close()


def portal_refusal(ctx: DispatchContext) -> str | None:
    """Why notices may not go out with this ETLE_PORTAL_URL; None when they may.

    Every letter, email and message carries the portal's address as the only official link
    (and its QR code): left at its default, it would send citizens to http://127.0.0.1:8000.
    Outside the demo, nothing is sent until it is an https address."""
    url = ctx.settings.portal_url
    if ctx.demo or url.startswith("https://"):
        return None
    return (
        f"notices are not sent while ETLE_PORTAL_URL is {url}: letters, emails and messages "
        "carry it as the only official link, so set it to the portal's https:// address"
    )


def check_portal_url(ctx: DispatchContext) -> None:
    refusal = portal_refusal(ctx)
    if refusal is not None:
        raise NotConfigured(refusal)


def build_senders(settings: NoticeSettings, wording: Wording) -> dict[Channel, Sender]:
    dkim = DkimSigner.from_settings(settings)
    email: Sender
    if settings.email_backend == "smtp":
        email = SmtpEmailSender(settings, wording=wording, dkim=dkim)
    else:
        email = FolderEmailSender(
            settings.email_folder, sender=settings.email_from, wording=wording, dkim=dkim
        )
    message: Sender
    if settings.message_backend == "sms":
        message = SmsGatewaySender(settings, wording=wording)
    elif settings.message_backend == "whatsapp":
        message = WhatsAppCloudSender(settings, wording=wording)
    else:
        message = OutboxMessageSender(settings.message_file, wording=wording)
    return {Channel.EMAIL: email, Channel.MESSAGE: message}


def build_context(
    settings: NoticeSettings,
    sessions: sessionmaker[Session],
    evidence: BlobStore,
    documents: BlobStore,
) -> DispatchContext:
    wording = Wording(settings.templates_dir)
    return DispatchContext(
        settings=settings,
        sessions=sessions,
        evidence=evidence,
        documents=documents,
        senders=build_senders(settings, wording),
        wording=wording,
        journal=SentJournal(settings.sent_journal.parent),
    )


def letter_for(session: Session, ctx: DispatchContext, notice: Notice) -> Letter:
    s = ctx.settings
    return load_letter(
        session,
        ctx.evidence,
        notice,
        portal_url=s.portal_url,
        signing_key=s.signing_key,
        token_days=s.verify_token_days,
        issuer=default_issuer(s),
    )


def pdf_for(ctx: DispatchContext, letter: Letter, kept_sha256: str | None) -> tuple[bytes, str]:
    """The letter's PDF: the kept one if rendered before, else rendered now and kept."""
    if kept_sha256 is not None:
        return ctx.documents.get(kept_sha256), kept_sha256
    pdf = render_letter(letter, ctx.wording)
    return pdf, ctx.documents.put(pdf)


@dataclass
class _Claimed:
    """A delivery this dispatcher holds, with what it needs once the claim has committed."""

    delivery_id: int
    channel: Channel
    key: str
    notice_id: int
    kept: str | None
    rows: LetterRows
    # What became of it: sent (provider_ref), failed for good, or to try again later; none of
    # these (not tried, or an unexpected error) releases it.
    provider_ref: str | None = None
    rendered: str | None = None
    permanent: str | None = None
    temporary: str | None = None
    keeping: Future[str] | None = None  # the rendered letter being written to the store


def dispatch_delivery(ctx: DispatchContext, delivery_id: int) -> DeliveryStatus:
    """Send one delivery, and with it up to `ETLE_DISPATCH_CHUNK - 1` others that are due.

    A chunk costs one claim transaction, one marking transaction (its audit events appended
    in one go) and the use of one kept-open session per channel, instead of three transactions
    per notice. The guarantees are those of a single delivery, each delivery on its own:
    claimed under a row lock with a lease, sent one after the other with never more than one
    message in flight, noted in the sent journal the instant the provider accepts it (a crash
    mid-chunk repeats at most the message in flight), and marked sent only if still pending.
    The other deliveries' own jobs find them done and change nothing. While a message is on
    the wire the next letter is rendered, and rendered letters are kept (written and synced)
    by a background thread: neither waits for the network or the disk.

    Returns the status of `delivery_id`.
    """
    s = ctx.settings
    check_portal_url(ctx)  # before anything is claimed: the deliveries stay pending
    started = time.monotonic()
    claimed, status = _claim_chunk(ctx, delivery_id)
    if not claimed:
        return status
    stopped: set[Channel] = set()  # a channel that failed temporarily waits for its retry
    errors: dict[int, Exception] = {}
    in_flight: tuple[_Claimed, Future[Sent]] | None = None
    try:
        for item in claimed:
            # Never send on a claim that may have lapsed: past half the lease the rest is
            # released and queued again.
            if item.channel in stopped or time.monotonic() - started > s.dispatch_lease_seconds / 2:
                continue
            try:
                outgoing = _prepare(ctx, item)
            except Exception as exc:  # this delivery only (tampered evidence, a bug): released
                log.exception("delivery %s could not be dispatched", item.delivery_id)
                errors[item.delivery_id] = exc
                continue
            if outgoing is None:  # the journal shows the provider took it before a crash
                continue
            if in_flight is not None:
                _finish(*in_flight, stopped=stopped, errors=errors)
                in_flight = None
                if item.channel in stopped:
                    continue
            in_flight = (item, _start(ctx.senders[item.channel], outgoing))
        if in_flight is not None:
            _finish(*in_flight, stopped=stopped, errors=errors)
    except BaseException:
        # Interrupted: what went out is marked; the rest (and a message still on the wire,
        # which the journal will show if it was accepted) is released.
        _settle(ctx, claimed, own=delivery_id, errors=errors)
        raise
    status = _settle(ctx, claimed, own=delivery_id, errors=errors)
    if delivery_id in errors:
        raise errors[delivery_id]
    return status


def _prepare(ctx: DispatchContext, item: _Claimed) -> Outgoing | None:
    """The message for a claimed delivery, or None if the provider already has it."""
    provider_ref = ctx.journal.lookup(item.key)
    if provider_ref is not None:
        item.provider_ref = provider_ref
        return None
    s = ctx.settings
    letter = letter_from_rows(
        item.rows,
        ctx.evidence,
        portal_url=s.portal_url,
        signing_key=s.signing_key,
        token_days=s.verify_token_days,
        issuer=default_issuer(s),
    )
    if item.kept is not None:
        pdf = ctx.documents.get(item.kept)
    else:
        pdf = render_letter(letter, ctx.wording)
        item.rendered = sha256_hex(pdf)
        item.keeping = ctx.keep(pdf, item.rendered)
    journal, key = ctx.journal, item.key
    return Outgoing(letter, pdf, key, on_accepted=lambda ref: journal.record(key, ref))


def _start(sender: Sender, outgoing: Outgoing) -> Future[Sent]:
    """Hand the message over: SMTP returns at once (the session thread sends it), the other
    channels answer before this returns. Failures come back through the future."""
    future: Future[Sent] = Future()
    try:
        if isinstance(sender, SmtpEmailSender):
            return sender.submit(outgoing)
        future.set_result(sender.send(outgoing))
    except Exception as exc:
        future.set_exception(exc)
    return future


def _finish(
    item: _Claimed, future: Future[Sent], *, stopped: set[Channel], errors: dict[int, Exception]
) -> None:
    try:
        item.provider_ref = future.result().provider_ref
    except TemporaryFailure as exc:
        item.temporary = str(exc)
        stopped.add(item.channel)
    except PermanentFailure as exc:
        item.permanent = str(exc)
    except Exception as exc:
        log.exception("delivery %s could not be dispatched", item.delivery_id)
        errors[item.delivery_id] = exc


def _claim_chunk(ctx: DispatchContext, delivery_id: int) -> tuple[list[_Claimed], DeliveryStatus]:
    """Claim `delivery_id` (whether due or not: its retry job names it) and the next due ones.

    Nothing more is looked for when `delivery_id` itself is done or held: that is the job of
    a delivery an earlier chunk took, and it should cost one row read, not a search."""
    s = ctx.settings
    lease = s.dispatch_lease_seconds
    with session_scope(ctx.sessions) as session:
        own = ledger.locked(session, delivery_id)
        if own is None:
            return [], DeliveryStatus.FAILED
        status = DeliveryStatus(own.status)
        if own.channel == Channel.POST:  # post goes out with the next print batch
            return [], status
        if ledger.claim_locked(session, own, worker=ctx.worker, lease_seconds=lease) is None:
            return [], status
        mine = [own]
        if s.dispatch_chunk > 1:
            postgres = session.get_bind().dialect.name == "postgresql"
            due = ledger.due_deliveries(
                session, ELECTRONIC, limit=s.dispatch_chunk, skip_locked=postgres
            )
            wanted = [i for i in due if i != delivery_id][: s.dispatch_chunk - 1]
            mine += [
                d
                for d in ledger.locked_many(session, wanted).values()
                if ledger.claim_locked(session, d, worker=ctx.worker, lease_seconds=lease)
            ]
        notices = {
            n.id: n
            for n in session.scalars(
                select(Notice).where(Notice.id.in_({d.notice_id for d in mine}))
            )
        }
        rows = letter_rows(session, [notices[d.notice_id] for d in mine])
        claimed = [
            _Claimed(
                delivery_id=d.id,
                channel=Channel(d.channel),
                key=d.idempotency_key,
                notice_id=d.notice_id,
                kept=notices[d.notice_id].pdf_sha256,
                rows=r,
            )
            for d, r in zip(mine, rows, strict=True)
        ]
    return claimed, status


def _settle(
    ctx: DispatchContext,
    claimed: list[_Claimed],
    *,
    own: int,
    errors: dict[int, Exception] | None = None,
) -> DeliveryStatus:
    """Write what became of each claimed delivery, in one transaction; the status of `own`."""
    s = ctx.settings
    errors = errors or {}
    status = DeliveryStatus.PENDING
    again: list[tuple[int, float]] = []
    for item in claimed:
        # A letter's hash is noted only once its file is durable; one that could not be kept
        # is rendered again next time it is needed (rendering is repeatable).
        if item.keeping is not None:
            try:
                item.keeping.result()
            except Exception:
                log.exception("letter of delivery %s could not be kept", item.delivery_id)
                item.rendered = None
    with session_scope(ctx.sessions) as session:
        deliveries = ledger.locked_many(session, [c.delivery_id for c in claimed])
        notice_ids = {c.notice_id for c in claimed}
        notices = list(session.scalars(select(Notice).where(Notice.id.in_(notice_ids))))
        # In the identity map from here on: marking a delivery sent reads its notice and case.
        list(session.scalars(select(Case).where(Case.id.in_({n.case_id for n in notices}))))
        for item in claimed:
            delivery = deliveries.get(item.delivery_id)
            if delivery is None:
                continue
            result = DeliveryStatus.PENDING
            if item.provider_ref is not None:
                ledger.mark_locked_sent(
                    session, delivery, provider_ref=item.provider_ref, actor=DISPATCH_ACTOR
                )
                if item.rendered is not None and item.kept is None:
                    keep_pdf(session, item.notice_id, item.rendered)
                result = DeliveryStatus.SENT
            elif item.permanent is not None:
                ledger.mark_failed(
                    session, item.delivery_id, error=item.permanent, actor=DISPATCH_ACTOR
                )
                result = DeliveryStatus.FAILED
            elif item.temporary is not None:
                retry = ledger.note_temporary_failure(
                    session,
                    item.delivery_id,
                    error=item.temporary,
                    actor=DISPATCH_ACTOR,
                    max_attempts=s.dispatch_max_attempts,
                    base_delay=s.dispatch_retry_seconds,
                )
                log.info(
                    "delivery %s: temporary failure, attempt %s",
                    item.delivery_id,
                    retry and retry.attempt,
                )
                if retry is not None and retry.delay_seconds is not None:
                    again.append((item.delivery_id, retry.delay_seconds))
                elif retry is not None:
                    result = DeliveryStatus.FAILED
            else:  # not tried, or an unexpected error: free for the next dispatcher
                ledger.release(session, item.delivery_id)
                if item.delivery_id not in errors:  # an error waits for the sweep, as before
                    again.append((item.delivery_id, 0.0))
            if item.delivery_id == own:
                status = result
        if ctx.retry_later is not None and again:
            schedule = ctx.retry_later

            def queue_again() -> None:
                for delivery_id, delay in again:
                    schedule(delivery_id, delay)

            after_commit(session, queue_again)
    return status


def keep_pdf(session: Session, notice_id: int, sha256: str) -> None:
    """Note the rendered letter's hash once (a concurrent render produced the same bytes)."""
    notice = session.get_one(Notice, notice_id)
    if notice.pdf_sha256 is None:
        notice.pdf_sha256 = sha256
        notice.rendered_at = utcnow()
