"""The OpenAPI document, corrected where FastAPI's defaults do not describe our answers.

FastAPI documents every 422 as its own `HTTPValidationError` (`{"detail": [{"loc", "msg",
"type"}]}`), but `api/errors.py` answers every error, 422 included, in one shape, the model
`etle.errors.ErrorBody` (`{"error", "message", "detail"}`), which also documents the errors
each route declares (`api.errors.error_responses`). Here the 422s and the 400s of unparsable
bodies are pointed at the same model. Clients generated from the document (and schemathesis,
tests/api/test_schema_fuzz.py) must see the shape they will get.

A body that cannot be parsed at all (bytes that are not JSON) is answered 400 by the framework
before validation; every operation that takes a body says so.

`/docs` (Swagger UI) is served with its own files, from the `swagger-ui-py` package (Swagger UI
5, Apache-2.0, its licence at `/docs/assets/LICENSE`): FastAPI's default page loads them from a
public CDN, and the service may run where there is no internet (issue 17). ReDoc, which would
need a CDN as well, is not offered.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, Response

from api.errors import ERROR, ERROR_REF
from etle.errors import ErrorBody, NotFound

DOCS_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
    "LICENSE": "text/plain; charset=utf-8",
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
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            schemas[ERROR] = ErrorBody.model_json_schema(mode="serialization")
            if "HTTPValidationError" in schemas:
                schemas["HTTPValidationError"] = {**schemas[ERROR], "title": "ValidationFailed"}
                schemas.pop("ValidationError", None)
            unparsable = {
                "description": "The body could not be parsed (`bad_request`).",
                "content": {"application/json": {"schema": {"$ref": ERROR_REF}}},
            }
            for path in document.get("paths", {}).values():
                for operation in path.values():
                    if "requestBody" in operation:
                        operation.setdefault("responses", {}).setdefault("400", unparsable)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    install_docs(app)


@cache
def _read(name: str) -> bytes:
    return (files("swagger_ui") / "static" / name).read_bytes()  # once: the bundle is 1.5 MB


def install_docs(app: FastAPI) -> None:
    """Swagger UI at `/docs`, every file from this server. The app is built with
    `docs_url=None` so FastAPI's CDN page is not there as well."""

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title}: API",
            swagger_js_url="/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/docs/assets/swagger-ui.css",
            swagger_favicon_url="/docs/assets/favicon-32x32.png",
            oauth2_redirect_url="/docs/oauth2-redirect",
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    async def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/docs/assets/{name}", include_in_schema=False)
    async def asset(name: str) -> Response:
        if name not in DOCS_ASSETS:
            raise NotFound("no such file")
        return Response(
            _read(name),
            media_type=DOCS_ASSETS[name],
            headers={"Cache-Control": "public, max-age=86400"},
        )
