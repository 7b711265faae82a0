"""Payment settings (prefix `ETLE_`)."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from etle.config import Settings, refuse_placeholder


class PaymentSettings(Settings):
    # The bank's company code that starts every virtual-account number (BRIVA-style: 5 digits).
    payment_code_prefix: str = "80777"
    # Shared secret of the bank callback's HMAC signature. Unset: the callback answers 404.
    payment_callback_secret: SecretStr | None = None
    # A callback whose timestamp is further than this from now is refused as a replay.
    payment_callback_max_age_seconds: int = Field(default=300, ge=30, le=3600)

    @field_validator("payment_code_prefix")
    @classmethod
    def _digits(cls, value: str) -> str:
        if not (value.isascii() and value.isdigit() and 3 <= len(value) <= 8):
            raise ValueError("ETLE_PAYMENT_CODE_PREFIX must be 3 to 8 digits")
        return value

    @field_validator("payment_callback_secret")
    @classmethod
    def _secret(cls, value: SecretStr | None) -> SecretStr | None:
        value = refuse_placeholder(value, "ETLE_PAYMENT_CALLBACK_SECRET")
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("ETLE_PAYMENT_CALLBACK_SECRET must be at least 16 characters")
        return value
