"""Verification by a typed code, rate-limited: a wrong code counts against the client address,
so the ten-character codes cannot be tried in bulk. (A QR token is signed and needs no limit.)"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from etle.errors import EtleError
from etle.notices.verify import Verification, verify_code
from etle.portal.config import PortalSettings
from etle.ratelimit import Purpose, Rule, note, refusal


def verify_rule(settings: PortalSettings) -> Rule:
    return Rule(
        purpose=Purpose.VERIFY,
        window_seconds=settings.portal_window_seconds,
        per_address=settings.portal_max_failures_per_address,
    )


@dataclass(frozen=True, slots=True)
class CodeCheck:
    verification: Verification | None
    refusal: EtleError | None

    def answer(self) -> Verification:
        """The verification, or the refusal raised: call after the attempt has been committed."""
        if self.refusal is not None:
            raise self.refusal
        assert self.verification is not None
        return self.verification


def check_code(session: Session, code: str, *, address: str, settings: PortalSettings) -> CodeCheck:
    rule = verify_rule(settings)
    refused = refusal(session, rule, address=address)
    if refused is not None:
        return CodeCheck(None, refused)
    verification = verify_code(session, code)
    note(session, rule, address=address, succeeded=verification.genuine)
    return CodeCheck(verification, None)
