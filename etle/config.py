"""Core settings, read from the environment (prefix `ETLE_`) or a `.env` file.

Each package has its own settings class with the same prefix (`camera_ingest.config`,
`notices.config`); this one holds what every package shares. Settings are validated when a
command or the server starts, so a bad value stops the process with one clear line instead of
failing later in a worker.
"""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values people leave in config files by accident. A secret equal to one of these is refused:
# a back office that signs payment links and notice tokens must not run on a guessable key.
PLACEHOLDER_SECRETS = frozenset(
    {
        "changethis",
        "changeme",
        "change-me",
        "change_me",
        "secret",
        "password",
        "placeholder",
        "xxx",
        "todo",
        "example",
        "test",
        "default",
    }
)


def refuse_placeholder(value: SecretStr | None, name: str) -> SecretStr | None:
    if value is None:
        return None
    raw = value.get_secret_value().strip()
    if not raw or raw.lower() in PLACEHOLDER_SECRETS or raw.lower().startswith("change"):
        raise ValueError(f"{name} is still a placeholder; set a real secret")
    return value


class EtleSettings(BaseSettings):
    """Base for every package's settings: same prefix, same `.env` file."""

    model_config = SettingsConfigDict(env_prefix="ETLE_", env_file=".env", extra="ignore")


class Settings(EtleSettings):
    data_dir: Path = Path("etle-data")
    # Default: a SQLite file in the data directory. At scale: postgresql+psycopg://...
    database_url: str | None = None
    # Connections each process keeps open to PostgreSQL. Fewer than the requests a server
    # process handles at once means a connection opened and closed per request (a new backend
    # process on the database server each time).
    database_pool_size: int = Field(default=20, ge=1, le=200)
    # Where times are shown when a camera does not say otherwise. Storage is always UTC.
    timezone: str = "Asia/Jakarta"
    # Signs notice verification tokens and officer sessions. Unset: one is generated per data
    # directory (fine for the embedded default); set it explicitly when several machines serve.
    secret_key: SecretStr | None = None
    # The official portal; the only link notices and messages may carry.
    portal_url: str = "http://127.0.0.1:8000"
    # Worker queue. Unset: an SQLite file in the data directory (no server). At scale:
    # redis://host:6379/0, the same code on a real broker.
    queue_url: str | None = None
    # Name of the queue on that store: processes that share it share the work. Tests and
    # benchmarks on a shared Redis use a name of their own.
    queue_name: str = "etle"
    # Frames of the same plate, camera and violation within this many seconds join one case.
    case_window_seconds: int = 300
    # Deadlines of the jurisdiction, in days: to respond to a notice, then to pay.
    # Jurisdictions (`etle jurisdictions set`) override these for their cameras.
    respond_days: int = Field(default=8, ge=1, le=365)
    pay_days: int = Field(default=7, ge=1, le=365)
    # Who issues the letters of cameras outside any jurisdiction (a jurisdiction names its own:
    # `etle jurisdictions set`): the unit in the letterhead, its office address, and the
    # signature block (title, then name).
    issuing_unit: str = Field(default="Korps Lalu Lintas Polri", max_length=200)
    issuing_office: str = Field(default="", max_length=400)
    signatory_title: str = Field(default="Petugas Penindakan ETLE", max_length=200)
    signatory_name: str = Field(default="", max_length=200)
    # Vehicle registry: the local database (filled by `etle registry import`), or the national
    # registry service over HTTP (`http`, with the URL and token below).
    registry_backend: Literal["database", "http"] = "database"
    registry_url: str | None = None
    registry_token: SecretStr | None = None
    registry_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    # Two sightings of one plate that would need a faster trip than this: a suspected clone.
    clone_max_speed_kmh: float = Field(default=200.0, gt=0)
    # Where `etle cases escalate` writes the block lists for the registration office.
    registration_dir: Path | None = None

    @field_validator("secret_key")
    @classmethod
    def _secret_not_placeholder(cls, value: SecretStr | None) -> SecretStr | None:
        return refuse_placeholder(value, "ETLE_SECRET_KEY")

    @field_validator("registry_token")
    @classmethod
    def _registry_token_not_placeholder(cls, value: SecretStr | None) -> SecretStr | None:
        return refuse_placeholder(value, "ETLE_REGISTRY_TOKEN")

    @model_validator(mode="after")
    def _registry_service_has_url(self) -> Settings:
        if self.registry_backend == "http" and not self.registry_url:
            raise ValueError("ETLE_REGISTRY_BACKEND=http needs ETLE_REGISTRY_URL")
        if self.registry_url and not self.registry_url.startswith(("https://", "http://")):
            raise ValueError("ETLE_REGISTRY_URL must start with https:// (or http://)")
        return self

    @property
    def registration_folder(self) -> Path:
        return self.registration_dir or self.data_dir / "registration"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("portal_url")
    @classmethod
    def _portal_is_http(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("ETLE_PORTAL_URL must start with https:// (or http:// locally)")
        return value.rstrip("/")

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'etle.db').resolve()}"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def signing_key(self) -> bytes:
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        return _load_or_create_key(self.data_dir / "secret.key")


def _load_or_create_key(path: Path) -> bytes:
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48).encode()
    try:
        # O_EXCL: two processes starting at once agree on whichever key was written first.
        with path.open("xb") as handle:
            handle.write(key)
        path.chmod(0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    return key
