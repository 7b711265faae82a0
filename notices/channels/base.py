from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from notices.letter import Letter


class TemporaryFailure(Exception):
    """Try again later (4xx from SMTP, connection lost, gateway 5xx)."""


class PermanentFailure(Exception):
    """This channel will never reach this person (5xx from SMTP, invalid number)."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    letter: Letter
    pdf: bytes
    idempotency_key: str
    # Called with the provider's reference the instant the provider accepts, before anything
    # else happens (the dispatcher writes its sent journal there: see notices.journal).
    on_accepted: Callable[[str], None] | None = None

    def accepted(self, provider_ref: str) -> Sent:
        if self.on_accepted is not None:
            self.on_accepted(provider_ref)
        return Sent(provider_ref)


@dataclass(frozen=True, slots=True)
class Sent:
    provider_ref: str


class Sender(Protocol):
    def send(self, outgoing: Outgoing) -> Sent: ...

    def close(self) -> None: ...
