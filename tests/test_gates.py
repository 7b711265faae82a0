"""The quality gates run with the tests, so the one test command checks everything CI checks."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)


def test_ruff_is_clean() -> None:
    if shutil.which("ruff") is None and not _has_module("ruff"):
        pytest.skip("ruff is not installed (pip install -e '.[dev]')")
    result = _run(sys.executable, "-m", "ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr
    result = _run(sys.executable, "-m", "ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_strict_is_clean() -> None:
    if not _has_module("mypy"):
        pytest.skip("mypy is not installed (pip install -e '.[dev]')")
    result = _run(sys.executable, "-m", "mypy")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_strict_is_clean_on_the_training_code() -> None:
    if not _has_module("mypy"):
        pytest.skip("mypy is not installed (pip install -e '.[dev]')")
    if not (_has_module("torch") and _has_module("onnxscript")):
        pytest.skip("training/ needs the [train] extra (pip install -e '.[dev,train]')")
    result = _run(sys.executable, "-m", "mypy", "-p", "training")
    assert result.returncode == 0, result.stdout + result.stderr


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None
