"""The suite's runtimes (tests/conftest.py), with the notice settings of these tests."""

from __future__ import annotations

import functools

import pytest

from tests.conftest import MakeRuntime


@pytest.fixture
def make_runtime(make_runtime: MakeRuntime) -> MakeRuntime:
    return functools.partial(
        make_runtime, secret_key="test-signing-key-for-notices-0123456789", smtp_security="none"
    )
