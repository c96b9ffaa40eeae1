"""A writer killed (SIGKILL) mid-case leaves a consistent database and evidence folder.

The child process (this file run as a script) writes cases; the parent kills
it at chosen points — after the evidence's temporary file, after the
evidence file, inside the open database transaction — and at random moments
of a busy loop. After each kill a fresh process opens the store and checks:
every acknowledged case is there and opens, no row points to a missing or
corrupt file, the audit chain is intact, the database accepts new writes,
and the only leftovers are unreferenced files that the sweep removes.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import liveness  # noqa: F401
from liveness.store import cases, open_store, retention, sessions
from liveness.store.testing import *  # noqa: F401,F403  (fixtures)
from liveness.store.testing import child_env, evidence_for, verdict_for

PAUSE_POINTS = ("before-rename", "after-evidence", "in-transaction")


def write_one(store, marker: int) -> str:
    grant = sessions.open_session(store, f"customer-{marker}", None)  # accepted: no lockout across runs
    ticket = sessions.consume_session(store, grant.session_id, grant.nonce)
    return cases.record_case(store, ticket, verdict_for(grant.session_id, "accepted", marker / 255),
                             evidence_for(marker)).id


class Child:
    def __init__(self, url: str, directory: Path, key: str, mode: str):
        self.process = subprocess.Popen([sys.executable, __file__, url, str(directory), key, mode],
                                        stdout=subprocess.PIPE, text=True, env=child_env())
        self.committed: list[str] = []

    def read_until(self, word: str) -> None:
        for line in self.process.stdout:
            kind, _, value = line.strip().partition(" ")
            if kind == "committed":
                self.committed.append(value)
            if kind == word:
                return
        raise AssertionError(f"the child ended before {word!r} (exit {self.process.wait()})")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.process.stdout.close()
        assert self.process.returncode == -signal.SIGKILL


def assert_consistent_after_restart(url: str, directory: Path, key: str, committed: list[str]) -> int:
    """Reopen as a new process would; returns how many orphan files the sweep removed."""
    store = open_store(url, evidence_key=key, evidence_dir=directory)
    try:
        if store.engine.dialect.name == "sqlite":
            with store.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        report = retention.check_consistency(store)
        assert report.missing_files == [] and report.unreadable == [] and report.audit_chain_ok
        stored = {c.id for c in cases.list_cases(store, limit=10_000)}
        assert set(committed) <= stored  # every acknowledged case survived
        removed = retention.sweep_orphans(store, grace_s=0)
        assert removed == len(report.orphan_files)
        assert retention.check_consistency(store).ok
        write_one(store, 250)  # no lock or half transaction left behind
        return removed
    finally:
        store.close()


@pytest.mark.parametrize("point", PAUSE_POINTS)
def test_killed_at_a_known_point(database_url, tmp_path, evidence_key, point):
    directory = tmp_path / "evidence"
    open_store(database_url, evidence_key=evidence_key, evidence_dir=directory).close()
    child = Child(database_url, directory, evidence_key, point)
    child.read_until("paused")
    child.kill()
    assert child.committed  # it wrote whole cases before the one it was killed in
    assert assert_consistent_after_restart(database_url, directory, evidence_key, child.committed) == 1


def test_killed_at_random_moments_of_a_busy_writer(database_url, tmp_path, evidence_key):
    directory = tmp_path / "evidence"
    open_store(database_url, evidence_key=evidence_key, evidence_dir=directory).close()
    rng = random.Random(5)
    committed: list[str] = []
    for _ in range(4):
        child = Child(database_url, directory, evidence_key, "loop")
        for _ in range(rng.randint(1, 4)):
            child.read_until("committed")
        time.sleep(rng.uniform(0, 0.05))  # lands anywhere in the next case's write
        child.kill()
        committed += child.committed
        assert_consistent_after_restart(database_url, directory, evidence_key, committed)


def _pause(point: str):
    """Make the child stop forever at ``point`` of its next case, saying so."""
    from liveness.store import audit, evidence

    def stop():
        print("paused", flush=True)
        time.sleep(3600)

    if point == "before-rename":
        real_replace = evidence.os.replace
        evidence.os.replace = lambda src, dst: stop() if ".tmp-" in str(src) else real_replace(src, dst)
    elif point == "after-evidence":
        real_write = evidence.EvidenceVault.write
        evidence.EvidenceVault.write = lambda self, *a: (real_write(self, *a), stop())[0]
    elif point == "in-transaction":
        real_append = audit.append
        # record_case holds the write lock, its row flushed, when it appends the audit event
        cases.audit.append = lambda session, *a, **k: (real_append(session, *a, **k), stop())[0]


if __name__ == "__main__":  # the child: write cases until killed
    url, directory, key, mode = sys.argv[1:]
    child_store = open_store(url, evidence_key=key, evidence_dir=Path(directory))
    for marker in range(1, 3):
        print("committed", write_one(child_store, marker), flush=True)
    if mode != "loop":
        _pause(mode)
    marker = 3
    while True:
        print("committed", write_one(child_store, marker % 250), flush=True)
        marker += 1
