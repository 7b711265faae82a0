"""The demo end to end: sample frames in, notices out, on every database backend."""

from __future__ import annotations

import csv
import io
import json
from email import message_from_bytes, policy
from pathlib import Path

import pypdf
import pytest
from typer.testing import CliRunner

from api.cli.main import app
from api.demo import SAMPLES, run_demo
from api.runtime import build_runtime
from api.settings import load_app_settings

FRAMES = json.loads((SAMPLES / "frames.json").read_text())
REGISTERED = {
    row["plate"].replace(" ", "")
    for row in csv.DictReader(io.StringIO((SAMPLES / "registry.csv").read_text()))
}
EXPECTED_NOTICES = [f for f in FRAMES if f["plate"] in REGISTERED]


@pytest.fixture
def demo_runs(fresh_url: str, models_dir: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    settings = load_app_settings(
        data_dir=tmp_path, database_url=fresh_url, models_dir=models_dir, queue_url=None
    )
    rt = build_runtime(settings)
    first = run_demo(rt)
    second = run_demo(rt)
    yield rt, first, second
    rt.close()


def test_every_registered_sample_plate_gets_a_notice_on_every_channel(demo_runs) -> None:  # type: ignore[no-untyped-def]
    rt, first, _ = demo_runs
    assert first.frames == len(FRAMES)
    assert first.plates_read == len(FRAMES)
    assert first.cases == len(FRAMES)
    assert first.notices["letters"] == len(EXPECTED_NOTICES)
    assert first.notices["post"] == len(EXPECTED_NOTICES)
    assert first.cases_by_status == {
        "notice_sent": len(EXPECTED_NOTICES),
        "pending_review": len(FRAMES) - len(EXPECTED_NOTICES),
    }
    assert first.audit_chain_ok


def test_running_twice_duplicates_nothing(demo_runs) -> None:  # type: ignore[no-untyped-def]
    _, first, second = demo_runs
    assert (second.frames, second.plates_read, second.cases, second.notices) == (
        first.frames,
        first.plates_read,
        first.cases,
        first.notices,
    )
    assert second.new["frames"] == 0
    assert second.new["confirmed"] == 0
    assert second.new["post_letters"] == 0


def test_outputs_open_and_show_plate_and_notice_number(demo_runs) -> None:  # type: ignore[no-untyped-def]
    rt, first, _ = demo_runs
    batches = list(rt.settings.post_folder.glob("batch-*"))
    assert len(batches) == 1
    manifest = list(csv.DictReader(io.StringIO((batches[0] / "manifest.csv").read_text())))
    assert len(manifest) == len(EXPECTED_NOTICES)
    plates = {f["plate"] for f in EXPECTED_NOTICES}
    for row in manifest:
        text = pypdf.PdfReader(batches[0] / row["file"]).pages[0].extract_text()
        assert row["notice_number"] in text
        assert any(_spaced(p) in text for p in plates)

    emails = sorted(rt.settings.email_folder.glob("*.eml"))
    assert len(emails) == first.notices["email"] > 0
    for path in emails:
        parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
        [attachment] = list(parsed.iter_attachments())
        assert attachment.get_content_type() == "application/pdf"
        assert (
            parsed["X-ETLE-Notice"]
            in pypdf.PdfReader(io.BytesIO(attachment.get_content())).pages[0].extract_text()
        )

    lines = rt.settings.message_file.read_text().splitlines()
    assert len(lines) == first.notices["message"] > 0
    assert all(json.loads(line)["text"].startswith("ETLE POLRI") for line in lines)


def _spaced(plate: str) -> str:
    from etle.plates import format_plate

    return format_plate(plate)


def test_demo_command_prints_json_summary(
    tmp_path: Path, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ETLE_MODELS_DIR", str(models_dir))
    result = CliRunner().invoke(app, ["demo", "--data-dir", str(tmp_path / "d"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["frames"] == len(FRAMES)
    assert summary["notices"]["post"] == len(EXPECTED_NOTICES)
    assert set(summary["notices"]) >= {"post", "email", "message"}
