"""``db upgrade|check``: migrate the database; check cases, evidence and the audit chain."""

from __future__ import annotations

from ..cli import CommandError
from ..store import open_store, retention


def _upgrade(args) -> int:
    open_store().close()  # opening migrates to the newest revision
    print("database at the newest revision")
    return 0


def _check(args) -> int:
    report = retention.check_consistency(open_store())
    print(f"cases with evidence: {report.cases_with_evidence}")
    print(f"rows pointing to a missing file: {len(report.missing_files)}")
    print(f"evidence that does not open or match: {len(report.unreadable)}")
    print(f"orphan files: {len(report.orphan_files)}")
    print(f"audit chain: {'intact' if report.audit_chain_ok else 'BROKEN'}")
    if not report.ok:
        raise CommandError("inconsistent: see above")
    return 0


def register(sub) -> None:
    parser = sub.add_parser("db", help="database migrations and consistency check")
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser("upgrade", help="apply the migrations").set_defaults(run=_upgrade)
    actions.add_parser("check", help="check rows, evidence files and the audit chain").set_defaults(run=_check)
