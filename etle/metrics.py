"""Prometheus metrics: what the back office counts, and what it reads from its own state.

Two kinds, for two reasons:

* **Counted in the process** where the event happens: frames received and rejected (API
  processes), recognition latency (workers). With several API processes on one machine, `etle
  serve` points `PROMETHEUS_MULTIPROC_DIR` at a fresh folder so that `/metrics` sums them all;
  a worker exposes its own with `etle worker --metrics-port`.
* **Read from the shared state** at scrape time (`StateCollector`): queue depth and the age of
  the oldest waiting frame, the review backlog, deliveries by channel and state, the audit-chain
  head. These are the same whichever process is asked and however many machines run, because
  they come from the one database and the one queue.

No label ever holds personal data (invariant 7): labels are outcomes, reasons, channels, states.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from etle.audit.models import AuditEvent
from etle.cases.models import Case, CaseStatus
from etle.clock import utcnow
from etle.frames.models import Frame, FrameStatus
from etle.notices.models import Delivery

log = logging.getLogger(__name__)

FRAMES_RECEIVED = Counter(
    "etle_frames_received",
    "Frames pushed by cameras over HTTP and stored: new, or a repeat of one stored before.",
    ["outcome"],  # accepted | duplicate
)
FRAMES_REJECTED = Counter(
    "etle_frames_rejected",
    "Frame pushes refused, by reason (nothing stored).",
    ["reason"],
)
OVERLOAD_REFUSALS = Counter(
    "etle_http_overload_refusals",
    "Requests answered 503 overloaded at once because their admission lane was full.",
    ["lane"],  # cameras | officers | sign_in | public | bank | operations
)
RECOGNITION_SECONDS = Histogram(
    "etle_recognition_seconds",
    "One recognition job: evidence read, plates detected and read, reads and case written.",
    ["outcome"],  # read | already_done | missing | failed | error
    buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0, 30.0),
)

# HTTP status of the frame push -> the reason a frame was refused (the error codes of
# api/errors.py, one per status on that route).
REJECT_REASONS = {
    400: "bad_request",
    401: "unauthorized",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
    503: "service_unavailable",
}

# Case states an officer still has to act on.
REVIEW_STATES = (
    CaseStatus.PENDING_REVIEW,
    CaseStatus.PENDING_SECOND_REVIEW,
    CaseStatus.ESCALATED,
)


def count_frame_push(status: int) -> None:
    if status == 202:
        FRAMES_RECEIVED.labels("accepted").inc()
    elif status == 200:
        FRAMES_RECEIVED.labels("duplicate").inc()
    else:
        FRAMES_REJECTED.labels(REJECT_REASONS.get(status, f"http_{status}")).inc()


def count_overload(lane: str) -> None:
    OVERLOAD_REFUSALS.labels(lane).inc()


class StateCollector(Collector):
    """Gauges read from the database and the queue at each scrape.

    A scrape while the database is down still answers: the gauges it could not read are left
    out and `etle_state_up` says 0, so an alert fires on that instead of on stale numbers.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        queue_depth: Callable[[], int],
        *,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.queue_depth = queue_depth
        self.now = now

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("etle_state_up", "1 when the database and queue were readable")
        try:
            metrics = list(self._database()) + [self._queue()]
        except Exception as exc:  # a scrape must not fail: report the outage instead
            log.warning("metrics: state not readable: %s", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from metrics

    def _queue(self) -> Metric:
        depth = GaugeMetricFamily("etle_queue_depth", "Jobs waiting on the worker queue")
        depth.add_metric([], self.queue_depth())
        return depth

    def _database(self) -> Iterator[Metric]:
        with self.sessions() as session:
            waiting, oldest = session.execute(
                select(func.count(), func.min(Frame.received_at)).where(
                    Frame.status == FrameStatus.QUEUED
                )
            ).one()
            backlog = dict(
                session.execute(
                    select(Case.status, func.count())
                    .where(Case.status.in_(REVIEW_STATES))
                    .group_by(Case.status)
                ).all()
            )
            deliveries = session.execute(
                select(Delivery.channel, Delivery.status, func.count()).group_by(
                    Delivery.channel, Delivery.status
                )
            ).all()
            head = session.scalar(select(func.max(AuditEvent.seq)))
        frames = GaugeMetricFamily(
            "etle_frames_waiting", "Frames stored and not yet read (status queued)"
        )
        frames.add_metric([], waiting)
        yield frames
        age = GaugeMetricFamily(
            "etle_frames_oldest_waiting_seconds",
            "Age of the oldest frame not yet read (queue lag); 0 when none waits",
        )
        if oldest is not None:
            age.add_metric([], max(0.0, (self.now() - _aware(oldest)).total_seconds()))
        else:
            age.add_metric([], 0.0)
        yield age
        review = GaugeMetricFamily(
            "etle_review_backlog", "Cases waiting for an officer", labels=["status"]
        )
        for status in REVIEW_STATES:
            review.add_metric([status.value], backlog.get(status, 0))
        yield review
        ledger = GaugeMetricFamily(
            "etle_deliveries", "Notice deliveries by channel and state", labels=["channel", "state"]
        )
        for channel, state, count in deliveries:
            ledger.add_metric([str(channel), str(state)], count)
        yield ledger
        chain = GaugeMetricFamily(
            "etle_audit_chain_head", "Number of the last audit event (0: empty chain)"
        )
        chain.add_metric([], head or 0)
        yield chain


def _aware(value: datetime) -> datetime:
    # UTCDateTime already returns aware values; a raw min() over SQLite may not go through it.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
