"""The words of notices, from template files an administrator can edit.

Shipped defaults live in `notices/templates/<language>/`: `letter.toml` (every phrase of the PDF
letter, each a Jinja2 template) and Jinja2 files for the email subject, text and HTML parts and
the SMS/WhatsApp text. `ETLE_TEMPLATES_DIR` points at a folder with the same layout; any file
there replaces the shipped one, and `letter.toml` keys it sets replace the shipped keys one by
one. Templates are checked when loaded by rendering a specimen letter (undefined names are
errors), so a broken edit stops the dispatcher at start-up instead of failing notice by notice.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, Template
from jinja2 import TemplateError as JinjaError

from etle.errors import ConfigError
from notices.letter import Letter, rupiah

PACKAGED = Path(__file__).parent / "templates"
LANGUAGES = ("id", "en")
EMAIL_SUBJECT, EMAIL_TEXT, EMAIL_HTML, MESSAGE = (
    "email_subject.txt.j2",
    "email.txt.j2",
    "email.html.j2",
    "message.txt.j2",
)
LETTER_KEYS = (
    "pdf_title",
    "pdf_author",
    "header",
    "subheader",
    "title",
    "number_line",
    "date_line",
    "to",
    "intro",
    "row_plate",
    "row_time",
    "row_place",
    "row_camera",
    "row_violation",
    "row_article",
    "row_fine",
    "row_deadline",
    "plate_caption",
    "evidence_line",
    "respond_title",
    "respond",
    "verify_title",
    "verify",
    "row_speed",
    "speed_value",
    "signature_note",
)

_MONTHS = {
    "id": (
        "Januari",
        "Februari",
        "Maret",
        "April",
        "Mei",
        "Juni",
        "Juli",
        "Agustus",
        "September",
        "Oktober",
        "November",
        "Desember",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}


def long_date(day: date, language: str) -> str:
    """`30 November 2026`; month names in the notice's language."""
    months = _MONTHS.get(language, _MONTHS["id"])
    return f"{day.day} {months[day.month - 1]} {day.year}"


def number(value: float, language: str) -> str:
    """`87`, `87,5` in Indonesian (decimal comma, as the portal's statistics), `87.5` in
    English."""
    text = f"{value:,.1f}".rstrip("0").rstrip(".")
    if language == "id":
        text = text.replace(",", " ").replace(".", ",").replace(" ", ".")
    return text


def language_of(letter: Letter) -> str:
    return letter.language if letter.language in LANGUAGES else "id"


def context(letter: Letter) -> dict[str, Any]:
    """Every name a template may use (documented in docs/notices.md)."""
    language = language_of(letter)
    return {
        "language": language,
        "notice_number": letter.notice_number,
        "verification_code": letter.verification_code,
        "plate": letter.plate,
        "recipient_name": letter.recipient_name,
        "captured_at": letter.captured_at_text,
        "place": letter.place,
        "camera_id": letter.camera_id,
        "violation": letter.violation_en if language == "en" else letter.violation_id,
        "legal_basis": letter.legal_basis,
        "max_fine": rupiah(letter.max_fine_rp),
        "issued_on": long_date(letter.issued_at.date(), language),
        "respond_by": long_date(letter.respond_by, language),
        "portal_url": letter.portal_url,
        "lookup_url": letter.lookup_url,
        "verify_page": letter.verify_page,
        "verify_url": letter.verify_url,
        "evidence_sha256": letter.evidence_sha256,
        # Speeding only; empty for other violations (templates test `measured_speed`).
        "measured_speed": number(letter.measured_speed_kmh, language)
        if letter.measured_speed_kmh is not None
        else "",
        "speed_limit": str(letter.speed_limit_kmh) if letter.speed_limit_kmh is not None else "",
        "issuing_unit": letter.issuer.unit,
        "office_address": letter.issuer.office_address,
        "signatory_title": letter.issuer.signatory_title,
        "signatory_name": letter.issuer.signatory_name,
    }


class Wording:
    def __init__(self, override: Path | None = None) -> None:
        self.override = override
        if override is not None and not override.is_dir():
            raise ConfigError(f"ETLE_TEMPLATES_DIR {override} is not a folder")
        self._envs = {language: self._environment(language) for language in LANGUAGES}

    def _environment(self, language: str) -> Environment:
        folders = [PACKAGED / language]
        if self.override is not None:
            folders.insert(0, self.override / language)
        return Environment(
            loader=ChoiceLoader([FileSystemLoader(str(f)) for f in folders]),
            undefined=StrictUndefined,
            autoescape=lambda name: bool(name and name.endswith(".html.j2")),
            keep_trailing_newline=False,
        )

    @cached_property
    def _letter_templates(self) -> Mapping[str, Mapping[str, Template]]:
        compiled: dict[str, dict[str, Template]] = {}
        for language in LANGUAGES:
            words = self._letter_words_source(language)
            env = self._envs[language]
            missing = [k for k in LETTER_KEYS if k not in words]
            if missing:
                raise ConfigError(f"{language}/letter.toml lacks {', '.join(missing)}")
            try:
                compiled[language] = {k: env.from_string(words[k]) for k in LETTER_KEYS}
            except JinjaError as exc:
                raise ConfigError(f"{language}/letter.toml: {exc}") from exc
        return compiled

    def _letter_words_source(self, language: str) -> dict[str, str]:
        words = _read_toml(PACKAGED / language / "letter.toml")
        if self.override is not None:
            custom = self.override / language / "letter.toml"
            if custom.is_file():
                words.update(_read_toml(custom))
        return words

    def letter(self, letter: Letter) -> dict[str, str]:
        """Every phrase of the PDF letter, filled in."""
        ctx = context(letter)
        return {k: t.render(ctx) for k, t in self._letter_templates[ctx["language"]].items()}

    def _render(self, name: str, letter: Letter, **extra: Any) -> str:
        ctx = context(letter)
        ctx.update(extra)
        try:
            return self._envs[ctx["language"]].get_template(name).render(ctx).strip()
        except JinjaError as exc:
            raise ConfigError(f"template {ctx['language']}/{name}: {exc}") from exc

    def email_subject(self, letter: Letter) -> str:
        return " ".join(self._render(EMAIL_SUBJECT, letter).split())

    def email_text(self, letter: Letter) -> str:
        return self._render(EMAIL_TEXT, letter) + "\n"

    def email_html(self, letter: Letter) -> str:
        paragraphs = [p.split("\n") for p in self.email_text(letter).strip().split("\n\n")]
        return self._render(EMAIL_HTML, letter, text_paragraphs=paragraphs) + "\n"

    def message_text(self, letter: Letter) -> str:
        return " ".join(self._render(MESSAGE, letter).split())

    def check(self, specimen: Letter) -> None:
        """Render everything once in every language; a broken template is a ConfigError."""
        from dataclasses import replace

        for language in LANGUAGES:
            sample = replace(specimen, language=language)
            try:
                self.letter(sample)
                self.email_subject(sample)
                self.email_html(sample)
                self.message_text(sample)
            except JinjaError as exc:
                raise ConfigError(f"notice templates ({language}): {exc}") from exc


def _read_toml(path: Path) -> dict[str, str]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    bad = [k for k, v in data.items() if not isinstance(v, str)]
    if bad:
        raise ConfigError(f"{path}: values must be text ({', '.join(bad)})")
    return dict(data)
