"""Many verification sessions at once, in threads and in processes: nothing lost, nothing mixed up."""

from __future__ import annotations

import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


import liveness  # noqa: F401
from liveness.store import (AlreadyDecided, AttemptLimits, LockedOut, SessionRefused, auth, cases, open_store,
                            retention, reviews, sessions)
from liveness.store.testing import *  # noqa: F401,F403  (fixtures)
from liveness.store.testing import child_env, evidence_for, verdict_for

SESSIONS = 12
PROCESSES = 8
PER_PROCESS = 3


def one_verification(store, marker: int, barrier: threading.Barrier | None = None) -> str:
    customer = f"customer-{marker}"
    grant = sessions.open_session(store, customer, f"device-{marker}")
    if barrier:
        barrier.wait()  # all threads submit at the same moment
    ticket = sessions.consume_session(store, grant.session_id, grant.nonce)
    verdict = "accepted" if marker % 2 else "review"
    return cases.record_case(store, ticket, verdict_for(grant.session_id, verdict, marker / 255),
                             evidence_for(marker)).id


def assert_each_case_is_its_own(store, markers: set[int]) -> None:
    found = {}
    for case in cases.list_cases(store, limit=1000):
        marker = round(case.scores["match"] * 255)
        evidence = cases.load_evidence(store, case.id)
        assert case.customer_ref == f"customer-{marker}"
        assert evidence.verdict["session_id"] == case.session_id
        assert evidence.series == {"marker": [float(marker)] * 5}
        assert evidence.timeline == [{"event": "start", "marker": marker}]
        assert abs(float(evidence.key_frame_images()[0].mean()) - marker) < 3
        assert case.verdict == ("accepted" if marker % 2 else "review")
        found.setdefault(marker, []).append(case.id)
    assert sorted(found) == sorted(markers)
    report = retention.check_consistency(store)
    assert report.ok and report.cases_with_evidence == len(markers)


def test_sessions_at_once_in_threads(store):
    barrier = threading.Barrier(SESSIONS)
    with ThreadPoolExecutor(SESSIONS) as pool:
        ids = list(pool.map(lambda m: one_verification(store, m, barrier), range(1, SESSIONS + 1)))
    assert len(set(ids)) == SESSIONS
    assert_each_case_is_its_own(store, set(range(1, SESSIONS + 1)))


def test_a_session_submitted_many_times_at_once_is_used_once(store):
    grant = sessions.open_session(store, "customer-1", "device-1")
    barrier = threading.Barrier(8)

    def submit(_):
        barrier.wait()
        try:
            return sessions.consume_session(store, grant.session_id, grant.nonce)
        except SessionRefused as refused:
            return refused.reason
        except LockedOut:  # the replays themselves count as failures and lock the customer
            return "locked"

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(submit, range(8)))
    assert sum(isinstance(r, sessions.SessionTicket) for r in results) == 1
    refusals = [r for r in results if isinstance(r, str)]
    assert len(refusals) == 7 and set(refusals) <= {"replayed", "locked"}
    assert refusals.count("replayed") >= AttemptLimits().max_failures


def test_two_reviewers_deciding_one_case_at_once(store):
    case_id = one_verification(store, 2)
    users = [auth.create_user(store, name, "correct horse battery", "reviewer") for name in ("rita", "rui")]
    barrier = threading.Barrier(2)

    def decide(user):
        barrier.wait()
        try:
            return reviews.decide(store, user, case_id, "approve", f"by {user.username}").decision.reviewer
        except AlreadyDecided:
            return None

    with ThreadPoolExecutor(2) as pool:
        winners = [w for w in pool.map(decide, users) if w]
    assert len(winners) == 1
    assert cases.get_case(store, case_id).decision.reviewer == winners[0]


def test_sessions_at_once_in_processes(database_url, tmp_path, evidence_key):
    evidence_dir = tmp_path / "evidence"
    open_store(database_url, evidence_key=evidence_key, evidence_dir=evidence_dir).close()  # migrate once
    workers = [subprocess.Popen([sys.executable, __file__, database_url, str(evidence_dir), evidence_key,
                                 str(first)], stdout=subprocess.PIPE, text=True, env=child_env())
               for first in range(1, PROCESSES * PER_PROCESS + 1, PER_PROCESS)]
    outputs = [w.communicate(timeout=240)[0] for w in workers]
    assert [w.returncode for w in workers] == [0] * PROCESSES
    assert len({line for out in outputs for line in out.split()}) == PROCESSES * PER_PROCESS
    store = open_store(database_url, evidence_key=evidence_key, evidence_dir=evidence_dir)
    try:
        assert_each_case_is_its_own(store, set(range(1, PROCESSES * PER_PROCESS + 1)))
    finally:
        store.close()


if __name__ == "__main__":  # a worker process of test_sessions_at_once_in_processes
    url, directory, key, first = sys.argv[1:]
    worker_store = open_store(url, evidence_key=key, evidence_dir=Path(directory))
    for marker in range(int(first), int(first) + PER_PROCESS):
        print(one_verification(worker_store, marker), flush=True)
