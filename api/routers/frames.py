"""`POST /api/v1/frames`: the push contract for camera vendors.

The route reads the form and hands over to `camera_ingest.intake`, which authenticates the
camera; the frame's transaction commits (and its recognition job is queued) before the answer
leaves.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Response, UploadFile
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import AppRuntime, CameraToken, CommitsEvenIfRefused, OwnTransactions
from api.errors import error_responses
from api.runtime import Runtime
from camera_ingest.intake import (
    MAX_METADATA_BYTES,
    FrameMetadata,
    IntakeResult,
    ingest_pushed_frame,
    parse_metadata,
)
from etle.cameras.service import authenticate
from etle.errors import (
    PayloadTooLarge,
    ServiceUnavailable,
    Unauthorized,
    UnsupportedMedia,
    ValidationFailed,
)

router = APIRouter(prefix="/api/v1", tags=["camera intake"])

# Multipart framing and the metadata field on top of the image itself: the whole body may be
# this much larger than ETLE_MAX_UPLOAD_BYTES (see api/app.py).
FORM_OVERHEAD_BYTES = MAX_METADATA_BYTES + 16 * 1024


class FrameAccepted(BaseModel):
    frame_id: int = Field(description="The frame's number; a repeat answers the same one.")
    status: str = Field(description="`queued` until read; `read` or `failed` afterwards.")
    duplicate: bool = Field(description="true when this image or sequence number was sent before")


ERRORS = error_responses(
    {
        Unauthorized: "Unknown or disabled camera, or no camera token.",
        PayloadTooLarge: "The image (or the whole request) is over the size limit.",
        UnsupportedMedia: "Not a JPEG or PNG image.",
        ValidationFailed: "Bad metadata, a truncated or corrupt image, absurd dimensions, a "
        "decompression bomb, or a violation this camera may not report.",
        ServiceUnavailable: "The database or the evidence store is unavailable: retry after "
        "`Retry-After`.",
    }
)
# What a camera vendor sees of each error in the document.
EXAMPLES: dict[int | str, dict[str, Any]] = {
    401: {"error": "unauthorized", "message": "unknown or disabled camera"},
    413: {"error": "payload_too_large", "message": "image is 12582912 bytes; ..."},
    415: {"error": "unsupported_media_type", "message": "not a JPEG or PNG image"},
    422: {
        "error": "validation_failed",
        "message": "metadata is not valid",
        "detail": [{"field": "captured_at", "problem": "Field required"}],
    },
    503: {"error": "service_unavailable", "message": "the database is unavailable"},
}


@router.post(
    "/frames",
    status_code=202,
    summary="Push one frame from a camera",
    response_model=FrameAccepted,
    form_limits={"max_files": 1, "max_fields": 1, "max_part_size": MAX_METADATA_BYTES},
    responses={
        200: {"model": FrameAccepted, "description": "Seen before: the first frame's number."},
        **{
            status: {
                **answer,
                "content": {
                    "application/json": {
                        **answer["content"]["application/json"],
                        "example": EXAMPLES[status],
                    }
                },
            }
            for status, answer in ERRORS.items()
        },
    },
)
async def push_frame(
    token: CameraToken,
    runtime: AppRuntime,
    units: CommitsEvenIfRefused,
    response: Response,
    image: Annotated[UploadFile, File(description="The frame, JPEG or PNG.")],
    metadata: Annotated[
        str,
        Form(
            description="JSON object: "
            + ", ".join(
                f"`{name}`" + ("" if field.is_required() else " (optional)")
                for name, field in FrameMetadata.model_fields.items()
            )
            + ". `captured_at` is ISO 8601 with a time zone.",
            examples=['{"captured_at": "2026-11-20T07:15:04+07:00", "violation": "red_light"}'],
        ),
    ],
) -> FrameAccepted:
    """Store one frame as evidence and queue it for plate reading.

    `202` the frame is stored (committed) and queued. `200` the same image, or the same
    `sequence` from this camera, was received before: nothing new is stored and the first
    frame's number is returned, so a camera may safely resend anything it is unsure about.
    Any error stores nothing.
    """
    data = await image.read()  # in memory: the body limit was enforced while it was received
    # The blocking part (database, evidence fsync) in one trip through the thread pool: the
    # async route with a single hop costs less CPU than a sync route with sync dependencies
    # (each of which is a hop of its own).
    result = await run_in_threadpool(_ingest, runtime, units, token, metadata, data)
    if result.duplicate:
        response.status_code = 200
    return FrameAccepted(frame_id=result.frame_id, status=result.status, duplicate=result.duplicate)


def _ingest(
    runtime: Runtime, units: OwnTransactions, token: str, metadata: str, data: bytes
) -> IntakeResult:
    """One unit of work: it commits, and the recognition job is queued, before this returns,
    so the answer never leaves before the frame is stored (tests/api/test_commit_before_answer)."""
    with units() as session:
        try:
            parsed = parse_metadata(metadata)
        except ValidationFailed:
            authenticate(session, token)  # a stranger is told 401, not what the metadata lacks
            raise
        return ingest_pushed_frame(
            session,
            token=token,
            data=data,
            metadata=parsed,
            store=runtime.evidence,
            settings=runtime.settings,
            enqueue=runtime.enqueue_recognition,
        )
