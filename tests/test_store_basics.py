"""Storage behaviour on SQLite and PostgreSQL: sessions, limits, cases, evidence, reviewers, audit."""

from __future__ import annotations

import hashlib
from datetime import timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import liveness  # noqa: F401
from liveness.config import settings
from liveness.store import (AlreadyDecided, AttemptLimits, AuthError, EvidenceError, EvidenceInput,
                            EvidenceKeyMissing, LockedOut, PermissionDenied, SessionRefused, audit, auth,
                            cases, policies, retention, reviews, sessions)
from liveness.store.audit import AuditLogImmutable
from liveness.store.evidence import EvidenceVault, parse_keys
from liveness.store.schema import AuditEvent, Base, Case
from liveness.store.testing import *  # noqa: F401,F403  (fixtures)
from liveness.store.testing import evidence_for, new_key, verdict_for

PASSWORD = "correct horse battery staple"


def run_session(store, customer="c1", device="d1", verdict="review", marker=7):
    grant = sessions.open_session(store, customer, device)
    ticket = sessions.consume_session(store, grant.session_id, grant.nonce)
    return cases.record_case(store, ticket, verdict_for(grant.session_id, verdict, marker / 255),
                             evidence_for(marker))


def test_migrations_create_exactly_the_models(store):
    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata) == []


def test_migrations_downgrade_and_upgrade_again(database_url):
    from alembic import command

    from liveness.store.db import alembic_config, init_db, upgrade

    engine = init_db(database_url)
    try:
        with engine.begin() as conn:
            config = alembic_config()
            config.attributes["connection"] = conn
            command.downgrade(config, "base")
        assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine)
        assert "audit_events" in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_a_database_at_the_previous_revision_upgrades_and_keeps_its_cases(database_url, make_store):
    """0001 → 0002 adds cases.trace: a case recorded before stays readable, a labelled one without a trace."""
    from liveness.store.db import make_engine, upgrade

    engine = make_engine(database_url)
    try:
        upgrade(engine, "0001")
        assert "trace" not in {c["name"] for c in sa.inspect(engine).get_columns("cases")}
        at = {"at": "2026-11-20 10:00:00"}
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO users (username, password_hash, role, created_at, disabled) "
                                 "VALUES ('rita', 'x', 'reviewer', :at, false)"), at)
            conn.execute(sa.text("INSERT INTO verification_sessions (id, nonce_hash, customer_ref, created_at, "
                                 "expires_at, consumed_at) VALUES ('s1', 'h', 'c1', :at, :at, :at)"), at)
            conn.execute(sa.text(
                "INSERT INTO cases (id, session_id, customer_ref, created_at, verdict, status, reasons, scores, "
                "policy_version, policy_digest, model_versions) VALUES ('case1', 's1', 'c1', :at, 'review', "
                "'approved', '[\"spoof_suspected\"]', '{\"passive\": 0.1, \"similarity\": 0.5}', '2026.11.0', "
                "'0123456789ab', '{}')"), at)
            conn.execute(sa.text("INSERT INTO decisions (case_id, reviewer_id, outcome, note, created_at) "
                                 "SELECT 'case1', id, 'approve', 'same person', :at FROM users"), at)
        upgrade(engine)
    finally:
        engine.dispose()
    store = make_store()
    assert cases.get_case(store, "case1").reasons == ["spoof_suspected"]
    [label] = reviews.labelled_cases(store)
    assert label.genuine and label.trace is None and label.reasons == ["spoof_suspected"]


def test_cases_survive_a_restart(make_store):
    first = make_store()
    case = run_session(first)
    first.close()
    again = make_store()
    assert cases.get_case(again, case.id) == case
    assert cases.load_evidence(again, case.id).series == {"marker": [7.0] * 5}


def test_session_nonce_is_single_use(store):
    grant = sessions.open_session(store, "c1", "d1")
    with pytest.raises(SessionRefused) as wrong:
        sessions.consume_session(store, grant.session_id, "guessed")
    assert wrong.value.reason == "unknown"
    sessions.consume_session(store, grant.session_id, grant.nonce)
    with pytest.raises(SessionRefused) as replay:
        sessions.consume_session(store, grant.session_id, grant.nonce)
    assert replay.value.reason == "replayed"


