"""Matching a plate read to the registry.

Exact match first. Otherwise the registered plates the read could also be, from the reader's
own alternatives and from look-alike characters, are listed for the officer; the matcher never
picks one of them itself. Flags say what an officer must look at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from itertools import combinations
from typing import Any

from etle.cases.models import CaseFlag
from etle.plates import VehicleClass, is_valid_plate, parse_plate
from etle.registry.lookup import RegistryLookup, RegistryRecord

# Character pairs a camera or reader confuses, both ways.
LOOKALIKE_PAIRS = (
    ("O", "0"),
    ("I", "1"),
    ("B", "8"),
    ("S", "5"),
    ("Z", "2"),
    ("G", "6"),
    ("D", "0"),
)
_SWAPS: dict[str, set[str]] = {}
for _a, _b in LOOKALIKE_PAIRS:
    _SWAPS.setdefault(_a, set()).add(_b)
    _SWAPS.setdefault(_b, set()).add(_a)


@dataclass(frozen=True, slots=True)
class MatchResult:
    plate: str
    record: RegistryRecord | None
    candidates: list[dict[str, Any]] = field(default_factory=list)
    flags: list[CaseFlag] = field(default_factory=list)
    # Per flag, what it rests on, for the officer (stored in Case.flag_details).
    details: dict[CaseFlag, dict[str, Any]] = field(default_factory=dict)


def lookalike_variants(plate: str, *, max_swaps: int = 2) -> set[str]:
    """Valid plates that differ from `plate` only by up to `max_swaps` look-alike characters."""
    positions = [i for i, ch in enumerate(plate) if ch in _SWAPS]
    variants: set[str] = set()
    for count in range(1, max_swaps + 1):
        for chosen in combinations(positions, count):
            partial = [list(plate)]
            for i in chosen:
                partial = [p[:i] + [s] + p[i + 1 :] for p in partial for s in _SWAPS[plate[i]]]
            variants.update("".join(p) for p in partial)
    return {v for v in variants if v != plate and is_valid_plate(v) and parse_plate(v).text == v}


def match_plate(
    registry: RegistryLookup,
    *,
    plate: str,
    alternatives: list[dict[str, Any]] | None = None,
    on: date,
    reported_class: VehicleClass | None = None,
) -> MatchResult:
    exact = registry.find(plate)
    flags: list[CaseFlag] = []
    candidates: list[dict[str, Any]] = []
    if exact is None:
        flags.append(CaseFlag.PLATE_NOT_REGISTERED)
        sources: dict[str, tuple[str, float | None]] = {}
        for alt in alternatives or []:
            text = str(alt["text"])
            if text != plate:
                sources.setdefault(text, ("reader", float(alt.get("p", 0.0))))
        for variant in lookalike_variants(plate):
            sources.setdefault(variant, ("lookalike", None))
        found = registry.find_many(sources)
        for text, record in sorted(found.items()):
            source, p = sources[text]
            candidates.append(
                {
                    "plate": text,
                    "source": source,
                    "p": p,
                    "vehicle_class": record.vehicle_class,
                    "brand": record.brand,
                    "colour": record.colour,
                }
            )
        if candidates:
            flags.append(CaseFlag.LOOKALIKE_CANDIDATES)
        return MatchResult(plate, None, candidates, flags)

    details: dict[CaseFlag, dict[str, Any]] = {}
    if exact.registration_valid_until is not None and exact.registration_valid_until < on:
        flags.append(CaseFlag.REGISTRATION_EXPIRED)
        details[CaseFlag.REGISTRATION_EXPIRED] = {"valid_until": exact.registration_valid_until}
    number_class = parse_plate(plate).vehicle_class
    if exact.vehicle_class != number_class.value:
        flags.append(CaseFlag.CLASS_MISMATCH)
        details[CaseFlag.CLASS_MISMATCH] = {
            "registered_class": exact.vehicle_class,
            "number_range_class": number_class.value,
        }
    if reported_class is not None and reported_class.value != exact.vehicle_class:
        # The camera saw a different kind of vehicle than the one registered to this plate.
        flags.append(CaseFlag.SUSPECTED_CLONE)
        details[CaseFlag.SUSPECTED_CLONE] = {
            "registered_class": exact.vehicle_class,
            "camera_class": reported_class.value,
        }
    return MatchResult(plate, exact, candidates, flags, details)
