"""Registry import: validate every row first, then import all or nothing.

Two passes, both streamed, so memory does not grow with the file:

1. **Validate.** Every record of the file is checked (`etle.registry.rows`) and problems are
   collected with their line numbers. Duplicate plates are found by keeping each valid row's
   plate as one 64-bit integer (8 bytes a row) and sorting those at the end. Valid rows go,
   compressed, to a temporary file. Any problem: nothing is written and the report says why.
2. **Write.** The temporary file is read back chunk by chunk (a few thousand rows) and each
   chunk written in bulk (`etle.registry.bulk`: PostgreSQL COPY, executemany; never one ORM
   object per row). The pass runs in a savepoint: an error leaves nothing behind.

Importing the same file again changes nothing and writes no audit event: vehicles are keyed by
their normalised plate, and values are compared after normalisation. One audit event records
each import that changed something, with the file's SHA-256 and the counts.
"""

from __future__ import annotations

import pickle
import tempfile
import zlib
from array import array
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from sqlalchemy.orm import Session

from etle.audit.chain import record
from etle.clock import utcnow
from etle.errors import ValidationFailed
from etle.registry.bulk import WriteCounts, write_rows
from etle.registry.rows import (
    RegistryRow,
    RowInvalid,
    plate_from_key,
    plate_key,
    validate_row,
)
from etle.registry.sources import CountingReader, RecordError, SourceError, read_records

CHUNK_ROWS = 5_000
MAX_REPORTED_ERRORS = 1_000

# phase, done, total: "validating" counts bytes of the file, "importing" counts rows
Progress = Callable[[str, int, int], None]


@dataclass
class ImportReport:
    source: str
    sha256: str = ""
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    owners_changed: int = 0
    bad_rows: int = 0
    error_count: int = 0  # problems: a bad row has one or more, each reported
    # (line, problem), sorted by line; at most MAX_REPORTED_ERRORS of error_count are kept.
    errors: list[tuple[int, str]] = field(default_factory=list)
    imported: bool = False

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def add_error(self, line: int, problem: str) -> None:
        self.add_errors(line, [problem])

    def add_errors(self, line: int, problems: list[str]) -> None:
        """Every problem of one bad row."""
        self.bad_rows += 1
        for problem in problems:
            self.error_count += 1
            if len(self.errors) < MAX_REPORTED_ERRORS:
                self.errors.append((line, problem))

    def as_dict(self) -> dict[str, Any]:
        body = asdict(self)
        body["ok"] = self.ok
        body["errors"] = [{"line": line, "problem": problem} for line, problem in self.errors]
        return body


def import_file(
    session: Session,
    path: Path,
    *,
    actor: str,
    progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
    check_only: bool = False,
) -> ImportReport:
    """Validate `path` (CSV, JSON array or JSON Lines) and import it if every row is valid.

    Returns the report either way; `report.imported` says whether anything was written
    (never with `check_only`).
    """
    if not path.is_file():
        raise ValidationFailed(f"{path}: no such file")
    total = path.stat().st_size
    report = ImportReport(source=path.name)
    with tempfile.TemporaryFile(prefix="etle-import-") as stash:
        report.sha256 = _validate(path, report, stash, progress, total, chunk_rows)
        if not report.ok or check_only:
            return report
        session.flush()
        stash.seek(0)
        with session.begin_nested():  # all or nothing, even if the caller commits anyway
            _write(session, path, report, actor, stash, progress)
        report.imported = True
    return report


def import_csv(session: Session, path: Path, *, actor: str) -> ImportReport:
    return import_file(session, path, actor=actor)


def _validate(
    path: Path,
    report: ImportReport,
    stash: BinaryIO,
    progress: Progress | None,
    total: int,
    chunk_rows: int,
) -> str:
    """Check every record; keep the valid ones, compressed, in `stash` for the write pass (so
    nothing is parsed twice and a file edited meanwhile cannot slip rows in)."""
    keys, lines = array("q"), array("q")
    batch: list[RegistryRow] = []
    on_bytes = None if progress is None else (lambda done: progress("validating", done, total))
    with path.open("rb") as raw:
        reader = CountingReader(raw, on_bytes)
        try:
            for line, raw_record in read_records(path, reader):
                report.rows += 1
                if isinstance(raw_record, RecordError):
                    report.add_error(line, raw_record.message)
                    continue
                try:
                    row = validate_row(line, raw_record)
                except RowInvalid as exc:
                    report.add_errors(line, exc.problems)
                    continue
                except ValidationFailed as exc:
                    report.add_error(line, exc.message)
                    continue
                keys.append(plate_key(row.vehicle.plate))
                lines.append(line)
                if report.ok:
                    batch.append(row)
                    if len(batch) >= chunk_rows:
                        _stash(stash, batch)
                        batch = []
        except SourceError as exc:
            report.add_error(exc.line, exc.message)
        digest = reader.sha256.hexdigest()
    if report.ok:
        _stash(stash, batch)
    _report_duplicates(keys, lines, report)
    report.errors.sort(key=lambda error: error[0])  # by line; a row's problems in column order
    return digest


def _stash(stash: BinaryIO, rows: list[RegistryRow]) -> None:
    if rows:
        data = zlib.compress(pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL), 1)
        stash.write(len(data).to_bytes(8, "big"))
        stash.write(data)


def _unstash(stash: BinaryIO) -> Iterator[list[RegistryRow]]:
    while header := stash.read(8):
        # Our own temporary file, written a moment ago by this process: safe to unpickle.
        rows: list[RegistryRow] = pickle.loads(zlib.decompress(stash.read(int.from_bytes(header))))
        yield rows


def _report_duplicates(keys: array[int], lines: array[int], report: ImportReport) -> None:
    if len(keys) < 2:
        return
    plates = np.frombuffer(keys, dtype=np.int64)
    where = np.frombuffer(lines, dtype=np.int64)
    order = np.argsort(plates, kind="stable")  # stable: the first in the file comes first
    ordered = plates[order]
    for position in np.flatnonzero(ordered[1:] == ordered[:-1]) + 1:
        first = int(np.searchsorted(ordered, ordered[position], side="left"))
        report.add_error(
            int(where[order[position]]),
            f"plate {plate_from_key(int(ordered[position]))} is already on line "
            f"{int(where[order[first]])}",
        )


def _write(
    session: Session,
    path: Path,
    report: ImportReport,
    actor: str,
    stash: BinaryIO,
    progress: Progress | None,
) -> None:
    now = utcnow()
    counts = WriteCounts()
    valid = report.rows
    for rows in _unstash(stash):
        counts = counts + write_rows(session, rows, now=now, source="import")
        if progress is not None:
            progress("importing", counts.rows, valid)
    report.created, report.updated = counts.created, counts.updated
    report.unchanged, report.owners_changed = counts.unchanged, counts.owners_changed
    if report.created or report.updated:
        record(
            session,
            actor=actor,
            action="registry.imported",
            entity_type="registry",
            entity_id=path.name[:64],
            after={
                "file": path.name,
                "sha256": report.sha256,
                "rows": report.rows,
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "owners_changed": report.owners_changed,
            },
        )