def test_session_expires(store, clock):
    grant = sessions.open_session(store, "c1", "d1")
    assert grant.expires_at - clock.now == AttemptLimits().session_ttl
    clock.advance(seconds=AttemptLimits().session_ttl.total_seconds() + 1)
    with pytest.raises(SessionRefused) as expired:
        sessions.consume_session(store, grant.session_id, grant.nonce)
    assert expired.value.reason == "expired"


def test_session_ttl_must_be_3_to_10_minutes():
    for minutes in (2, 11):
        with pytest.raises(ValueError):
            AttemptLimits(session_ttl=timedelta(minutes=minutes))


def test_five_failures_in_three_minutes_lock_for_thirty(store, clock):
    for _ in range(4):
        run_session(store, verdict="review")
        clock.advance(seconds=30)
    run_session(store, verdict="accepted")  # a success does not count as a failure
    sessions.open_session(store, "c1", "d1")
    run_session(store, verdict="review")  # the fifth failure within 3 minutes
    with pytest.raises(LockedOut) as locked:
        sessions.open_session(store, "c1", "other-device")
    assert locked.value.subject_kind == "customer"
    with pytest.raises(LockedOut):
        sessions.open_session(store, "another-customer", "d1")  # the device is locked too
    sessions.open_session(store, "another-customer", "d2")
    clock.advance(minutes=29)
    with pytest.raises(LockedOut):
        sessions.open_session(store, "c1", "d1")
    clock.advance(minutes=1, seconds=1)
    sessions.open_session(store, "c1", "d1")


def test_failures_spread_over_time_do_not_lock(store, clock):
    for _ in range(10):
        run_session(store, verdict="review")
        clock.advance(minutes=1)  # never 5 within a 3-minute window
    sessions.open_session(store, "c1", "d1")


def test_replays_count_as_failures(store):
    grant = sessions.open_session(store, "c1", "d1")
    sessions.consume_session(store, grant.session_id, grant.nonce)
    for _ in range(4):
        with pytest.raises(SessionRefused):
            sessions.consume_session(store, grant.session_id, grant.nonce)
    cases.record_failure(store, sessions.SessionTicket(grant.session_id, "c1", "d1"), "no face in the document")
    with pytest.raises(LockedOut):
        sessions.open_session(store, "c1", None)


def test_a_verdict_of_another_session_is_refused(store):
    first = sessions.open_session(store, "c1", "d1")
    second = sessions.open_session(store, "c2", "d2")
    ticket = sessions.consume_session(store, first.session_id, first.nonce)
    with pytest.raises(ValueError, match="another session"):
        cases.record_case(store, ticket, verdict_for(second.session_id), evidence_for(1))
    assert cases.list_cases(store) == []
    assert list(store.vault.files()) == []


def test_one_case_per_session_and_no_file_left_by_the_refused_one(store):
    grant = sessions.open_session(store, "c1", "d1")
    ticket = sessions.consume_session(store, grant.session_id, grant.nonce)
    cases.record_case(store, ticket, verdict_for(grant.session_id), evidence_for(1))
    with pytest.raises(sa.exc.IntegrityError):
        cases.record_case(store, ticket, verdict_for(grant.session_id), evidence_for(2))
    assert len(cases.list_cases(store)) == 1
    assert len(list(store.vault.files())) == 1
    assert retention.check_consistency(store).ok


def test_record_case_needs_a_consumed_session(store):
    grant = sessions.open_session(store, "c1", "d1")
    ticket = sessions.SessionTicket(grant.session_id, "c1", "d1")
    with pytest.raises(ValueError, match="consumed"):
        cases.record_case(store, ticket, verdict_for(grant.session_id), evidence_for(1))
    assert list(store.vault.files()) == []


def test_evidence_round_trip_and_encryption(store):
    case = run_session(store, marker=200)
    evidence = cases.load_evidence(store, case.id)
    assert evidence.verdict["session_id"] == case.session_id
    assert evidence.timeline == [{"event": "start", "marker": 200}]
    assert evidence.timestamps == [i / 30 for i in range(5)]
    images = evidence.key_frame_images()
    assert len(images) == 2 and images[0].shape == (48, 64, 3)
    assert abs(float(images[0].mean()) - 200) < 3
    raw = (store.vault.directory / store.vault.name_for(case.id)).read_bytes()
    assert b"\xff\xd8\xff" not in raw and b"marker" not in raw and b"session_id" not in raw


