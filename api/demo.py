"""The demo: the whole flow on the embedded default, with the sample frames.

Registry imported, cameras set up, frames ingested exactly as a camera push would be, read by
the real models in the worker job, confirmed by a demo officer, dispatched on every channel.
Running it again on the same data directory changes nothing: every step is idempotent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from api.runtime import Runtime
from camera_ingest.intake import FrameMetadata, ingest_frame
from etle.audit.chain import verify
from etle.cameras.models import Camera
from etle.cameras.service import add_camera
from etle.cases.models import Case, CaseStatus
from etle.cases.review import confirm
from etle.clock import utcnow
from etle.db import session_scope
from etle.errors import ValidationFailed
from etle.frames.accounting import Failure, failures
from etle.frames.models import Frame, PlateRead
from etle.migrate import upgrade
from etle.notices.models import Channel, Delivery, DeliveryStatus, Notice
from etle.officers.models import Role
from etle.officers.service import ensure_officer
from etle.registry.importer import import_csv
from notices.post_batches import export_post

SAMPLES = Path(__file__).resolve().parent.parent / "sample_frames"
DEMO_OFFICER = "demo.officer"
Step = Callable[[str, int], Callable[[], None]]


@dataclass
class DemoSummary:
    data_dir: str
    frames: int = 0
    plates_read: int = 0
    cases: int = 0
    cases_by_status: dict[str, int] = field(default_factory=dict)
    notices: dict[str, int] = field(default_factory=dict)
    new: dict[str, int] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    audit_events: int = 0
    audit_chain_ok: bool = False
    # Frames this run could not read, by cause (etle.frames.accounting.failures): the demo
    # fails loudly instead of reporting "0 plates read".
    failures: list[Failure] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "data_dir": self.data_dir,
            "frames": self.frames,
            "plates_read": self.plates_read,
            "cases": self.cases,
            "cases_by_status": self.cases_by_status,
            "notices": self.notices,
            "new": self.new,
            "files": self.files,
            "audit": {"events": self.audit_events, "chain_ok": self.audit_chain_ok},
            "failures": [asdict(f) for f in self.failures],
        }


def _no_progress(_label: str, _total: int) -> Callable[[], None]:
    return lambda: None


def run_demo(rt: Runtime, samples: Path = SAMPLES, step: Step = _no_progress) -> DemoSummary:
    if not samples.is_dir():
        raise ValidationFailed(f"sample folder not found: {samples}")
    upgrade(rt.engine)
    started = utcnow()
    new: dict[str, int] = {}
    with session_scope(rt.sessions) as session:
        report = import_csv(session, samples / "registry.csv", actor="system:demo")
        if report.errors:
            line, message = report.errors[0]
            raise ValidationFailed(f"registry.csv line {line}: {message}")
        new["vehicles"] = report.created
        new["cameras"] = 0
        for spec in json.loads((samples / "cameras.json").read_text()):
            if session.get(Camera, spec["id"]) is None:
                add_camera(session, camera_id=spec.pop("id"), actor="system:demo", **spec)
                new["cameras"] += 1
        ensure_officer(
            session,
            username=DEMO_OFFICER,
            role=Role.REVIEWER,
            full_name="Petugas Demo",
            actor="system:demo",
        )

    frames = json.loads((samples / "frames.json").read_text())
    advance = step("ingesting frames", len(frames))
    new["frames"] = 0
    for item in frames:
        with session_scope(rt.sessions) as session:
            result = ingest_frame(
                session,
                camera=session.get_one(Camera, item["camera"]),
                data=(samples / item["file"]).read_bytes(),
                metadata=FrameMetadata(
                    captured_at=item["captured_at"], violation=item["violation"]
                ),
                store=rt.evidence,
                settings=rt.settings,
                enqueue=rt.enqueue_recognition,
            )
        new["frames"] += not result.duplicate
        advance()

    with session_scope(rt.sessions) as session:
        waiting = (
            session.scalar(select(func.count()).select_from(Frame).where(Frame.status == "queued"))
            or 0
        )
    advance = step("reading plates", waiting)
    new["plates_read_jobs"] = rt.queue.drain(on_task=lambda _task: advance())

    new["confirmed"] = 0
    with session_scope(rt.sessions) as session:
        officer = ensure_officer(
            session,
            username=DEMO_OFFICER,
            role=Role.REVIEWER,
            full_name="Petugas Demo",
            actor="system:demo",
        )
        pending = list(
            session.scalars(
                select(Case)
                .where(Case.status == CaseStatus.PENDING_REVIEW, Case.owner_id.is_not(None))
                .order_by(Case.id)
            )
        )
        # Demo only: a real deployment puts each case in front of an officer (etle review).
        for case in pending:
            confirm(session, case=case, officer=officer, settings=rt.settings)
            new["confirmed"] += 1
    # Each confirmation queued its email and message jobs when it committed.
    to_send = rt.queue.depth()
    advance = step("sending email and messages", to_send)
    rt.queue.drain(on_task=lambda _task: advance())
    batch = export_post(rt.dispatch, actor="system:demo")
    new["post_letters"] = batch.letters if batch else 0
    return summarise(rt, new, started)


def summarise(rt: Runtime, new: dict[str, int], started: datetime | None = None) -> DemoSummary:
    s = rt.settings
    summary = DemoSummary(data_dir=str(s.data_dir.resolve()), new=new)
    with session_scope(rt.sessions) as session:
        summary.failures = failures(session, rejected_since=started)
        summary.frames = session.scalar(select(func.count()).select_from(Frame)) or 0
        summary.plates_read = session.scalar(select(func.count()).select_from(PlateRead)) or 0
        summary.cases = session.scalar(select(func.count()).select_from(Case)) or 0
        summary.cases_by_status = {
            status: count
            for status, count in session.execute(
                select(Case.status, func.count()).group_by(Case.status).order_by(Case.status)
            ).all()
        }
        sent = dict(
            session.execute(
                select(Delivery.channel, func.count())
                .where(Delivery.status == DeliveryStatus.SENT)
                .group_by(Delivery.channel)
            ).all()
        )
        summary.notices = {c.value: int(sent.get(c, 0)) for c in Channel}
        summary.notices["letters"] = session.scalar(select(func.count()).select_from(Notice)) or 0
        verdict = verify(session)
        summary.audit_events, summary.audit_chain_ok = verdict.checked, verdict.ok
    summary.files = {
        "post": str(s.post_folder.resolve()),
        "email": str(s.email_folder.resolve()),
        "message": str(s.message_file.resolve()),
        "database": s.effective_database_url,
    }
    return summary
