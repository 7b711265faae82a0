"""Every table, imported in one place so that metadata (and Alembic) sees them all."""

from etle.audit.models import AuditEvent
from etle.cameras.models import Camera
from etle.cases.models import Case, CaseFrame, ReviewDecision
from etle.escalation.models import RegistrationBlock
from etle.frames.models import Frame, PlateRead
from etle.jurisdictions.models import Jurisdiction
from etle.notices.models import Delivery, Notice, PostBatch, WebhookEvent
from etle.officers.models import LoginAttempt, Officer
from etle.payments.models import Payment, PaymentCallback
from etle.portal.models import CaseResponse, ScamReport
from etle.registry.models import Owner, Ownership, Vehicle
from etle.violations.models import ViolationType

__all__ = [
    "AuditEvent",
    "Camera",
    "Case",
    "CaseFrame",
    "CaseResponse",
    "Delivery",
    "Frame",
    "LoginAttempt",
    "Jurisdiction",
    "Notice",
    "Officer",
    "Owner",
    "Ownership",
    "Payment",
    "PaymentCallback",
    "PlateRead",
    "PostBatch",
    "RegistrationBlock",
    "ReviewDecision",
    "ScamReport",
    "Vehicle",
    "ViolationType",
    "WebhookEvent",
]