def test_evidence_and_database_files_are_owner_only(store):
    case = run_session(store)
    sealed = store.vault.directory / store.vault.name_for(case.id)
    paths = [store.vault.directory, sealed.parent, sealed]
    if store.engine.dialect.name == "sqlite":
        paths.append(Path(store.engine.url.database))
    for path in paths:
        assert path.stat().st_mode & 0o077 == 0, path.name


def test_evidence_tampering_and_swapping_are_detected(store):
    first, second = run_session(store, "c1", marker=10), run_session(store, "c2", "d2", marker=20)
    first_path = store.vault.directory / store.vault.name_for(first.id)
    second_path = store.vault.directory / store.vault.name_for(second.id)
    data = bytearray(first_path.read_bytes())
    data[-5] ^= 1
    first_path.write_bytes(bytes(data))
    with pytest.raises(EvidenceError, match="does not match"):
        cases.load_evidence(store, first.id)
    # A file copied onto another case: even with a matching digest it does not open.
    sealed_for_second = second_path.read_bytes()
    with pytest.raises(EvidenceError, match="altered or belongs to another case"):
        store.vault.open_sealed(first.id, sealed_for_second)
    assert retention.check_consistency(store).unreadable == [first.id]


def test_evidence_needs_the_right_key(store, evidence_key):
    case = run_session(store)
    with store.read() as session:
        row = session.get(Case, case.id)
        name, sha = row.evidence_file, row.evidence_sha256
    stranger = EvidenceVault(store.vault.directory, [bytes(32)])
    with pytest.raises(EvidenceError, match="key we do not have"):
        stranger.read(case.id, name, sha)
    # Rotation: a new first key seals, the old one still opens what it sealed.
    rotated = EvidenceVault(store.vault.directory, parse_keys(f"{new_key()},{evidence_key}"))
    assert rotated.read(case.id, name, sha).series == {"marker": [7.0] * 5}


def test_a_deleted_evidence_file_is_reported_not_crashed(store):
    case = run_session(store)
    (store.vault.directory / store.vault.name_for(case.id)).unlink()
    with pytest.raises(EvidenceError, match="missing"):
        cases.load_evidence(store, case.id)
    assert retention.check_consistency(store).missing_files == [case.id]


def test_bad_evidence_is_refused_before_anything_is_written(store):
    grant = sessions.open_session(store, "c1", "d1")
    ticket = sessions.consume_session(store, grant.session_id, grant.nonce)
    bad_inputs = [
        EvidenceInput(key_frames=[b"not a jpeg"]),
        EvidenceInput(key_frames=[np.zeros((4, 4), np.float32)]),
        EvidenceInput(key_frames=[np.zeros((8, 8, 3), np.uint8)] * 33),
        EvidenceInput(timeline=[{"object": object()}]),
        EvidenceInput(key_frames=[np.zeros((8, 8, 3), np.uint8)], key_frame_labels=["a", "b"]),
    ]
    for evidence in bad_inputs:
        with pytest.raises(EvidenceError):
            cases.record_case(store, ticket, verdict_for(grant.session_id), evidence)
    assert list(store.vault.files()) == [] and cases.list_cases(store) == []


def test_production_mode_refuses_to_start_without_a_key(monkeypatch, tmp_path):
    monkeypatch.setenv("LIVENESS_MODE", "production")
    monkeypatch.delenv("LIVENESS_EVIDENCE_KEY", raising=False)
    monkeypatch.setenv("LIVENESS_VAR_DIR", str(tmp_path))
    with pytest.raises(EvidenceKeyMissing, match="production"):
        EvidenceVault.from_settings(settings())
    monkeypatch.setenv("LIVENESS_EVIDENCE_KEY", "too-short")
    with pytest.raises(EvidenceKeyMissing):
        EvidenceVault.from_settings(settings())
    monkeypatch.setenv("LIVENESS_EVIDENCE_KEY", new_key())
    assert EvidenceVault.from_settings(settings())
    assert not (tmp_path / "evidence.key").exists()


