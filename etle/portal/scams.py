"""Reports of messages pretending to be ETLE notices (a known fraud: fake "surat tilang" APKs
over WhatsApp, payment links to private accounts). Nothing about the reporter is required or
kept; the report is what the scammer sent, for the police to act on. Rate-limited per client
address (`etle.ratelimit`), so the form cannot be used to flood the table."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from etle.errors import EtleError
from etle.portal.config import PortalSettings
from etle.portal.models import ScamReport
from etle.portal.responses import PortalInputError
from etle.ratelimit import Purpose, Rule, note, refusal

CHANNELS = ("sms", "whatsapp", "email", "letter", "phone", "social", "other")


def report_rule(settings: PortalSettings) -> Rule:
    return Rule(
        purpose=Purpose.SCAM_REPORT,
        window_seconds=settings.portal_window_seconds,
        per_address=settings.portal_max_reports_per_address,
        failures_only=False,
    )


@dataclass(frozen=True, slots=True)
class ReportResult:
    report: ScamReport | None
    refusal: EtleError | None

    def accepted(self) -> ScamReport:
        if self.refusal is not None:
            raise self.refusal
        assert self.report is not None
        return self.report


def _clean(value: str | None, limit: int, field: str) -> str | None:
    text = (value or "").strip()
    if len(text) > limit:
        raise PortalInputError(f"{field} has at most {limit} characters", field=field, code=field)
    return text or None


def report_scam(
    session: Session,
    *,
    channel: str,
    message: str | None,
    sender: str | None,
    link: str | None,
    address: str,
    settings: PortalSettings,
) -> ReportResult:
    if channel not in CHANNELS:
        raise PortalInputError(
            f"channel must be one of {', '.join(CHANNELS)}", field="channel", code="channel"
        )
    text = _clean(message, 2000, "message")
    sender_text, link_text = _clean(sender, 200, "sender"), _clean(link, 500, "link")
    if not text and not link_text:
        raise PortalInputError(
            "paste the message you received (or at least the link in it)",
            field="message",
            code="message",
        )
    rule = report_rule(settings)
    refused = refusal(session, rule, address=address)
    if refused is not None:
        return ReportResult(None, refused)
    report = ScamReport(channel=channel, message=text or "", sender=sender_text, link=link_text)
    session.add(report)
    note(session, rule, address=address, succeeded=True)
    return ReportResult(report, None)


def recent_reports(session: Session, *, limit: int = 50) -> list[ScamReport]:
    return list(
        session.scalars(select(ScamReport).order_by(ScamReport.id.desc()).limit(max(1, limit)))
    )
