"""Post: a print batch for the postal service.

A batch is a folder with one PDF per letter, `manifest.csv` (notice number, name, street,
district, city, postcode, file) and `SHA256SUMS` over all of them, so the printer can prove what
it was given. Letters are written one by one as they are rendered: a batch of any size needs the
memory of one letter.
"""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

from notices.letter import Letter

# One column per part of the address, as a postal service's import expects them: the city is
# always in the city column, whatever the length of the street.
MANIFEST_COLUMNS = [
    "notice_number",
    "name",
    "street",
    "district",
    "city",
    "postcode",
    "file",
]


class BatchWriter:
    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=False)
        self.folder = folder
        self.count = 0
        self._sums: list[tuple[str, str]] = []
        self._manifest = io.StringIO()
        self._csv = csv.writer(self._manifest)
        self._csv.writerow(MANIFEST_COLUMNS)

    def add(self, letter: Letter, pdf: bytes) -> None:
        name = f"{letter.notice_number}.pdf"
        (self.folder / name).write_bytes(pdf)
        self._sums.append((hashlib.sha256(pdf).hexdigest(), name))
        self._csv.writerow(
            [
                letter.notice_number,
                letter.recipient_name,
                letter.recipient_street,
                letter.recipient_district,
                letter.recipient_city,
                letter.recipient_postcode,
                name,
            ]
        )
        self.count += 1

    def finish(self) -> str:
        """Write the manifest and SHA256SUMS; return SHA256SUMS's own hash."""
        manifest = self._manifest.getvalue().encode("utf-8")
        (self.folder / "manifest.csv").write_bytes(manifest)
        self._sums.append((hashlib.sha256(manifest).hexdigest(), "manifest.csv"))
        sums = "".join(f"{digest}  {name}\n" for digest, name in self._sums).encode()
        (self.folder / "SHA256SUMS").write_bytes(sums)
        return hashlib.sha256(sums).hexdigest()
