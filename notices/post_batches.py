"""Print batches: pending post deliveries collected into a folder for the postal service.

Letters are claimed, rendered and written into a temporary folder; then, in one transaction, the
batch row is created and every delivery marked sent with it; only after that commit is the
folder renamed to its final name. A crash before the commit leaves a temporary folder that the
next export removes (its letters are still pending); a crash after it leaves one that the next
export finishes renaming. No letter is ever in two batches.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from etle.audit.chain import record
from etle.clock import utcnow
from etle.db import session_scope
from etle.errors import EtleError
from etle.notices import ledger
from etle.notices.models import Channel, Delivery, Notice, PostBatch
from notices.channels.post import BatchWriter
from notices.dispatch import DispatchContext, check_portal_url, keep_pdf, letter_for, pdf_for

log = logging.getLogger(__name__)
TEMP_PREFIX = ".incomplete-"
CHUNK = 100


@dataclass(frozen=True, slots=True)
class ExportedBatch:
    name: str
    folder: Path
    letters: int
    skipped: int  # letters left pending because they could not be rendered (see attention)


def export_post(
    ctx: DispatchContext,
    *,
    actor: str,
    limit: int | None = None,
    now: datetime | None = None,
    on_letter: Callable[[int, int], None] | None = None,
) -> ExportedBatch | None:
    """Collect pending post deliveries (at most `limit`) into one print batch; None if none.

    `on_letter(done, total)` is called after each letter (progress bars). Refused (nothing
    claimed) while ETLE_PORTAL_URL is not the portal's https address (`portal_refusal`)."""
    check_portal_url(ctx)
    root = ctx.settings.post_folder
    root.mkdir(parents=True, exist_ok=True)
    recover_batches(ctx)
    now = now or utcnow()
    name = f"batch-{now:%Y%m%dT%H%M%S%f}Z"
    with session_scope(ctx.sessions) as session:
        ids = ledger.due_deliveries(session, (Channel.POST,), now=now, limit=limit)
        lease = ctx.settings.dispatch_lease_seconds + len(ids)  # a second a letter, generously
        ids = [
            i for i in ids if ledger.claim(session, i, worker=name, lease_seconds=lease) is not None
        ]
    if not ids:
        return None
    temp = root / f"{TEMP_PREFIX}{name}"
    writer = BatchWriter(temp)
    written: list[int] = []
    rendered: dict[int, str] = {}
    try:
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            with session_scope(ctx.sessions) as session:
                jobs = []
                for delivery_id in chunk:
                    notice = session.get_one(
                        Notice, session.get_one(Delivery, delivery_id).notice_id
                    )
                    try:
                        letter = letter_for(session, ctx, notice)
                    except EtleError as exc:  # e.g. evidence no longer matches its hash
                        _set_aside(session, delivery_id, notice, exc)
                        continue
                    jobs.append((delivery_id, notice.id, notice.pdf_sha256, letter))
            for delivery_id, notice_id, kept, letter in jobs:
                pdf, sha = pdf_for(ctx, letter, kept)
                if kept is None:
                    rendered[notice_id] = sha
                writer.add(letter, pdf)
                written.append(delivery_id)
                if on_letter is not None:
                    on_letter(len(written), len(ids))
        if not written:
            shutil.rmtree(temp)
            return None
        sums = writer.finish()
        with session_scope(ctx.sessions) as session:
            batch = PostBatch(name=name, letters=len(written), sums_sha256=sums, exported_by=actor)
            session.add(batch)
            session.flush()
            for delivery_id in written:
                ledger.mark_sent(
                    session, delivery_id, provider_ref=name, actor=actor, batch_id=batch.id
                )
            for notice_id, sha in rendered.items():
                keep_pdf(session, notice_id, sha)
            record(
                session,
                actor=actor,
                action="post_batch.exported",
                entity_type="post_batch",
                entity_id=batch.id,
                after={"name": name, "letters": len(written), "sha256sums": sums},
            )
    except BaseException:
        with session_scope(ctx.sessions) as session:
            for delivery_id in ids:
                ledger.release(session, delivery_id)
        raise
    temp.rename(root / name)
    return ExportedBatch(name, root / name, len(written), len(ids) - len(written))


def _set_aside(session: Session, delivery_id: int, notice: Notice, exc: EtleError) -> None:
    ledger.release(session, delivery_id)
    notice.attention = f"letter cannot be rendered: {exc.message}"[:200]
    notice.attention_at = utcnow()
    log.warning("notice %s set aside from the print batch: %s", notice.id, exc.error)


def recover_batches(ctx: DispatchContext) -> None:
    root = ctx.settings.post_folder
    for temp in root.glob(f"{TEMP_PREFIX}*"):
        name = temp.name.removeprefix(TEMP_PREFIX)
        with session_scope(ctx.sessions) as session:
            committed = session.scalar(select(PostBatch.id).where(PostBatch.name == name))
        if committed is not None:
            temp.rename(root / name)
        else:
            shutil.rmtree(temp)


def list_batches(ctx: DispatchContext, *, since: timedelta | None = None) -> list[PostBatch]:
    with session_scope(ctx.sessions) as session:
        query = select(PostBatch).order_by(PostBatch.id.desc())
        if since is not None:
            query = query.where(PostBatch.exported_at >= utcnow() - since)
        return list(session.scalars(query))