def test_demo_mode_generates_one_persistent_key(monkeypatch, tmp_path):
    monkeypatch.setenv("LIVENESS_MODE", "demo")
    monkeypatch.delenv("LIVENESS_EVIDENCE_KEY", raising=False)
    monkeypatch.setenv("LIVENESS_VAR_DIR", str(tmp_path))
    first = EvidenceVault.from_settings(settings())
    second = EvidenceVault.from_settings(settings())
    assert first._sealing_id == second._sealing_id
    assert (tmp_path / "evidence.key").stat().st_mode & 0o077 == 0


def test_authentication_and_roles(store, clock):
    reviewer = auth.create_user(store, "rita", PASSWORD, "reviewer")
    with pytest.raises(ValueError, match="already exists"):
        auth.create_user(store, "rita", PASSWORD, "admin")
    with pytest.raises(ValueError, match="at least"):
        auth.create_user(store, "short", "short", "admin")
    with pytest.raises(ValueError, match="role"):
        auth.create_user(store, "root", PASSWORD, "superuser")
    assert auth.authenticate(store, "rita", PASSWORD) == reviewer
    with pytest.raises(AuthError) as wrong:
        auth.authenticate(store, "rita", PASSWORD + "!")
    with pytest.raises(AuthError) as unknown:
        auth.authenticate(store, "nobody", PASSWORD)
    assert str(wrong.value) == str(unknown.value)
    with store.read() as session:
        stored = session.scalar(sa.text("SELECT password_hash FROM users WHERE username = 'rita'"))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert auth.require_role(reviewer, "reviewer", "admin") == reviewer
    with pytest.raises(PermissionDenied):
        auth.require_role(reviewer, "admin")
    with pytest.raises(PermissionDenied):
        auth.require_role(None, "reviewer")
    auth.set_disabled(store, "rita", True)
    with pytest.raises(AuthError):
        auth.authenticate(store, "rita", PASSWORD)


def test_repeated_login_failures_lock_the_username(store, clock):
    auth.create_user(store, "rita", PASSWORD, "reviewer")
    for _ in range(5):
        with pytest.raises(AuthError):
            auth.authenticate(store, "rita", "wrong password!")
    with pytest.raises(LockedOut):
        auth.authenticate(store, "rita", PASSWORD)  # even the right password, while locked
    clock.advance(minutes=31)
    assert auth.authenticate(store, "rita", PASSWORD).username == "rita"


def test_review_decisions_become_labels_and_are_audited(store, clock):
    reviewer = auth.create_user(store, "rita", PASSWORD, "reviewer")
    pending = []
    for i in range(3):
        pending.append(run_session(store, f"c{i}", f"d{i}", marker=i))
        clock.advance(seconds=1)
    accepted = run_session(store, "c9", "d9", verdict="accepted")
    assert [c.id for c in reviews.review_queue(store)] == [c.id for c in pending]
    decided = reviews.decide(store, reviewer, pending[0].id, "approve", "same person, bad light")
    assert decided.status == "approved" and decided.decision.reviewer == "rita"
    reviews.decide(store, reviewer, pending[1].id, "reject", "screen replay")
    with pytest.raises(AlreadyDecided):
        reviews.decide(store, reviewer, pending[1].id, "approve", "changed my mind")
    with pytest.raises(ValueError, match="note"):
        reviews.decide(store, reviewer, pending[2].id, "approve", "   ")
    assert [c.id for c in reviews.review_queue(store)] == [pending[2].id]
    labels = {label.case_id: label for label in reviews.labelled_cases(store)}
    assert labels[pending[0].id].genuine and not labels[pending[1].id].genuine
    assert labels[pending[0].id].scores == pending[0].scores and accepted.id not in labels
    events = audit.entries(store)
    decisions = [e for e in events if e.action.startswith("case.") and e.action != "case.created"]
    assert [(e.actor, e.action, e.subject) for e in decisions] == [
        ("rita", "case.reject", f"case:{pending[1].id}"), ("rita", "case.approve", f"case:{pending[0].id}")]
    assert decisions[0].details["note"] == "screen replay"


