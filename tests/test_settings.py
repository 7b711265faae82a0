import pytest

from api.settings import load_app_settings
from etle.errors import ConfigError


@pytest.mark.parametrize("secret", ["changethis", "change-me", "secret", ""])
def test_placeholder_secrets_are_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    monkeypatch.setenv("ETLE_SECRET_KEY", secret)
    with pytest.raises(ConfigError, match="ETLE_SECRET_KEY"):
        load_app_settings()


def test_placeholder_smtp_password_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ETLE_SMTP_PASSWORD", "changeme")
    with pytest.raises(ConfigError, match="SMTP_PASSWORD"):
        load_app_settings()


def test_defaults_are_the_embedded_setup(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = load_app_settings(data_dir=tmp_path)
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'etle.db'}"
    assert settings.queue_url is None
    assert settings.signing_key == load_app_settings(data_dir=tmp_path).signing_key
