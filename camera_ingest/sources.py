"""What the local frame sources (folder drop, stream pull) share: one frame in, one transaction.

The HTTP push authenticates a camera by its token; a local source is started by an operator for
one named camera, which must exist and be active when each frame arrives.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from camera_ingest.config import IngestSettings
from camera_ingest.intake import FrameMetadata, IntakeResult, ingest_frame
from etle.cameras.models import Camera, CameraStatus
from etle.db import session_scope
from etle.errors import NotFound, Unauthorized
from etle.evidence import BlobStore


@dataclass
class IntakeContext:
    sessions: sessionmaker[Session]
    store: BlobStore
    settings: IngestSettings
    enqueue: Callable[[int], None]


def active_camera(session: Session, camera_id: str) -> Camera:
    camera = session.get(Camera, camera_id)
    if camera is None:
        raise NotFound(f"no camera {camera_id}; add it with `etle cameras add`")
    if camera.status != CameraStatus.ACTIVE:
        raise Unauthorized(f"camera {camera_id} is disabled")
    return camera


def check_camera(ctx: IntakeContext, camera_id: str) -> Camera:
    """Refuse to start a source for a camera that is unknown or disabled."""
    with session_scope(ctx.sessions) as session:
        return active_camera(session, camera_id)


def ingest_for_camera(
    ctx: IntakeContext, camera_id: str, data: bytes, metadata: FrameMetadata
) -> IntakeResult:
    """Ingest one frame in a transaction of its own; its job is queued once that commits."""
    with session_scope(ctx.sessions) as session:
        return ingest_frame(
            session,
            camera=active_camera(session, camera_id),
            data=data,
            metadata=metadata,
            store=ctx.store,
            settings=ctx.settings,
            enqueue=ctx.enqueue,
        )