def test_a_case_keeps_its_trace_exactly(store):
    from liveness.challenge import Step
    from liveness.policy import DEFAULT_POLICY
    from liveness.trace import FrameObservation, Gesture, SessionTrace, Tally

    tally = Tally(DEFAULT_POLICY, [Step.SMILE], None, True)
    for i in range(30):
        tally.frame(FrameObservation(i / 30, True, False, Gesture(0.1 + i / 100, 1 / 3, -2.5), i % 2 == 0,
                                     0.9 - i / 1000, None if i == 0 else 0.1 * i))
    tally.finish()
    grant = sessions.open_session(store, "c1", "d1")
    ticket = sessions.consume_session(store, grant.session_id, grant.nonce)
    case = cases.record_case(store, ticket, verdict_for(grant.session_id), evidence_for(1), tally.trace.to_dict())
    reviews.decide(store, auth.create_user(store, "rita", PASSWORD, "reviewer"), case.id, "approve", "ok")
    [label] = reviews.labelled_cases(store)
    assert SessionTrace.from_dict(label.trace) == tally.trace


def test_viewing_evidence_is_role_checked_and_audited(store):
    reviewer = auth.create_user(store, "rita", PASSWORD, "reviewer")
    case = run_session(store)
    assert cases.load_evidence(store, case.id, viewer=reviewer).verdict["session_id"] == case.session_id
    with pytest.raises(PermissionDenied):
        cases.load_evidence(store, case.id, viewer=auth.set_disabled(store, "rita", True))
    views = [e for e in audit.entries(store) if e.action == "evidence.viewed"]
    assert [(e.actor, e.subject) for e in views] == [("rita", f"case:{case.id}")]


def test_audit_times_in_any_zone_verify(store, clock):
    clock.now = clock.now.astimezone(timezone(timedelta(hours=-3)))  # Brasília
    auth.create_user(store, "rita", PASSWORD, "reviewer")
    assert audit.verify_chain(store).ok


def test_references_longer_than_their_column_are_refused(store):
    with pytest.raises(ValueError, match="at most 128"):
        sessions.open_session(store, "c" * 129)
    with pytest.raises(ValueError, match="at most 128"):
        sessions.open_session(store, "c1", "d" * 129)


def test_a_disabled_reviewer_cannot_decide(store):
    reviewer = auth.create_user(store, "rita", PASSWORD, "reviewer")
    case = run_session(store)
    auth.set_disabled(store, "rita", True)
    with pytest.raises(PermissionDenied):
        reviews.decide(store, reviewer, case.id, "approve", "ok")  # the stale login object is re-checked
    assert cases.get_case(store, case.id).status == "review"


def test_policy_versions_are_admin_only_and_audited(store):
    admin = auth.create_user(store, "ana", PASSWORD, "admin")
    reviewer = auth.create_user(store, "rita", PASSWORD, "reviewer")
    assert policies.current_policy(store).created_at is None  # the shipped default
    base = policies.current_policy(store).policy
    stricter = base.replace(version=policies.next_version(store), match_threshold=0.4)
    with pytest.raises(PermissionDenied):
        policies.save_policy(store, stricter, reviewer, "try")
    for note in ("", "   ", "x" * (audit.MAX_NOTE + 1)):  # why the thresholds changed must be said
        with pytest.raises(audit.NoteRequired):
            policies.save_policy(store, stricter, admin, note)
    assert policies.current_policy(store).created_at is None
    saved = policies.save_policy(store, stricter, admin, "fewer false accepts")
    assert policies.current_policy(store).policy == stricter and saved.created_by == "ana"
    with pytest.raises(policies.PolicyVersionExists):
        policies.save_policy(store, stricter.replace(passive_threshold=0.6), admin, "same version")
    assert [r.version for r in policies.policy_history(store)] == [stricter.version, base.version]
    assert policies.get_policy(store, base.version).policy == base
    event = next(e for e in audit.entries(store) if e.action == "policy.saved")
    assert event.actor == "ana" and event.details["changes"] == {"match_threshold": [base.match_threshold, 0.4]}


