"""Officers claiming at the same moment never get the same case (real threads, real database).

On PostgreSQL each thread has its own connection and the claims truly run at once; on SQLite
they are serialised by the write lock. Either way every case is handed out exactly once.
"""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import func, select

from etle.cases.config import ReviewSettings
from etle.cases.lease import claim
from etle.cases.models import Case, CaseStatus, RejectReason, ReviewAction
from etle.cases.review import Decision, decide
from etle.db import create_engine, session_factory, session_scope
from etle.officers.models import Officer
from tests import factories

OFFICERS = 6
CASES = 60
SETTINGS = ReviewSettings()


def test_concurrent_claims_never_hand_out_one_case_twice(fresh_url: str) -> None:
    engine = create_engine(fresh_url, pool_size=OFFICERS + 2)
    sessions = session_factory(engine)
    with session_scope(sessions) as session:
        cam = factories.camera(session)
        for _ in range(CASES):
            factories.registered_case(session, camera=cam)
        officer_ids = [factories.officer(session).id for _ in range(OFFICERS)]

    start = threading.Barrier(OFFICERS)
    # Every officer holds a claimed case at the same moment once: the claims truly overlap even
    # where SQLite serialises them and one thread could otherwise drain the queue alone.
    all_holding = threading.Barrier(OFFICERS, timeout=60)
    claimed: dict[int, list[int]] = {i: [] for i in officer_ids}
    errors: list[BaseException] = []

    def work(officer_id: int) -> None:
        try:
            start.wait()
            while True:
                with session_scope(sessions) as session:
                    officer = session.get_one(Officer, officer_id)
                    case = claim(session, officer=officer, settings=SETTINGS)
                    if case is None:
                        return
                    claimed[officer_id].append(case.id)
                if len(claimed[officer_id]) == 1:  # after the claim's commit
                    all_holding.wait()
                with session_scope(sessions) as session:
                    officer = session.get_one(Officer, officer_id)
                    decide(
                        session,
                        case_id=case.id,
                        officer=officer,
                        decision=Decision(ReviewAction.REJECT, reason=RejectReason.DUPLICATE),
                        settings=SETTINGS,
                    )
        except BaseException as exc:  # reported below, with the thread's officer
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in officer_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    every = [case_id for ids in claimed.values() for case_id in ids]
    assert [c for c, n in Counter(every).items() if n > 1] == []
    assert len(every) == CASES
    # The work really was shared: every officer took cases.
    assert all(claimed.values())
    with session_scope(sessions) as session:
        left = session.scalar(
            select(func.count()).select_from(Case).where(Case.status != CaseStatus.REJECTED)
        )
    assert left == 0
    engine.dispose()
