"""Payment codes: virtual-account numbers a bank teller, an ATM or a banking app accepts.

`PREFIX` (the bank's company code, `ETLE_PAYMENT_CODE_PREFIX`) + the case id in 10 digits + a
Luhn check digit: one code per case, derived from it (so issuing twice gives the same code), and
a mistyped digit is caught before any lookup.
"""

from __future__ import annotations

from etle.notices.service import luhn_digit

CASE_DIGITS = 10


def payment_code(prefix: str, case_id: int) -> str:
    if case_id >= 10**CASE_DIGITS:
        raise ValueError(f"case id {case_id} does not fit a payment code")
    body = f"{prefix}{case_id:0{CASE_DIGITS}d}"
    return body + luhn_digit(body)


def is_well_formed_code(code: str) -> bool:
    return (
        code.isascii()
        and code.isdigit()
        and len(code) > CASE_DIGITS + 1
        and luhn_digit(code[:-1]) == code[-1]
    )


def format_code(code: str) -> str:
    """`8077 7000 0000 1234 5`: groups of four, as people copy it."""
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))
