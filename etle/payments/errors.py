"""What a bank callback can be refused for, each with its own error code, so a bank integrator
can tell "fix your signing" from "this payment needs a refund" (docs/portal.md lists them)."""

from __future__ import annotations

from etle.errors import Conflict, NotFound, Unauthorized, ValidationFailed


class BadSignature(Unauthorized):
    error = "bad_signature"


class StaleTimestamp(Unauthorized):
    error = "stale_timestamp"


class ReplayedRequest(Conflict):
    error = "replayed_request"


class UnknownPaymentCode(NotFound):
    error = "unknown_payment_code"


class AmountMismatch(ValidationFailed):
    error = "amount_mismatch"


class TransactionReused(Conflict):
    error = "transaction_id_reused"


class AlreadyPaid(Conflict):
    error = "already_paid"


class NotPayable(Conflict):
    error = "not_payable"
