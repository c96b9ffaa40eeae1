"""Retention: evidence is deleted once its period is over; crash leftovers are swept.

``purge`` clears the evidence of cases older than the retention period (the
case row, its scores and its decision stay: they hold no biometric data), and
deletes the attempt records, lockouts and unused sessions of that age. The
rows are cleared and audited first, the files deleted after the commit, so a
crash in between leaves orphan files, never a row pointing to a missing file.
``sweep_orphans`` deletes evidence files no row points to (a writer killed
between its file and its commit); it waits a grace period so it never takes
the file of a case another process is committing right now.
``check_consistency`` is what the kill test and an operator can run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from . import api_sessions, audit
from .schema import Attempt, Case, Lockout, VerificationSession
from .store import Store

log = logging.getLogger(__name__)

ORPHAN_GRACE_S = 3600.0
PURGE_BATCH = 500


@dataclass(frozen=True)
class PurgeReport:
    cases: int  # cases whose evidence was (or, on a dry run, would be) deleted
    files_deleted: int
    orphans_deleted: int
    dry_run: bool
    attempt_records_deleted: int = 0  # attempts, lockouts and unused sessions past the period
    documents_dropped: int = 0  # API sessions' document photos no capture will use (api_sessions.settle)


@dataclass(frozen=True)
class ConsistencyReport:
    cases_with_evidence: int
    missing_files: list[str]  # case ids whose file is gone: must always be empty
    unreadable: list[str]  # case ids whose file does not open or match its record
    orphan_files: list[str]  # files no row points to
    audit_chain_ok: bool

    @property
    def ok(self) -> bool:
        return not (self.missing_files or self.unreadable or self.orphan_files) and self.audit_chain_ok


def _referenced(store: Store) -> dict[str, tuple[str, str]]:
    """evidence file name → (case id, sha256) for every case that has evidence."""
    with store.read() as session:
        rows = session.execute(sa.select(Case.evidence_file, Case.id, Case.evidence_sha256)
                               .where(Case.evidence_file.is_not(None)))
        return {name: (case_id, sha) for name, case_id, sha in rows}


def sweep_orphans(store: Store, grace_s: float = ORPHAN_GRACE_S) -> int:
    removed = store.vault.sweep(set(_referenced(store)), grace_s)
    if removed:
        log.warning("removed %d orphan evidence file(s) left by an interrupted write", len(removed))
    return len(removed)


def purge(store: Store, older_than: timedelta, dry_run: bool = False,
          actor: str = audit.SYSTEM) -> PurgeReport:
    if older_than < timedelta(0):
        raise ValueError("the retention period cannot be negative")
    now = store.now()
    cutoff = now - older_than
    due = sa.select(Case.id, Case.evidence_file).where(Case.evidence_file.is_not(None), Case.created_at < cutoff)
    if dry_run:
        with store.read() as session:
            count = session.scalar(sa.select(sa.func.count()).select_from(due.subquery()))
        return PurgeReport(count, 0, 0, True)
    cases = files = 0
    while True:
        with store.write() as session:
            batch = session.execute(due.limit(PURGE_BATCH)).all()
            if not batch:
                break
            ids = [case_id for case_id, _ in batch]
            session.execute(sa.update(Case).where(Case.id.in_(ids))
                            .values(evidence_file=None, evidence_sha256=None, evidence_bytes=None, purged_at=now)
                            .execution_options(synchronize_session=False))
            audit.append(session, now, actor, "evidence.purged", f"cases:{len(ids)}",
                         {"case_ids": ids, "older_than_days": older_than.total_seconds() / 86400})
        files += sum(store.vault.delete(name) for _, name in batch)
        cases += len(batch)
    orphans = sweep_orphans(store)
    records = _purge_attempt_records(store, cutoff, actor)
    # The API's webhook loop drops them too, but only while the API runs: retention must not depend on it.
    documents = api_sessions.settle(store, actor)
    log.info("purged the evidence of %d case(s), %d attempt record(s) and %d document photo(s)",
             cases, records, documents)
    return PurgeReport(cases, files, orphans, False, records, documents)


def _purge_attempt_records(store: Store, cutoff: datetime, actor: str) -> int:
    """Attempts, lockouts and case-less sessions past the retention period (data minimisation)."""
    with store.write() as session:
        attempts = session.execute(sa.delete(Attempt).where(Attempt.created_at < cutoff)
                                   .execution_options(synchronize_session=False)).rowcount
        lockouts = session.execute(sa.delete(Lockout).where(Lockout.locked_until < cutoff)
                                   .execution_options(synchronize_session=False)).rowcount
        api_rows = api_sessions.purge_before(session, cutoff)  # before the sessions they point to
        unused = (sa.delete(VerificationSession)
                  .where(VerificationSession.created_at < cutoff,
                         ~sa.exists().where(Case.session_id == VerificationSession.id),
                         ~sa.exists().where(Attempt.session_id == VerificationSession.id))
                  .execution_options(synchronize_session=False))
        sessions = session.execute(unused).rowcount
        total = attempts + lockouts + sessions + api_rows
        if total:
            audit.append(session, store.now(), actor, "attempts.purged", "attempts",
                         {"attempts": attempts, "lockouts": lockouts, "sessions": sessions,
                          "api_rows": api_rows, "before": cutoff.isoformat()})
    return total


def check_consistency(store: Store) -> ConsistencyReport:
    referenced = _referenced(store)
    on_disk = {name for name, _ in store.vault.files()}
    missing, unreadable = [], []
    for name, (case_id, sha256) in referenced.items():
        if name not in on_disk:
            missing.append(case_id)
            continue
        try:
            store.vault.read(case_id, name, sha256)
        except Exception:  # any failure to open is a finding, reported by id
            unreadable.append(case_id)
    return ConsistencyReport(len(referenced), sorted(missing), sorted(unreadable),
                             sorted(on_disk - set(referenced)), audit.verify_chain(store).ok)
