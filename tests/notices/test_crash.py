"""A dispatcher killed mid-batch (SIGKILL, a real process) and started again delivers every
notice exactly once: each message once at the gateway (it dedupes by idempotency key), each
email once in the recipient's mailbox (a resend carries the same Message-ID)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from etle.db import session_scope
from etle.notices.models import Delivery, DeliveryStatus
from tests import factories
from tests.conftest import REPO, MakeRuntime
from tests.notices.peers import gateway_server, smtp_server

NOTICES = 40


def _worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", "from api.cli.main import main; main()", "worker", "--burst"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
def test_killed_dispatcher_resumes_and_sends_each_notice_once(
    make_runtime: MakeRuntime, fresh_url: str, tmp_path: Path
) -> None:
    with smtp_server() as (sink, port), gateway_server() as (gateway, url):
        settings = {
            "email_backend": "smtp",
            "smtp_port": port,
            "message_backend": "sms",
            "sms_gateway_url": f"{url}/sms",
            "sms_gateway_token": "gw-token-1234",
            "dispatch_lease_seconds": 1,
        }
        rt = make_runtime(**settings)
        with session_scope(rt.sessions) as session:
            for _ in range(NOTICES):
                factories.confirmed_notice(session, rt.evidence, rt.settings)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ETLE_")}
        env.update({f"ETLE_{k.upper()}": str(v) for k, v in settings.items()})
        env.update(
            ETLE_DATA_DIR=str(rt.settings.data_dir),
            ETLE_DATABASE_URL=fresh_url,
            ETLE_PORTAL_URL=rt.settings.portal_url,
            ETLE_SECRET_KEY="test-signing-key-for-notices-0123456789",
            ETLE_SMTP_SECURITY="none",
        )

        first = _worker(env)
        deadline = time.monotonic() + 120
        while len(sink.received) < NOTICES // 4 and time.monotonic() < deadline:
            assert first.poll() is None, first.stderr.read() if first.stderr else ""
            time.sleep(0.005)
        # At a random moment, not right after an acceptance the sink saw: a crash does not
        # wait for the worst time either (that window is microseconds wide: notices.journal).
        time.sleep(random.uniform(0.0, 0.05))
        first.send_signal(signal.SIGKILL)
        first.communicate()  # reaps it and closes its pipe
        killed_after = len(sink.received)
        assert killed_after < NOTICES, "the kill came too late to test anything"

        time.sleep(1.5)  # the killed worker's claims lapse (ETLE_DISPATCH_LEASE_SECONDS=1)
        second = _worker(env)
        _, errors = second.communicate(timeout=300)
        assert second.returncode == 0, errors.decode()

        # Email: none lost, and a mailbox shows each notice once. SMTP has no idempotency key:
        # a kill after the server accepted a message but before the dispatcher heard "250"
        # sends that one message again on restart, with the same Message-ID, which mail
        # systems treat as the same message. Only the email in flight at the kill can repeat.
        received = Counter(str(m["X-ETLE-Notice"]) for m in sink.received)
        assert len(received) == NOTICES, "a notice was lost"
        ids = {
            notice: {
                str(m["Message-ID"]) for m in sink.received if str(m["X-ETLE-Notice"]) == notice
            }
            for notice in received
        }
        assert all(len(message_ids) == 1 for message_ids in ids.values())
        assert len(set(sink.message_ids())) == NOTICES  # one Message-ID per notice
        repeated = [notice for notice, count in received.items() if count > 1]
        assert len(repeated) <= 1, f"more than the in-flight email went out twice: {repeated}"
        assert len(gateway.messages) == NOTICES
        with session_scope(rt.sessions) as session:
            states = Counter(
                (d.channel, d.status)
                for d in session.scalars(select(Delivery).where(Delivery.channel != "post"))
            )
        assert states == {
            ("email", DeliveryStatus.SENT): NOTICES,
            ("message", DeliveryStatus.SENT): NOTICES,
        }
