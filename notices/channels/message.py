"""Messages (SMS/WhatsApp): the text every message channel sends, checked against the one-link
rule, and the embedded default, a JSON Lines outbox a gateway could replay.

Messages carry text only: no channel here has a way to attach a file, and the text passes
`notices.links` (no link but the official portal) before any of them sends it.
"""

from __future__ import annotations

import fcntl
import json
import re
from pathlib import Path

from etle.clock import utcnow
from notices.channels.base import Outgoing, PermanentFailure, Sent
from notices.letter import Letter
from notices.links import foreign_links
from notices.wording import Wording


def checked_text(text: str, portal_url: str) -> str:
    foreign = foreign_links(text, portal_url)
    if foreign:
        raise PermanentFailure(
            f"message refused: it names a link other than the official portal ({foreign[0]})"
        )
    return text


def message_text(letter: Letter, wording: Wording) -> str:
    return checked_text(wording.message_text(letter), letter.portal_url)


def phone_digits(phone: str | None) -> str:
    """International digits without `+` (what gateways take): `0812...` becomes `62812...`."""
    digits = re.sub(r"\D", "", phone or "")
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    if len(digits) < 8:
        raise PermanentFailure("recipient has no usable phone number")
    return digits


class OutboxMessageSender:
    """Appends one line per message; a key already in the outbox is not written again."""

    def __init__(self, path: Path, *, wording: Wording) -> None:
        self.path = path
        self.wording = wording

    def send(self, outgoing: Outgoing) -> Sent:
        letter = outgoing.letter
        to = phone_digits(letter.recipient_phone)
        text = message_text(letter, self.wording)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a+", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # several dispatchers may append at once
            handle.seek(0)
            if any(
                json.loads(line)["idempotency_key"] == outgoing.idempotency_key
                for line in handle
                if line.strip()
            ):
                return outgoing.accepted(outgoing.idempotency_key)
            record = {
                "idempotency_key": outgoing.idempotency_key,
                "notice_number": letter.notice_number,
                "to": "+" + to,
                "language": letter.language,
                "text": text,
                "queued_at": utcnow().isoformat(),
            }
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        return outgoing.accepted(outgoing.idempotency_key)

    def close(self) -> None:
        pass
