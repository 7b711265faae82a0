"""Stream pull, on a local video file the test writes: the right frames, at the right times."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from api.cli.main import app
from api.runtime import Runtime
from camera_ingest.sources import IntakeContext
from camera_ingest.stream import sample_stream
from etle.cameras.service import add_camera
from etle.db import session_scope
from etle.errors import ValidationFailed
from etle.frames.models import Frame
from tests.conftest import MakeRuntime

FPS = 10
SECONDS = 7


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """7 s at 10 fps, 640x480; frame i is grey level 3*i with noise, so a sample tells which
    frame of the video it was."""
    path = tmp_path_factory.mktemp("video") / "junction.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (640, 480))
    assert writer.isOpened()
    rng = np.random.default_rng(0)
    for i in range(FPS * SECONDS):
        noise = rng.integers(-6, 7, (480, 640, 3))
        writer.write(np.clip(3 * i + 20 + noise, 0, 255).astype(np.uint8))
    writer.release()
    return path


@pytest.fixture
def rt(make_runtime: MakeRuntime) -> Runtime:
    runtime = make_runtime()
    with session_scope(runtime.sessions) as session:
        add_camera(
            session, camera_id="CAM-V", name="Video", violation_codes=["red_light"], actor="t"
        )
    return runtime


def _which_video_frame(rt: Runtime, frame: Frame) -> int:
    image = cv2.imdecode(np.frombuffer(rt.evidence.get(frame.sha256), np.uint8), cv2.IMREAD_COLOR)
    return round((float(image.mean()) - 20) / 3)


def _frames(rt: Runtime) -> list[Frame]:
    with session_scope(rt.sessions) as session:
        return list(session.scalars(select(Frame).order_by(Frame.id)))


def test_a_frame_every_two_seconds(rt: Runtime, video: Path) -> None:
    ctx = IntakeContext(rt.sessions, rt.evidence, rt.settings, rt.enqueue_recognition)
    positions: list[float] = []
    taken = sample_stream(
        ctx,
        str(video),
        camera_id="CAM-V",
        every_seconds=2,
        on_sample=lambda s: positions.append(s.position_seconds),
    )
    assert taken == 4
    assert positions == pytest.approx([0, 2, 4, 6])
    frames = _frames(rt)
    assert [_which_video_frame(rt, f) for f in frames] == [0, 20, 40, 60]
    assert {(f.camera_id, f.width, f.height, f.content_type) for f in frames} == {
        ("CAM-V", 640, 480, "image/jpeg")
    }
    assert rt.queue.depth() == 4


def test_max_frames_and_violation(rt: Runtime, video: Path) -> None:
    ctx = IntakeContext(rt.sessions, rt.evidence, rt.settings, rt.enqueue_recognition)
    taken = sample_stream(
        ctx, str(video), camera_id="CAM-V", every_seconds=0.5, violation="red_light", max_frames=3
    )
    assert taken == 3
    frames = _frames(rt)
    assert [_which_video_frame(rt, f) for f in frames] == [0, 5, 10]
    assert {f.violation_code for f in frames} == {"red_light"}


def test_cli(rt: Runtime, video: Path) -> None:
    env = {
        "ETLE_DATABASE_URL": rt.settings.effective_database_url,
        "ETLE_DATA_DIR": str(rt.settings.data_dir),
    }
    args = ["ingest", "stream", str(video), "--camera", "CAM-V", "--every", "3", "--json"]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    samples = [json.loads(line) for line in result.stdout.splitlines()]
    assert [s["position_seconds"] for s in samples] == [0, 3, 6]
    assert all(s["frame_id"] and not s["duplicate"] for s in samples)
    refused = CliRunner().invoke(app, [*args[:5], "--violation", "speeding", "--json"], env=env)
    lines = [json.loads(line) for line in refused.stdout.splitlines()]
    # The camera may not report speeding: every sample is refused, the ones already taken
    # above too (the permission is checked before a repeat is answered).
    assert not any(line.get("duplicate") for line in lines)
    refusals = [line["error"] for line in lines]
    assert len(refusals) == 7
    assert all("may not report violation 'speeding'" in error for error in refusals)


def test_missing_file_is_a_clear_error(rt: Runtime, tmp_path: Path) -> None:
    ctx = IntakeContext(rt.sessions, rt.evidence, rt.settings, rt.enqueue_recognition)
    with pytest.raises(ValidationFailed, match="no such video file"):
        sample_stream(ctx, str(tmp_path / "none.avi"), camera_id="CAM-V", every_seconds=1)
    not_video = tmp_path / "notes.avi"
    not_video.write_text("hello")
    with pytest.raises(ValidationFailed, match="cannot open"):
        sample_stream(ctx, str(not_video), camera_id="CAM-V", every_seconds=1)
