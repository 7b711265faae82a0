"""Models missing, then restored, as an operator lives it: the demo fails loudly naming the
cause (it used to say "plates read 0" and exit 0), the frames wait, and once the files are back
`etle frames retry` and a worker read every one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli.main import app

pytestmark = pytest.mark.models


def test_models_missing_then_restored(models_dir: Path, tmp_path: Path) -> None:
    data, empty = tmp_path / "demo", tmp_path / "no-models"
    empty.mkdir()
    runner = CliRunner()
    broken = {"ETLE_MODELS_DIR": str(empty)}
    fixed = {"ETLE_MODELS_DIR": str(models_dir)}

    demo = runner.invoke(app, ["demo", "--data-dir", str(data), "--json"], env=broken)
    assert demo.exit_code == 1
    assert "frame(s) not read (configuration)" in demo.stderr
    assert "not found" in demo.stderr
    summary = json.loads(demo.stdout)
    assert summary["plates_read"] == 0
    assert summary["failures"][0]["cause"] == "configuration"
    frames = summary["frames"]

    waiting = runner.invoke(app, ["frames", "account", "--json", "--data-dir", str(data)])
    assert waiting.exit_code == 0  # failed frames wait for a retry: none has vanished
    assert json.loads(waiting.stdout)["totals"]["retrying"] == frames
    burst = runner.invoke(app, ["worker", "--burst", "--data-dir", str(data)], env=broken)
    assert burst.exit_code == 1
    assert "configuration" in burst.stderr

    retried = runner.invoke(
        app, ["frames", "retry", "--failed", "--json", "--data-dir", str(data)], env=fixed
    )
    assert retried.exit_code == 0, retried.output
    assert len(json.loads(retried.stdout)["queued"]) == frames
    burst = runner.invoke(app, ["worker", "--burst", "--data-dir", str(data)], env=fixed)
    assert burst.exit_code == 0, burst.output
    healed = runner.invoke(app, ["frames", "account", "--json", "--data-dir", str(data)])
    totals = json.loads(healed.stdout)["totals"]
    assert (totals["case"], totals["retrying"], totals["unaccounted"]) == (frames, 0, 0)
