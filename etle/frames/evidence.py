"""Evidence of frames and cases, checked against its hash whenever it leaves the store.

`LocalBlobStore.get` re-hashes every read; this module adds the two operator tasks built on it:
export a frame's (or a case's) evidence with its SHA-256 beside it, and verify the whole store.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from etle.cases.models import Case
from etle.errors import EvidenceTampered, NotFound
from etle.evidence import BlobStore
from etle.frames.models import Frame

_SUFFIX = {"image/jpeg": ".jpg", "image/png": ".png"}


@dataclass(frozen=True, slots=True)
class ExportedEvidence:
    frame_id: int
    sha256: str
    path: Path
    checksum_path: Path


def export_evidence(
    session: Session,
    store: BlobStore,
    destination: Path,
    *,
    frame_id: int | None = None,
    case_id: int | None = None,
) -> ExportedEvidence:
    """Copy one frame's evidence (or a case's) out of the store, only if it still matches the
    hash kept with the frame (and with the case), with a `sha256sum -c` file beside it."""
    if case_id is not None:
        case = session.get(Case, case_id)
        if case is None:
            raise NotFound(f"no case {case_id}")
        frame = session.get_one(Frame, case.evidence_frame_id)
        if frame.sha256 != case.evidence_sha256:
            raise EvidenceTampered(f"case {case_id}: its evidence hash differs from its frame's")
    elif frame_id is not None:
        found = session.get(Frame, frame_id)
        if found is None:
            raise NotFound(f"no frame {frame_id}")
        frame = found
    else:
        raise NotFound("say which frame or case")
    data = store.get(frame.sha256)  # re-hashed here: altered evidence never leaves
    destination.mkdir(parents=True, exist_ok=True)
    name = f"frame-{frame.id}-{frame.sha256[:12]}{_SUFFIX.get(frame.content_type, '.bin')}"
    path = destination / name
    path.write_bytes(data)
    checksum = path.with_name(name + ".sha256")
    checksum.write_text(f"{frame.sha256}  {name}\n")
    return ExportedEvidence(frame.id, frame.sha256, path, checksum)


@dataclass(frozen=True, slots=True)
class EvidenceProblem:
    frame_id: int
    sha256: str
    problem: str  # "missing" or "tampered"


def verify_evidence(session: Session, store: BlobStore) -> Iterator[int | EvidenceProblem]:
    """Re-hash every frame's evidence. Yields each frame id checked, or a problem instead."""
    rows = session.execute(
        select(Frame.id, Frame.sha256).order_by(Frame.id).execution_options(yield_per=1000)
    )
    for frame_id, digest in rows:
        try:
            store.get(digest)
        except EvidenceTampered:
            yield EvidenceProblem(frame_id, digest, "tampered")
        except NotFound:
            yield EvidenceProblem(frame_id, digest, "missing")
        else:
            yield frame_id
