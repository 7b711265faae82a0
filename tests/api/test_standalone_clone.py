"""The product stands on its own: a copy of the repository's tracked files, in a folder with
nothing beside it, reads every sample plate with no ETLE_MODELS_DIR and no model hub.

This is the README's demo command as a new user on another machine runs it: the models must
come from the package (git-tracked files), not from ../shared or a download cache.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

FRAMES = json.loads((REPO / "sample_frames" / "frames.json").read_text())
pytestmark = pytest.mark.slow


def _tracked_files() -> list[str]:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout: the tracked files cannot be listed")
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout.decode()
    return [name for name in listed.split("\0") if name]


def _copy(tmp_path: Path) -> Path:
    clone = tmp_path / "clone"
    for name in _tracked_files():
        source = REPO / name
        if source.is_file():  # a file deleted in the working tree but not yet in git
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, clone / name)
    return clone


def test_a_copy_of_the_tracked_files_reads_every_sample_plate_on_its_own(tmp_path: Path) -> None:
    clone = _copy(tmp_path)
    assert not (clone.parent / "shared").exists()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ETLE_")}
    env["HOME"] = str(tmp_path / "home")  # no download cache of any model hub
    env.pop("PYTHONPATH", None)
    run = [sys.executable, "-c"]
    where = subprocess.run(
        [*run, "import camera_ingest.recognition.loading as m; print(m.PACKAGED_MODELS)"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where) == clone / "camera_ingest" / "recognition" / "models"

    demo = subprocess.run(
        [
            *run,
            "from api.cli.main import main; main()",
            "demo",
            "--data-dir",
            "etle-demo",
            "--json",
        ],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert demo.returncode == 0, demo.stderr[-3000:]
    summary = json.loads(demo.stdout.strip().splitlines()[-1])
    assert summary["frames"] == len(FRAMES)
    with sqlite3.connect(clone / "etle-demo" / "etle.db") as db:
        read = {text for (text,) in db.execute("SELECT text FROM plate_reads")}
    assert read == {frame["plate"] for frame in FRAMES}
