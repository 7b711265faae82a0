"""Indonesian plate grammar (TNKB / NRKB): parse, normalise, validate, format.

A registration number has three parts: a region code of one or two letters (`B`, `DK`, `PY`),
a number of one to four digits, and a series suffix of up to three letters (`B 1234 ABC`).
Plates are stored and compared in one canonical form, upper case with no spaces (`B1234ABC`);
`format_plate` adds the spaces only for people.

Normalisation knows which slot a character sits in: a letter slot never holds a digit and a
digit slot never holds a letter, so look-alikes are mapped by position (`L158800` becomes
`L1588OO`, `B12B4ABC` becomes `B1284ABC`). When more than one reading needs the same number of
repairs, the plate is ambiguous and refused rather than guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from etle.errors import ValidationFailed

# Region codes in use (Perkapolri 7/2021 and the later provincial splits): code -> area.
REGION_CODES: dict[str, str] = {
    # Sumatra
    "BL": "Aceh",
    "BB": "Sumatera Utara (barat)",
    "BK": "Sumatera Utara (timur)",
    "BA": "Sumatera Barat",
    "BM": "Riau",
    "BP": "Kepulauan Riau",
    "BH": "Jambi",
    "BG": "Sumatera Selatan",
    "BN": "Kepulauan Bangka Belitung",
    "BD": "Bengkulu",
    "BE": "Lampung",
    # Java
    "A": "Banten",
    "B": "DKI Jakarta, Depok, Bekasi, Tangerang",
    "D": "Bandung",
    "E": "Cirebon",
    "F": "Bogor",
    "T": "Purwakarta",
    "Z": "Priangan Timur",
    "G": "Pekalongan",
    "H": "Semarang",
    "K": "Pati",
    "R": "Banyumas",
    "AA": "Kedu",
    "AD": "Surakarta",
    "AB": "DI Yogyakarta",
    "L": "Surabaya",
    "M": "Madura",
    "N": "Malang",
    "P": "Besuki",
    "S": "Bojonegoro",
    "W": "Sidoarjo, Gresik",
    "AE": "Madiun",
    "AG": "Kediri",
    # Bali and Nusa Tenggara
    "DK": "Bali",
    "DR": "Lombok",
    "EA": "Sumbawa",
    "DH": "Timor",
    "EB": "Flores",
    "ED": "Sumba",
    # Kalimantan
    "KB": "Kalimantan Barat",
    "DA": "Kalimantan Selatan",
    "KH": "Kalimantan Tengah",
    "KT": "Kalimantan Timur",
    "KU": "Kalimantan Utara",
    # Sulawesi (DP, DW and DC from the 2012 split of South Sulawesi)
    "DB": "Sulawesi Utara",
    "DL": "Sangihe, Talaud",
    "DM": "Gorontalo",
    "DN": "Sulawesi Tengah",
    "DT": "Sulawesi Tenggara",
    "DD": "Sulawesi Selatan (Makassar)",
    "DP": "Sulawesi Selatan (utara)",
    "DW": "Sulawesi Selatan (timur)",
    "DC": "Sulawesi Barat",
    # Maluku and Papua (PY, PS and PT from 2024)
    "DE": "Maluku",
    "DG": "Maluku Utara",
    "PA": "Papua, Papua Pegunungan",
    "PB": "Papua Barat",
    "PY": "Papua Barat Daya",
    "PS": "Papua Selatan",
    "PT": "Papua Tengah",
}


# For B plates the first suffix letter names the sub-area where the vehicle is registered
# (training/synth draws realistic Jakarta suffixes from it).
JAKARTA_SUB_AREAS: dict[str, str] = {
    "B": "Jakarta Barat",
    "P": "Jakarta Pusat",
    "S": "Jakarta Selatan",
    "T": "Jakarta Timur",
    "U": "Jakarta Utara, Kepulauan Seribu",
    "C": "Kota Tangerang",
    "V": "Kota Tangerang (Ciledug)",
    "G": "Kabupaten Tangerang (Tigaraksa)",
    "N": "Kabupaten Tangerang (BSD)",
    "W": "Kota Tangerang Selatan",
    "E": "Depok (timur)",
    "Z": "Depok (barat)",
    "F": "Kabupaten Bekasi",
    "K": "Kota Bekasi",
}


class VehicleClass(StrEnum):
    PASSENGER_CAR = "passenger_car"
    MOTORCYCLE = "motorcycle"
    BUS = "bus"
    GOODS = "goods"


# Number ranges by class (the Polda Metro Jaya scheme most regions follow).
NUMBER_RANGES: dict[VehicleClass, tuple[int, int]] = {
    VehicleClass.PASSENGER_CAR: (1, 1999),
    VehicleClass.MOTORCYCLE: (2000, 6999),
    VehicleClass.BUS: (7000, 7999),
    VehicleClass.GOODS: (8000, 9999),
}


# Look-alikes by slot: what a digit in a letter slot most likely is, and the reverse.
DIGIT_TO_LETTER = {"0": "O", "1": "I", "2": "Z", "4": "A", "5": "S", "6": "G", "7": "T", "8": "B"}
LETTER_TO_DIGIT = {
    "O": "0",
    "D": "0",
    "Q": "0",
    "U": "0",
    "I": "1",
    "L": "1",
    "J": "1",
    "Z": "2",
    "A": "4",
    "S": "5",
    "G": "6",
    "T": "7",
    "B": "8",
}

MAX_LENGTH = 9  # 2 region letters + 4 digits + 3 suffix letters
_CANONICAL = re.compile(r"^([A-Z]{1,2})([1-9][0-9]{0,3})([A-Z]{0,3})$")
_SEPARATORS = re.compile(r"[\s\-.·_]+")


@dataclass(frozen=True, slots=True)
class Plate:
    region: str
    number: int
    suffix: str

    @property
    def text(self) -> str:
        return f"{self.region}{self.number}{self.suffix}"

    @property
    def display(self) -> str:
        return " ".join(part for part in (self.region, str(self.number), self.suffix) if part)

    @property
    def vehicle_class(self) -> VehicleClass:
        return class_for_number(self.number)


def class_for_number(number: int) -> VehicleClass:
    for vehicle_class, (low, high) in NUMBER_RANGES.items():
        if low <= number <= high:
            return vehicle_class
    raise ValueError(f"number {number} is outside 1-9999")


def _clean(raw: str) -> str:
    if not isinstance(raw, str):
        raise ValidationFailed("plate must be text")
    return _SEPARATORS.sub("", raw).upper()


def parse_plate(raw: str) -> Plate:
    """Parse a plate written by a person or read by a machine; raise with a reason if invalid.

    Accepts any case and spacing, repairs look-alikes by slot, and checks the region code.
    """
    text = _clean(raw)
    if not text:
        raise ValidationFailed("plate is empty")
    if len(text) > MAX_LENGTH:
        raise ValidationFailed(f"plate {raw!r} is too long ({len(text)} characters, at most 9)")
    if not text.isalnum() or not text.isascii():
        raise ValidationFailed(f"plate {raw!r} may only hold letters and digits")
    groups = [g for g in _SEPARATORS.split(raw.strip().upper()) if g]
    if len(groups) in (2, 3):
        # Written with spaces: each group's role is known, so repair within it only.
        match = _CANONICAL.match(_fix_groups(raw, groups))
    else:
        match = _CANONICAL.match(text) or _repair(text)
    if match is None:
        raise ValidationFailed(
            f"plate {raw!r} does not read as region letters, 1-4 digits and up to 3 letters"
        )
    region, number, suffix = match.groups()
    if region not in REGION_CODES:
        raise ValidationFailed(f"plate {raw!r}: {region!r} is not an Indonesian region code")
    return Plate(region=region, number=int(number), suffix=suffix)


def _fix_groups(raw: str, groups: list[str]) -> str:
    region, number, suffix = (groups + [""])[:3]
    if not 1 <= len(region) <= 2:
        raise ValidationFailed(f"plate {raw!r}: the region code has 1 or 2 letters")
    if not 1 <= len(number) <= 4:
        raise ValidationFailed(f"plate {raw!r}: the number has 1 to 4 digits")
    if len(suffix) > 3:
        raise ValidationFailed(f"plate {raw!r}: the series after the number has at most 3 letters")
    region = "".join(DIGIT_TO_LETTER.get(c, c) for c in region)
    number = "".join(LETTER_TO_DIGIT.get(c, c) for c in number)
    suffix = "".join(DIGIT_TO_LETTER.get(c, c) for c in suffix)
    return region + number + suffix


def _repair(text: str) -> re.Match[str] | None:
    """Find the split into letters|digits|letters that needs the fewest look-alike swaps."""
    best: list[tuple[int, str]] = []
    n = len(text)
    for region_len in (1, 2):
        for digits_len in range(1, 5):
            suffix_len = n - region_len - digits_len
            if not 0 <= suffix_len <= 3:
                continue
            fixed = _fix_slots(text, region_len, digits_len)
            if fixed is None:
                continue
            swaps = sum(a != b for a, b in zip(fixed, text, strict=True))
            best.append((swaps, fixed))
    if not best:
        return None
    best.sort()
    candidates = [fixed for swaps, fixed in best if swaps == best[0][0]]
    matches = {m[0]: m for c in candidates if (m := _CANONICAL.match(c)) and m[1] in REGION_CODES}
    if len(matches) != 1:
        return None
    return next(iter(matches.values()))


def _fix_slots(text: str, region_len: int, digits_len: int) -> str | None:
    out = []
    for index, char in enumerate(text):
        wants_digit = region_len <= index < region_len + digits_len
        if char.isdigit() == wants_digit:
            out.append(char)
            continue
        swap = LETTER_TO_DIGIT.get(char) if wants_digit else DIGIT_TO_LETTER.get(char)
        if swap is None:
            return None
        out.append(swap)
    return "".join(out)


def normalise_plate(raw: str) -> str:
    """The one canonical form (`B1234ABC`) used for storage, matching and URLs."""
    return parse_plate(raw).text


def format_plate(raw: str) -> str:
    """`B 1234 ABC`, for letters, pages and messages."""
    return parse_plate(raw).display


def is_valid_plate(raw: str) -> bool:
    try:
        parse_plate(raw)
    except ValidationFailed:
        return False
    return True
