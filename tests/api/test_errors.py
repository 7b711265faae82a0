"""One error model: every error answer, and every error the API document describes, is
`etle.errors.ErrorBody`."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from api.errors import ERROR, ERROR_REF, error_responses
from etle.errors import (
    Conflict,
    ErrorBody,
    NotConfigured,
    NotFound,
    RateLimited,
    ServiceUnavailable,
)

# Answers that are not errors of a request: the readiness report says which checks failed.
NOT_ERRORS = {("/readyz", "get", "503")}


def _schema_of(answer: dict[str, Any]) -> Any:
    return answer.get("content", {}).get("application/json", {}).get("schema")


def test_every_error_in_the_document_has_the_one_error_body(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert schemas[ERROR] == ErrorBody.model_json_schema(mode="serialization")
    assert schemas["HTTPValidationError"] == {**schemas[ERROR], "title": "ValidationFailed"}
    described = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                if not status.startswith(("4", "5")) or (path, method, status) in NOT_ERRORS:
                    continue
                described += 1
                assert _schema_of(answer) in (
                    {"$ref": ERROR_REF},
                    {"$ref": "#/components/schemas/HTTPValidationError"},
                ), (path, method, status, answer)
    assert described > 100


def test_the_answers_have_that_body(client: TestClient) -> None:
    for answer in (
        client.get("/api/v1/no-such-route"),  # the framework's 404
        client.get("/api/v1/public/notices", params={"plate": "B1"}),  # a validation error
        client.post("/api/v1/auth/token", data={"username": "x", "password": "y"}),  # domain
    ):
        body = answer.json()
        assert answer.status_code >= 400
        assert ErrorBody.model_validate(body).as_dict() == body
        assert set(body) <= {"error", "message", "detail"}


def test_a_route_declares_its_errors_by_class() -> None:
    responses = error_responses(
        NotFound, {Conflict: "already answered"}, RateLimited, ServiceUnavailable, NotConfigured
    )

    assert list(responses) == [404, 409, 429, 503]
    assert all(_schema_of(answer) == {"$ref": ERROR_REF} for answer in responses.values())
    assert responses[409]["description"] == "already answered (`conflict`)"
    # Two errors of one status share it, each named.
    assert "`service_unavailable`" in responses[503]["description"]
    assert "`not_configured`" in responses[503]["description"]


def test_the_domain_error_and_the_model_agree() -> None:
    error = RateLimited("slow down", retry_after=5, detail={"code": "plate_guarded"})
    assert error.as_dict() == {
        "error": "rate_limited",
        "message": "slow down",
        "detail": {"code": "plate_guarded"},
    }
    assert NotFound("no such case").as_dict() == {"error": "not_found", "message": "no such case"}
