"""A runtime on a migrated database of its own, with notice settings a test chooses."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from api.runtime import Runtime, build_runtime
from api.settings import load_app_settings

PORTAL = "https://etle.example.id"
MakeRuntime = Callable[..., Runtime]


@pytest.fixture
def make_runtime(fresh_url: str, tmp_path: Path) -> Iterator[MakeRuntime]:
    built: list[Runtime] = []

    def make(**overrides: Any) -> Runtime:
        values: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "database_url": fresh_url,
            "queue_url": None,
            "portal_url": PORTAL,
            "secret_key": "test-signing-key-for-notices-0123456789",
            "smtp_security": "none",
        }
        values.update(overrides)
        rt = build_runtime(load_app_settings(**values))
        built.append(rt)
        return rt

    yield make
    for rt in built:
        rt.close()
