"""Domain errors, and the one body every error answer has.

Every error the domain raises carries the HTTP status an API should answer with, so the web layer
renders all of them in one handler and the CLI prints them as one line. Every error answer of
the API, the framework's own included (unknown route, a body that does not validate), has the
body `ErrorBody`: `{"error": code, "message": text, "detail": ...}`; the OpenAPI document
describes error answers with that same model. The tree:

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

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    """The body of every error answer (`detail` only when there is one)."""

    error: str = Field(description="machine-readable code", examples=["not_found"])
    message: str = Field(description="what went wrong, for a person")
    detail: Any = Field(default=None, description="the fields at fault, or other particulars")

    def as_dict(self) -> dict[str, Any]:
        """The JSON body: `detail` left out when there is none."""
        body: dict[str, Any] = {"error": self.error, "message": self.message}
        if self.detail is not None:
            body["detail"] = self.detail
        return body


class EtleError(Exception):
    status_code: ClassVar[int] = 500
    error: ClassVar[str] = "internal_error"
    # What the error means for a client, in an API document (`api.errors.error_responses`).
    description: ClassVar[str] = "something went wrong on our side"

    def __init__(self, message: str, *, detail: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def body(self) -> ErrorBody:
        return ErrorBody(error=self.error, message=self.message, detail=self.detail)

    def as_dict(self) -> dict[str, Any]:
        return self.body().as_dict()


class ConfigError(EtleError):
    error = "config_error"
    description = "the server is misconfigured"


class ValidationFailed(EtleError):
    status_code = 422
    error = "validation_failed"
    description = "the request is not valid"


class NotFound(EtleError):
    status_code = 404
    error = "not_found"
    description = "not found"


class Unauthorized(EtleError):
    status_code = 401
    error = "unauthorized"
    description = "no valid credential"


class Forbidden(EtleError):
    status_code = 403
    error = "forbidden"
    description = "not allowed"


class Conflict(EtleError):
    status_code = 409
    error = "conflict"
    description = "the record is not in a state that allows this"


class PayloadTooLarge(EtleError):
    status_code = 413
    error = "payload_too_large"
    description = "the request is over the size limit"


class RateLimited(EtleError):
    status_code = 429
    error = "rate_limited"
    description = "too many attempts: retry after `Retry-After`"

    def __init__(self, message: str, *, retry_after: int, detail: Any = None) -> None:
        super().__init__(message, detail=detail)
        self.retry_after = retry_after


class UnsupportedMedia(EtleError):
    status_code = 415
    error = "unsupported_media_type"
    description = "an unsupported type of content"


class EvidenceTampered(EtleError):
    error = "evidence_tampered"
    description = "stored evidence no longer matches its hash"


class ServiceUnavailable(EtleError):
    status_code = 503
    error = "service_unavailable"
    description = "a service it needs is unavailable: retry after `Retry-After`"


class NotConfigured(EtleError):
    status_code = 503
    error = "not_configured"
    description = "refused until an operator sets the setting the message names"
