"""Write-once, content-addressed file storage for evidence images and rendered letters.

Files are named by their SHA-256 and never rewritten (invariant 1). Every read re-computes the
hash: evidence that no longer matches is refused rather than shown, rendered or exported.
`BlobStore` is the interface; `LocalBlobStore` keeps files under the data directory and is the
default. An object store (S3 with object lock, say) fits the same three methods.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol

from etle.errors import EvidenceTampered, NotFound, ServiceUnavailable


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobStore(Protocol):
    def put(self, data: bytes, *, digest: str | None = None) -> str: ...

    def get(self, digest: str) -> bytes: ...

    def exists(self, digest: str) -> bool: ...


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, digest: str) -> Path:
        if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
            raise NotFound("no such evidence")
        return self.root / digest[:2] / digest[2:4] / digest

    def put(self, data: bytes, *, digest: str | None = None) -> str:
        """Store `data` durably under its SHA-256 (`digest`, when the caller just computed it)
        and return that digest. When this returns, the file and its name survive a crash."""
        digest = digest or sha256_hex(data)
        final = self.path_for(digest)
        if final.exists():
            return digest
        try:
            if not final.parent.is_dir():
                final.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=final.parent, prefix=".incoming-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.chmod(temp, 0o444)
                # link() fails if the name exists: a concurrent writer of the same bytes won,
                # and its file is identical by construction.
                try:
                    os.link(temp, final)
                except FileExistsError:
                    pass
                _fsync_directory(final.parent)  # the new name is durable too
            finally:
                os.unlink(temp)
        except OSError as exc:
            raise ServiceUnavailable(f"evidence store unavailable: {exc.strerror}") from exc
        return digest

    def get(self, digest: str) -> bytes:
        path = self.path_for(digest)
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise NotFound("evidence file missing") from exc
        if sha256_hex(data) != digest:
            raise EvidenceTampered(f"evidence {digest[:12]} no longer matches its hash")
        return data

    def exists(self, digest: str) -> bool:
        return self.path_for(digest).exists()


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def evidence_store(data_dir: Path) -> LocalBlobStore:
    return LocalBlobStore(data_dir / "evidence")


def document_store(data_dir: Path) -> LocalBlobStore:
    """Rendered letters and receipts: kept like evidence, by hash, once."""
    return LocalBlobStore(data_dir / "documents")
