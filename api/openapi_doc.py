"""The OpenAPI document, corrected where FastAPI's defaults do not describe our answers.

FastAPI documents every 422 as its own `HTTPValidationError` (`{"detail": [{"loc", "msg",
"type"}]}`), but `api/errors.py` answers every error, 422 included, in one shape:
`{"error", "message", "detail"}`. Clients generated from the document (and schemathesis,
tests/api/test_schema_fuzz.py) must see the shape they will get.

A body that cannot be parsed at all (bytes that are not JSON) is answered 400 by the framework
before validation; every operation that takes a body says so.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "machine-readable code"},
        "message": {"type": "string", "description": "what went wrong, for a person"},
        "detail": {"description": "the fields at fault, or other particulars"},
    },
}


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                routes=app.routes,
            )
            schemas = document.get("components", {}).get("schemas", {})
            if "HTTPValidationError" in schemas:
                schemas["HTTPValidationError"] = {**ERROR_SCHEMA, "title": "ValidationFailed"}
                schemas.pop("ValidationError", None)
            schemas["Error"] = ERROR_SCHEMA
            unparsable = {
                "description": "The body could not be parsed.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
            for path in document.get("paths", {}).values():
                for operation in path.values():
                    if "requestBody" in operation:
                        operation.setdefault("responses", {}).setdefault("400", unparsable)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
