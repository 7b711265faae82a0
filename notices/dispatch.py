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
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from etle.clock import utcnow
from etle.db import after_commit, session_scope
from etle.evidence import BlobStore
from etle.notices import ledger
from etle.notices.models import Channel, Delivery, DeliveryStatus, Notice
from notices.channels.base import Outgoing, PermanentFailure, Sender, TemporaryFailure
from notices.channels.email import DkimSigner, FolderEmailSender, SmtpEmailSender
from notices.channels.gateways import SmsGatewaySender, WhatsAppCloudSender
from notices.channels.message import OutboxMessageSender
from notices.config import NoticeSettings
from notices.journal import SentJournal
from notices.letter import Letter, load_letter
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

    def close(self) -> None:
        for sender in self.senders.values():
            sender.close()


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
    )


def pdf_for(ctx: DispatchContext, letter: Letter, kept_sha256: str | None) -> tuple[bytes, str]:
    """The letter's PDF: the kept one if rendered before, else rendered now and kept."""
    if kept_sha256 is not None:
        return ctx.documents.get(kept_sha256), kept_sha256
    pdf = render_letter(letter, ctx.wording)
    return pdf, ctx.documents.put(pdf)


def dispatch_delivery(ctx: DispatchContext, delivery_id: int) -> DeliveryStatus:
    s = ctx.settings
    with session_scope(ctx.sessions) as session:
        delivery = ledger.claim(
            session, delivery_id, worker=ctx.worker, lease_seconds=s.dispatch_lease_seconds
        )
        if delivery is None or delivery.channel == Channel.POST:
            if delivery is not None:  # post goes out with the next print batch
                ledger.release(session, delivery_id)
            current = session.get(Delivery, delivery_id)
            return DeliveryStatus(current.status) if current else DeliveryStatus.FAILED
        channel, key = Channel(delivery.channel), delivery.idempotency_key
        notice_id = delivery.notice_id
        notice = session.get_one(Notice, notice_id)
        kept = notice.pdf_sha256
        letter = letter_for(session, ctx, notice)

    provider_ref = ctx.journal.lookup(key)
    rendered: str | None = None
    if provider_ref is None:
        try:
            pdf, rendered = pdf_for(ctx, letter, kept)
            journal = ctx.journal
            sent = ctx.senders[channel].send(
                Outgoing(letter, pdf, key, on_accepted=lambda ref: journal.record(key, ref))
            )
        except TemporaryFailure as exc:
            return _temporary(ctx, delivery_id, str(exc))
        except PermanentFailure as exc:
            with session_scope(ctx.sessions) as session:
                ledger.mark_failed(session, delivery_id, error=str(exc), actor=DISPATCH_ACTOR)
            return DeliveryStatus.FAILED
        except BaseException:
            with session_scope(ctx.sessions) as session:
                ledger.release(session, delivery_id)
            raise
        provider_ref = sent.provider_ref

    with session_scope(ctx.sessions) as session:
        ledger.mark_sent(session, delivery_id, provider_ref=provider_ref, actor=DISPATCH_ACTOR)
        if rendered is not None and kept is None:
            keep_pdf(session, notice_id, rendered)
    return DeliveryStatus.SENT


def keep_pdf(session: Session, notice_id: int, sha256: str) -> None:
    """Note the rendered letter's hash once (a concurrent render produced the same bytes)."""
    notice = session.get_one(Notice, notice_id)
    if notice.pdf_sha256 is None:
        notice.pdf_sha256 = sha256
        notice.rendered_at = utcnow()


def _temporary(ctx: DispatchContext, delivery_id: int, error: str) -> DeliveryStatus:
    s = ctx.settings
    with session_scope(ctx.sessions) as session:
        retry = ledger.note_temporary_failure(
            session,
            delivery_id,
            error=error,
            actor=DISPATCH_ACTOR,
            max_attempts=s.dispatch_max_attempts,
            base_delay=s.dispatch_retry_seconds,
        )
        if retry is not None and retry.delay_seconds is not None and ctx.retry_later:
            schedule, delay = ctx.retry_later, retry.delay_seconds
            after_commit(session, lambda: schedule(delivery_id, delay))
    log.info("delivery %s: temporary failure, attempt %s", delivery_id, retry and retry.attempt)
    if retry is not None and retry.delay_seconds is None:
        return DeliveryStatus.FAILED
    return DeliveryStatus.PENDING
