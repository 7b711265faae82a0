"""Email: one RFC 5322 message (text, HTML, the PDF letter), written to a folder by default or
sent over SMTP with aiosmtplib. Both build the message the same way.

The SMTP sender keeps its sessions open: one asyncio loop in a background thread holds up to
`ETLE_SMTP_CONNECTIONS` logged-in sessions and reuses them message after message (a semaphore
bounds how many are in use at once). `send()` is synchronous and thread-safe, so the dispatcher
(one job at a time per worker thread) uses it like any other channel.

Outcomes: the server refusing the recipient or the content with a 5xx is permanent (this
address will never take the notice: the other channels take over); anything else is temporary
and retried later with backoff: a 4xx, a dropped connection, a timeout, and also a refused login
or sender address, which are our configuration's fault, not the recipient's.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import os
import tempfile
import threading
from collections.abc import Callable, Coroutine
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any, TypeVar

import aiosmtplib
import numpy as np

from etle.errors import ConfigError
from notices.channels.base import Outgoing, PermanentFailure, Sent, TemporaryFailure
from notices.config import NoticeSettings
from notices.wording import Wording

T = TypeVar("T")
_SIGNED_HEADERS = [b"from", b"to", b"subject", b"date", b"message-id", b"x-etle-notice"]


def message_id(idempotency_key: str, sender: str) -> str:
    # Derived from the idempotency key: a resend after a crash carries the same Message-ID,
    # which receiving servers and mail clients use to drop the copy.
    # (email.utils.make_msgid would add the time and a random number: not repeatable.)
    domain = parseaddr(sender)[1].rsplit("@", 1)[-1] or "etle.local"
    return f"<{idempotency_key}@{domain}>"


def build_email(outgoing: Outgoing, *, sender: str, wording: Wording) -> EmailMessage:
    letter = outgoing.letter
    if not letter.recipient_email:
        raise PermanentFailure("recipient has no email address")
    message = EmailMessage()
    message["From"] = sender
    message["To"] = f"{letter.recipient_name} <{letter.recipient_email}>"
    message["Subject"] = wording.email_subject(letter)
    message["Date"] = format_datetime(letter.issued_at)
    message["Message-ID"] = message_id(outgoing.idempotency_key, sender)
    message["X-ETLE-Notice"] = letter.notice_number
    message["Content-Language"] = letter.language
    message.set_content(wording.email_text(letter))
    message.add_alternative(wording.email_html(letter), subtype="html")
    message.add_attachment(
        outgoing.pdf,
        maintype="application",
        subtype="pdf",
        filename=f"surat-konfirmasi-{letter.notice_number}.pdf",
    )
    return message


def _wire_bytes(outgoing: Outgoing, *, sender: str, wording: Wording) -> bytes:
    """The message as `build_email` makes it, serialised with CRLF line ends.

    Python's generator writes a base64 body line by line, which was half the cost of a notice;
    so the PDF part is built with a short placeholder and its base64 lines (the same 76-column
    lines the generator writes) are put in its place in one step.
    """
    marker = b"etle-pdf-body:" + outgoing.idempotency_key.encode()[:40]
    stand_in = Outgoing(outgoing.letter, marker, outgoing.idempotency_key)
    message = build_email(stand_in, sender=sender, wording=wording)
    data = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
    placeholder = base64.b64encode(marker) + b"\r\n"
    body = _base64_lines(outgoing.pdf)
    if data.count(placeholder) != 1:  # cannot happen with a 14-byte prefix; never guess
        full = build_email(outgoing, sender=sender, wording=wording)
        return full.as_bytes(policy=full.policy.clone(linesep="\r\n"))
    return data.replace(placeholder, body)


def _base64_lines(data: bytes) -> bytes:
    """Base64 in 76-column CRLF lines, as the generator writes it: the full lines are laid out
    as rows of a byte array with CR LF appended (one pass in C instead of 3,000 slices)."""
    encoded = base64.b64encode(data)
    rows = len(encoded) // 76
    grid = np.empty((rows, 78), dtype=np.uint8)
    grid[:, :76] = np.frombuffer(encoded, dtype=np.uint8, count=rows * 76).reshape(rows, 76)
    grid[:, 76:] = (13, 10)
    tail = encoded[rows * 76 :]
    return grid.tobytes() + (tail + b"\r\n" if tail else b"")


class DkimSigner:
    """DKIM signature (dkimpy) over the headers that identify a notice and the whole body."""

    def __init__(self, *, domain: str, selector: str, key_file: Path) -> None:
        try:
            self.key = key_file.read_bytes()
        except OSError as exc:
            raise ConfigError(f"ETLE_DKIM_KEY_FILE {key_file}: {exc.strerror}") from exc
        self.domain, self.selector = domain.encode(), selector.encode()

    def sign(self, data: bytes) -> bytes:
        import dkim  # dkimpy: imported only where DKIM is configured

        signature: bytes = dkim.sign(
            data, self.selector, self.domain, self.key, include_headers=_SIGNED_HEADERS
        )
        return signature + data

    @classmethod
    def from_settings(cls, settings: NoticeSettings) -> DkimSigner | None:
        domain, selector, key_file = (
            settings.dkim_domain,
            settings.dkim_selector,
            settings.dkim_key_file,
        )
        if not (domain or selector or key_file):
            return None
        if not (domain and selector and key_file):
            raise ConfigError(
                "DKIM needs ETLE_DKIM_DOMAIN, ETLE_DKIM_SELECTOR and ETLE_DKIM_KEY_FILE together"
            )
        return cls(domain=domain, selector=selector, key_file=key_file)


def email_bytes(
    outgoing: Outgoing, *, sender: str, wording: Wording, dkim: DkimSigner | None
) -> tuple[str, bytes]:
    """The recipient address and the message as it goes on the wire (CRLF, signed if set)."""
    data = _wire_bytes(outgoing, sender=sender, wording=wording)
    return outgoing.letter.recipient_email or "", dkim.sign(data) if dkim else data


class FolderEmailSender:
    """Writes `<idempotency key>.eml`: writing the same delivery twice leaves one file."""

    def __init__(
        self, folder: Path, *, sender: str, wording: Wording, dkim: DkimSigner | None = None
    ) -> None:
        self.folder = folder
        self.sender = sender
        self.wording = wording
        self.dkim = dkim

    def send(self, outgoing: Outgoing) -> Sent:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / f"{outgoing.idempotency_key}.eml"
        _, data = email_bytes(outgoing, sender=self.sender, wording=self.wording, dkim=self.dkim)
        fd, temp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, target)
        return outgoing.accepted(target.name)

    def close(self) -> None:
        pass


class SmtpEmailSender:
    def __init__(
        self, settings: NoticeSettings, *, wording: Wording, dkim: DkimSigner | None = None
    ) -> None:
        self.settings = settings
        self.wording = wording
        self.dkim = dkim
        self.envelope_from = parseaddr(settings.email_from)[1]
        self._idle: list[aiosmtplib.SMTP] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._semaphore: asyncio.Semaphore | None = None
        self._start_lock = threading.Lock()
        self.connections_opened = 0  # for tests and the benchmark: reuse is visible

    # -- the background loop ------------------------------------------------------------
    def _start(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        with self._start_lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=loop.run_forever, name="etle-smtp", daemon=True
                )
                self._thread.start()
                self._loop = loop
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self._start(coroutine).result()

    def send(self, outgoing: Outgoing) -> Sent:
        return self.submit(outgoing).result()

    def submit(self, outgoing: Outgoing) -> concurrent.futures.Future[Sent]:
        """Build the message here and hand it to the session thread; the future says how it
        went. The caller can render the next letter while this one is on the wire."""
        recipient, data = email_bytes(
            outgoing, sender=self.settings.email_from, wording=self.wording, dkim=self.dkim
        )
        ref = message_id(outgoing.idempotency_key, self.settings.email_from)
        return self._start(self.send_bytes(recipient, data, ref, outgoing.on_accepted))

    def close(self) -> None:
        if self._loop is None:
            return
        self._run(self._quit_all())
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._loop.close()
        self._loop = None

    # -- SMTP ---------------------------------------------------------------------------
    async def _connect(self) -> aiosmtplib.SMTP:
        s = self.settings
        client = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            use_tls=s.smtp_security == "tls",
            start_tls=s.smtp_security == "starttls",
            timeout=s.smtp_timeout_seconds,
        )
        await client.connect()
        self.connections_opened += 1
        return client

    async def send_bytes(
        self,
        recipient: str,
        data: bytes,
        ref: str,
        on_accepted: Callable[[str], None] | None = None,
    ) -> Sent:
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(max(1, self.settings.smtp_connections))
        async with self._semaphore:
            client = self._idle.pop() if self._idle else None
            try:
                if client is None or not client.is_connected:
                    client = await self._connect()
                try:
                    await client.sendmail(self.envelope_from, [recipient], data)
                except aiosmtplib.SMTPServerDisconnected:
                    # A kept-open session the server dropped while idle: one fresh try.
                    client = await self._connect()
                    await client.sendmail(self.envelope_from, [recipient], data)
            except aiosmtplib.SMTPRecipientsRefused as exc:
                await _close(client)
                codes = [r.code for r in exc.recipients]
                raise _classify(min(codes), "; ".join(r.message for r in exc.recipients)) from exc
            except (aiosmtplib.SMTPRecipientRefused, aiosmtplib.SMTPDataError) as exc:
                await _close(client)
                raise _classify(exc.code, exc.message) from exc
            except aiosmtplib.SMTPResponseException as exc:
                await _close(client)
                raise TemporaryFailure(f"SMTP {exc.code}: {exc.message}") from exc
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                await _close(client)
                raise TemporaryFailure(f"SMTP unavailable: {exc}") from exc
            if on_accepted is not None:  # at once, on this thread: see notices.journal
                on_accepted(ref)
            self._idle.append(client)
            return Sent(provider_ref=ref)

    async def _quit_all(self) -> None:
        while self._idle:
            await _close(self._idle.pop(), polite=True)


def _classify(code: int, message: str) -> Exception:
    text = f"SMTP {code}: {message}"
    return PermanentFailure(text) if 500 <= code < 600 else TemporaryFailure(text)


async def _close(client: aiosmtplib.SMTP | None, *, polite: bool = False) -> None:
    if client is None or not client.is_connected:
        return
    try:
        if polite:
            await client.quit()
        else:
            client.close()
    except (aiosmtplib.SMTPException, OSError):
        client.close()
