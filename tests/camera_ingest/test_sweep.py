"""The sweep re-sends lost jobs promptly, without flooding the queue during a long backlog."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from api.runtime import Runtime
from camera_ingest.jobs import MAX_REQUEUE_WAIT, sweep_frames
from etle.cameras.models import Camera
from etle.clock import utcnow
from etle.db import session_scope
from etle.frames.models import Frame, FrameStatus
from tests import factories
from tests.conftest import MakeRuntime


@pytest.fixture
def rt(make_runtime: MakeRuntime) -> Runtime:
    return make_runtime(requeue_after_seconds=120)


def _frame(
    rt: Runtime,
    *,
    age: timedelta,
    status: FrameStatus = FrameStatus.QUEUED,
    now: datetime | None = None,
) -> int:
    """A frame received `age` before `now` whose job was lost (it is not on the queue)."""
    received = (now or utcnow()) - age
    with session_scope(rt.sessions) as session:
        cam = session.get(Camera, "CAM-S") or factories.camera(session, camera_id="CAM-S")
        frame = factories.frame(
            session,
            cam,
            received_at=received,
            requeue_at=received + timedelta(seconds=120),
            status=status,
        )
        return frame.id


def test_a_lost_job_comes_back_once_it_is_due(rt: Runtime) -> None:
    # Every sweep is given its clock: the figures do not depend on how fast the machine is.
    now = utcnow()
    fresh = _frame(rt, age=timedelta(seconds=30), now=now)
    lost = _frame(rt, age=timedelta(minutes=3), now=now)
    _frame(rt, age=timedelta(minutes=3), status=FrameStatus.READ, now=now)
    assert sweep_frames(rt.queue, rt.ingest, now=now) == 1
    assert rt.queue.depth() == 1
    soon = now + timedelta(seconds=1)
    assert sweep_frames(rt.queue, rt.ingest, now=soon) == 0  # not again straight away
    later = now + timedelta(minutes=2)
    assert sweep_frames(rt.queue, rt.ingest, now=later) == 1  # `fresh` is due now
    with session_scope(rt.sessions) as session:
        assert session.get_one(Frame, fresh).requeue_at > later
        # `lost` (3 min old when swept) waits 3 min before it is sent again
        assert session.get_one(Frame, lost).requeue_at == now + timedelta(minutes=3)


def test_a_long_backlog_is_sent_a_few_times_not_every_sweep(rt: Runtime) -> None:
    for _ in range(20):
        _frame(rt, age=timedelta(seconds=130))
    now, sent = utcnow(), 0
    # Ten hours of sweeps, one a minute, while no worker takes anything.
    for minute in range(600):
        sent += sweep_frames(rt.queue, rt.ingest, now=now + timedelta(minutes=minute))
    # Each frame is sent when its age doubles (sweeps at minutes 0, 3, 9, 21, 45, 93), then
    # hourly (153, 213, ..., 573): 14 times in ten hours, not 600.
    assert sent == 20 * 14
    with session_scope(rt.sessions) as session:
        frame = session.query(Frame).first()
        assert frame is not None
        assert frame.requeue_at is not None
        assert frame.requeue_at - (now + timedelta(minutes=599)) <= MAX_REQUEUE_WAIT


def test_burst_takes_every_waiting_frame(rt: Runtime) -> None:
    for _ in range(3):
        _frame(rt, age=timedelta(seconds=1))
    assert sweep_frames(rt.queue, rt.ingest, older_than=timedelta(0)) == 3
