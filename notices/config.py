"""Notice channel settings (prefix `ETLE_`). Defaults write files under the data directory, so
the embedded default sends nothing anywhere: post batches, `.eml` files, a message outbox."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator

from etle.config import Settings, refuse_placeholder


class NoticeSettings(Settings):
    # Words of letters, emails and messages: a folder laid out like notices/templates/
    # (`id/letter.toml`, `en/message.txt.j2`, ...); files it lacks come from the package.
    templates_dir: Path | None = None
    # Days a notice's QR token opens the verification page (the code works without limit).
    verify_token_days: int = 365

    email_backend: Literal["folder", "smtp"] = "folder"
    email_from: str = "ETLE Polri <noreply@etle.polri.go.id>"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 587
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = 30.0
    # SMTP sessions one dispatcher process keeps open and uses at once.
    smtp_connections: int = 4
    # DKIM signing: all three set, or none (then messages go unsigned).
    dkim_domain: str | None = None
    dkim_selector: str | None = None
    dkim_key_file: Path | None = None

    message_backend: Literal["outbox", "sms", "whatsapp"] = "outbox"
    sms_gateway_url: str | None = None
    sms_gateway_token: SecretStr | None = None
    sms_sender_id: str = "ETLE-POLRI"
    sms_webhook_secret: SecretStr | None = None
    whatsapp_api_url: str = "https://graph.facebook.com/v21.0"
    whatsapp_phone_number_id: str | None = None
    whatsapp_access_token: SecretStr | None = None
    whatsapp_template: str = "etle_surat_konfirmasi"
    whatsapp_app_secret: SecretStr | None = None
    whatsapp_verify_token: SecretStr | None = None
    # A signed webhook older than this (by its timestamp) is refused as a replay.
    webhook_max_age_seconds: int = 300

    # Temporary failures are retried after retry_seconds, doubling each time, until
    # max_attempts; then the delivery fails and the other channels take over.
    dispatch_max_attempts: int = 10
    dispatch_retry_seconds: float = 30.0
    # How long a dispatcher holds a delivery it is sending; a crashed one's hold lapses.
    dispatch_lease_seconds: int = 300
    # Deliveries one dispatch job claims, sends and marks together: one claim transaction,
    # one marking transaction and one kept-open SMTP session for the lot (1: one at a time).
    dispatch_chunk: int = Field(default=50, ge=1, le=1000)

    # Override the folders under the data directory if needed.
    post_dir: Path | None = None
    email_dir: Path | None = None
    message_outbox: Path | None = None

    @field_validator(
        "smtp_password",
        "sms_gateway_token",
        "sms_webhook_secret",
        "whatsapp_access_token",
        "whatsapp_app_secret",
        "whatsapp_verify_token",
    )
    @classmethod
    def _notice_secret_not_placeholder(
        cls, value: SecretStr | None, info: ValidationInfo
    ) -> SecretStr | None:
        return refuse_placeholder(value, f"ETLE_{str(info.field_name).upper()}")

    @property
    def post_folder(self) -> Path:
        return self.post_dir or self.data_dir / "post"

    @property
    def email_folder(self) -> Path:
        return self.email_dir or self.data_dir / "outbox" / "email"

    @property
    def message_file(self) -> Path:
        return self.message_outbox or self.data_dir / "outbox" / "messages.jsonl"

    @property
    def sent_journal(self) -> Path:
        """Keys this machine's dispatchers have handed to a provider (see notices.journal)."""
        return self.data_dir / "outbox" / "sent.journal"