def test_audit_log_refuses_update_and_delete(store):
    auth.create_user(store, "rita", PASSWORD, "reviewer")
    with pytest.raises(AuditLogImmutable):
        with store.write() as session:
            session.scalars(sa.select(AuditEvent)).first().actor = "mallory"
    with pytest.raises(AuditLogImmutable):
        with store.write() as session:
            session.delete(session.scalars(sa.select(AuditEvent)).first())
    with pytest.raises(AuditLogImmutable):
        with store.write() as session:
            session.execute(sa.delete(AuditEvent))
    for statement in ("UPDATE audit_events SET actor = 'mallory'", "DELETE FROM audit_events"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            with store.engine.begin() as conn:  # below the ORM: the triggers
                conn.execute(sa.text(statement))
    assert audit.verify_chain(store).ok
    assert [e.actor for e in audit.entries(store)] == ["system"]


def test_audit_chain_detects_tampering_behind_the_triggers(store):
    auth.create_user(store, "rita", PASSWORD, "reviewer")
    auth.create_user(store, "ana", PASSWORD, "admin")
    auth.create_user(store, "bob", PASSWORD, "reviewer")
    with store.engine.begin() as conn:  # an attacker with DDL rights disables the guard
        if conn.dialect.name == "sqlite":
            conn.execute(sa.text("DROP TRIGGER audit_events_no_update"))
        else:
            conn.execute(sa.text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change"))
        conn.execute(sa.text("UPDATE audit_events SET details = '{\"role\": \"admin\"}' WHERE subject = 'user:rita'"))
    check = audit.verify_chain(store)
    assert not check.ok and check.problem == "this event was altered" and check.first_bad_id == 1


def test_purge_deletes_old_evidence_and_keeps_the_labels(store, clock):
    reviewer = auth.create_user(store, "rita", PASSWORD, "reviewer")
    old = run_session(store, "c1", "d1")
    reviews.decide(store, reviewer, old.id, "reject", "mask")
    clock.advance(days=100)
    recent = run_session(store, "c2", "d2")
    assert retention.purge(store, timedelta(days=50), dry_run=True).cases == 1
    assert cases.load_evidence(store, old.id)  # a dry run deletes nothing
    report = retention.purge(store, timedelta(days=50))
    assert (report.cases, report.files_deleted) == (1, 1)
    with pytest.raises(EvidenceError, match="purged"):
        cases.load_evidence(store, old.id)
    assert cases.load_evidence(store, recent.id)
    assert not cases.get_case(store, old.id).has_evidence
    assert [label.case_id for label in reviews.labelled_cases(store)] == [old.id]
    assert retention.check_consistency(store).ok
    assert retention.purge(store, timedelta(days=50)).cases == 0


def test_purge_deletes_old_attempt_records_but_not_recent_ones(store, clock):
    for _ in range(5):
        run_session(store, "c1", "d1")  # five failures: c1 and d1 locked
    sessions.open_session(store, "c2", "d2")  # never used
    clock.advance(days=100)
    recent = run_session(store, "c3", "d3")
    report = retention.purge(store, timedelta(days=50))
    assert report.attempt_records_deleted == 5 + 2 + 1  # attempts, lockouts, the unused session
    with store.read() as session:
        assert session.scalar(sa.text("SELECT count(*) FROM attempts")) == 1
        assert session.scalar(sa.text("SELECT count(*) FROM verification_sessions")) == 6  # five with cases + c3
    assert cases.get_case(store, recent.id).has_evidence
    assert retention.purge(store, timedelta(days=50)).attempt_records_deleted == 0


def test_orphan_files_are_swept_after_the_grace_period(store):
    case = run_session(store)
    orphan = store.vault.directory / "ab" / ("ab" + "0" * 30 + ".lve")
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"left by a crash")
    leftover_tmp = store.vault.directory / "ab" / ("ab" + "1" * 30 + ".lve.tmp-1234")
    leftover_tmp.write_bytes(b"half")
    assert retention.sweep_orphans(store) == 0  # recent: maybe another process is committing it
    assert retention.sweep_orphans(store, grace_s=0) == 2
    assert not orphan.exists() and not leftover_tmp.exists()
    assert cases.load_evidence(store, case.id)


def test_logs_hold_no_path_or_scores(store, caplog):
    caplog.set_level("DEBUG", logger="liveness")
    case = run_session(store)
    cases.load_evidence(store, case.id)
    retention.purge(store, timedelta(0))
    text = caplog.text
    assert case.id in text
    assert str(store.vault.directory) not in text and ".lve" not in text and "marker" not in text


def test_audit_hashes_are_sha256_of_the_chain(store):
    auth.create_user(store, "rita", PASSWORD, "reviewer")
    with store.read() as session:
        first = session.scalars(sa.select(AuditEvent)).one()
    assert first.prev_hash == audit.GENESIS and len(first.hash) == len(hashlib.sha256().hexdigest())
