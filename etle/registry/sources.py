"""Reading registry files as a stream of (line number, record) pairs, whatever the format.

CSV (with a header row), a JSON array of objects, or JSON Lines (one object per line). Files are
read in chunks and never held whole, so a file of a million rows costs the same memory as one of
a hundred. Each record keeps the line it starts on, so the import report can point at it.

The reader also hashes the bytes it reads and counts them: the count drives the progress bar,
and the hash lets the import check that the file did not change between validating and writing.

JSON is parsed with the standard library's `raw_decode`, one value at a time, rather than with a
streaming library: the streaming parsers available do not report line numbers, and the import
report must.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from etle.errors import ValidationFailed
from etle.registry.rows import REQUIRED

Record = dict[str, str]
_CHUNK = 1 << 16
_MAX_RECORD = 1 << 20  # a record larger than 1 MB is a broken file, not a vehicle


class SourceError(Exception):
    """The file cannot be read on from this line (broken JSON, bad encoding)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class RecordError(Exception):
    """One record is unusable (wrong shape), but the next one can be read."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CountingReader(io.RawIOBase):
    """Passes bytes through, hashing and counting them."""

    def __init__(self, raw: BinaryIO, on_progress: Callable[[int], None] | None) -> None:
        self._raw = raw
        self._on_progress = on_progress
        self.sha256 = hashlib.sha256()
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.sha256.update(data)
        self.count += n
        if self._on_progress is not None and n:
            self._on_progress(self.count)
        return n


def file_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix == ".json":
        return "json"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    raise ValidationFailed(f"{path.name}: unknown file type; use .csv, .json or .jsonl")


def read_records(path: Path, reader: CountingReader) -> Iterator[tuple[int, Record | RecordError]]:
    """Yield (line, record) for every record of the file; a record with the wrong shape is
    yielded as a `RecordError` so the caller reports it and carries on."""
    text = io.TextIOWrapper(io.BufferedReader(reader, _CHUNK), encoding="utf-8-sig", newline="")
    try:
        kind = file_format(path)
        if kind == "csv":
            yield from _csv_records(path, text)
        else:
            yield from _json_records(text, lines=kind == "jsonl")
    except UnicodeDecodeError as exc:
        raise SourceError(0, f"the file is not UTF-8 text ({exc.reason})") from exc


def _csv_records(path: Path, text: io.TextIOWrapper) -> Iterator[tuple[int, Record | RecordError]]:
    rows = csv.reader(text)
    try:
        header = [name.strip() for name in next(rows)]
    except StopIteration:
        return
    except csv.Error as exc:
        raise SourceError(1, f"not a CSV file: {exc}") from exc
    missing = [column for column in REQUIRED if column not in header]
    if "address" not in header and not {"street", "city"} <= set(header):
        missing.append("address (or street, district, city)")
    if missing:
        raise ValidationFailed(f"{path.name}: missing columns {', '.join(missing)}")
    width = len(header)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:
            raise SourceError(rows.line_num, f"broken CSV: {exc}") from exc
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # blank line
        if len(row) != width:
            yield (
                rows.line_num,
                RecordError(f"has {len(row)} fields, the header has {width}"),
            )
            continue
        yield rows.line_num, {name: value.strip() for name, value in zip(header, row, strict=True)}


def _json_records(
    text: io.TextIOWrapper, *, lines: bool
) -> Iterator[tuple[int, Record | RecordError]]:
    """A JSON array of records (`.json`), or one record per line (`.jsonl`; a `.json` file
    that does not start with '[' is read this way too)."""
    stream = _JsonStream(text)
    in_array = not lines and stream.peek() == "["
    if in_array:
        stream.advance(1)
        if stream.peek() == "]":
            stream.advance(1)
            if stream.peek() != "":
                raise SourceError(stream.line, "unexpected data after the closing ']'")
            return
    while stream.peek() != "":
        line = stream.line
        value = stream.decode()
        yield line, _as_record(value)
        if not in_array:
            continue  # JSON Lines: the next value follows after white space
        separator = stream.peek()
        if separator == ",":
            stream.advance(1)
            continue
        if separator != "]":
            raise SourceError(stream.line, "expected ',' or ']' after a record")
        stream.advance(1)
        if stream.peek() != "":
            raise SourceError(stream.line, "unexpected data after the closing ']'")
        return
    if in_array:
        raise SourceError(stream.line, "the file ends before the closing ']'")


def _as_record(value: object) -> Record | RecordError:
    if not isinstance(value, dict):
        return RecordError("is not an object ({...})")
    record: Record = {}
    for key, item in value.items():
        if item is None:
            record[key] = ""
        elif isinstance(item, bool) or not isinstance(item, str | int | float):
            return RecordError(f"{key} must be text or a number")
        else:
            record[key] = str(item).strip()
    return record


class _JsonStream:
    """JSON values read one at a time from a text stream, with the line each one starts on."""

    def __init__(self, handle: io.TextIOWrapper) -> None:
        self._handle = handle
        self._decoder = json.JSONDecoder()
        self._buffer = ""
        self._pos = 0
        self._eof = False
        self.line = 1

    def _fill(self) -> bool:
        if self._eof:
            return False
        chunk = self._handle.read(_CHUNK)
        if not chunk:
            self._eof = True
            return False
        self._buffer = self._buffer[self._pos :] + chunk
        self._pos = 0
        return True

    def advance(self, n: int) -> None:
        self.line += self._buffer.count("\n", self._pos, self._pos + n)
        self._pos += n

    def peek(self) -> str:
        """The next character that is not white space ('' at the end), skipping to it."""
        while True:
            end = len(self._buffer)
            while self._pos < end and self._buffer[self._pos] in " \t\r\n":
                if self._buffer[self._pos] == "\n":
                    self.line += 1
                self._pos += 1
            if self._pos < end:
                return self._buffer[self._pos]
            if not self._fill():
                return ""

    def decode(self) -> object:
        while True:
            try:
                value, end = self._decoder.raw_decode(self._buffer, self._pos)
            except json.JSONDecodeError as exc:
                # Perhaps only cut off at the end of the buffer: read on and try again, up to
                # the size no real record reaches.
                if len(self._buffer) - self._pos < _MAX_RECORD and self._fill():
                    continue
                line = self.line + self._buffer.count("\n", self._pos, exc.pos)
                raise SourceError(line, f"not valid JSON: {exc.msg}") from exc
            if end == len(self._buffer) and not self._eof and self._fill():
                continue  # a value that ends exactly at the buffer's end may go on
            self.advance(end - self._pos)
            return value
