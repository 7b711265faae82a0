"""Domain errors.

Every error the domain raises carries the HTTP status an API should answer with, so the web layer
renders all of them in one handler (`{"error": ..., "detail": ...}`) and the CLI prints them as one
line. The tree:

    EtleError (500)
    ├── ConfigError (500)          settings refused at start-up
    ├── ValidationFailed (422)     bad input: malformed plate, bad metadata, wrong type
    ├── NotFound (404)
    ├── Unauthorized (401)         unknown or disabled credential
    ├── Forbidden (403)
    ├── Conflict (409)             invalid state change, lease held by someone else
    ├── PayloadTooLarge (413)
    ├── RateLimited (429)          too many attempts; retry after `retry_after` seconds
    ├── UnsupportedMedia (415)
    ├── EvidenceTampered (500)     stored evidence no longer matches its hash
    ├── ServiceUnavailable (503)   a dependency is down; the client may retry
    └── NotConfigured (503)        refused until an operator sets something (a setting named in
                                   the message); retrying does not help before that
"""

from __future__ import annotations

from typing import Any, ClassVar


class EtleError(Exception):
    status_code: ClassVar[int] = 500
    error: ClassVar[str] = "internal_error"

    def __init__(self, message: str, *, detail: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.error, "message": self.message}
        if self.detail is not None:
            body["detail"] = self.detail
        return body


class ConfigError(EtleError):
    error = "config_error"


class ValidationFailed(EtleError):
    status_code = 422
    error = "validation_failed"


class NotFound(EtleError):
    status_code = 404
    error = "not_found"


class Unauthorized(EtleError):
    status_code = 401
    error = "unauthorized"


class Forbidden(EtleError):
    status_code = 403
    error = "forbidden"


class Conflict(EtleError):
    status_code = 409
    error = "conflict"


class PayloadTooLarge(EtleError):
    status_code = 413
    error = "payload_too_large"


class RateLimited(EtleError):
    status_code = 429
    error = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, detail: Any = None) -> None:
        super().__init__(message, detail=detail)
        self.retry_after = retry_after


class UnsupportedMedia(EtleError):
    status_code = 415
    error = "unsupported_media_type"


class EvidenceTampered(EtleError):
    error = "evidence_tampered"


class ServiceUnavailable(EtleError):
    status_code = 503
    error = "service_unavailable"


class NotConfigured(EtleError):
    status_code = 503
    error = "not_configured"
