"""README's configuration table names every setting a process reads."""

from api.settings import AppSettings
from tests.conftest import REPO


def test_every_setting_is_in_the_readme_table() -> None:
    readme = (REPO / "README.md").read_text()
    missing = [
        f"ETLE_{name.upper()}"
        for name in AppSettings.model_fields
        if f"`ETLE_{name.upper()}`" not in readme
    ]
    assert missing == []
