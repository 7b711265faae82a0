"""One place that turns errors into HTTP answers, each with the one body `etle.errors.ErrorBody`
(`{"error": code, "message": text, "detail": ...}`), and says so in the API document.

Domain errors carry their status. A database that cannot be reached answers 503 with
Retry-After, so a camera retries instead of dropping the frame. A route declares the domain
errors it can raise with `error_responses(...)`, which documents each status with the same
model.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY

from etle.errors import ErrorBody, EtleError, RateLimited, ServiceUnavailable, Unauthorized

log = logging.getLogger(__name__)

ERROR = ErrorBody.__name__  # the model's name among the API document's schemas
ERROR_REF = f"#/components/schemas/{ERROR}"


def error_body(error: str, message: str, detail: object = None) -> dict[str, Any]:
    """The body of an error the framework raises (not a domain error), in the one shape."""
    return ErrorBody(error=error, message=message, detail=detail).as_dict()


def error_responses(
    *raised: type[EtleError] | Mapping[type[EtleError], str],
) -> dict[int | str, dict[str, Any]]:
    """A route's `responses=` for the domain errors it can raise: each status with the one
    error model and a description naming what it means there and its codes. Give an error
    class (its own description), or a mapping from error classes to what they mean for this
    route."""
    described: dict[type[EtleError], str] = {}
    for item in raised:
        if isinstance(item, Mapping):
            described.update(item)
        else:
            described[item] = item.description
    by_status: dict[int, list[str]] = {}
    for error, text in described.items():
        by_status.setdefault(error.status_code, []).append(f"{text} (`{error.error}`)")
    # The schema by reference, always as JSON (a route's own answers may be text or images):
    # `api.openapi_doc` puts the model among the document's schemas.
    body = {"application/json": {"schema": {"$ref": ERROR_REF}}}
    return {
        status: {"description": "; ".join(texts), "content": body}
        for status, texts in sorted(by_status.items())
    }


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, EtleError)
    headers: dict[str, str] | None = None
    if isinstance(exc, ServiceUnavailable):
        headers = {"Retry-After": "5"}
    elif isinstance(exc, RateLimited):
        headers = {"Retry-After": str(exc.retry_after)}
    elif isinstance(exc, Unauthorized):
        headers = {"WWW-Authenticate": "Bearer"}  # RFC 6750: say how to authenticate
    return JSONResponse(exc.as_dict(), status_code=exc.status_code, headers=headers)


_HTTP_ERRORS = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    """Errors raised by the framework itself (unknown route, body over the size limit, a
    multipart form that cannot be parsed), in the same shape as the domain's."""
    assert isinstance(exc, HTTPException)
    status, message = exc.status_code, str(exc.detail)
    if status == 413:
        limit = request.scope.get(MAX_BODY_SIZE_SCOPE_KEY)
        message = "the request body is too large" + (
            f"; the limit is {limit} bytes" if limit is not None else ""
        )
    elif isinstance(exc.__context__, MultiPartException):  # raised by Request.form()
        status, message = 422, f"the multipart form is not valid: {exc.__context__.message}"
    error = _HTTP_ERRORS.get(status, "validation_failed" if status == 422 else "http_error")
    return JSONResponse(error_body(error, message), status_code=status, headers=exc.headers)


async def _invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    detail = [
        {"field": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")}
        for e in exc.errors()
    ]
    return JSONResponse(
        error_body("validation_failed", "the request is not valid", detail), status_code=422
    )


async def _database_down(_request: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable: %s", type(exc).__name__)
    return JSONResponse(
        error_body("service_unavailable", "the database is unavailable; retry shortly"),
        status_code=503,
        headers={"Retry-After": "5"},
    )


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    """Anything no other handler knows, in the API's error shape; the traceback goes to the
    log (Starlette re-raises it after this answer), never to the client."""
    log.error("unexpected error: %s", type(exc).__name__)
    return JSONResponse(
        error_body("internal_error", "something went wrong on our side; it has been logged"),
        status_code=500,
    )


async def _changed_meanwhile(_request: Request, exc: Exception) -> JSONResponse:
    # The optimistic version column caught two changes to one row at once: the later loses.
    log.info("concurrent change refused: %s", type(exc).__name__)
    return JSONResponse(
        error_body("conflict", "the record was changed by someone else meanwhile; reload"),
        status_code=409,
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(EtleError, _domain_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StaleDataError, _changed_meanwhile)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(OperationalError, _database_down)
    app.add_exception_handler(DBAPIError, _database_down)
    # No free database connection in time: the same answer as a database that is down.
    app.add_exception_handler(PoolTimeout, _database_down)
    app.add_exception_handler(Exception, _unexpected)
