"""``purge``: delete evidence older than the retention period, and crash leftovers."""

from __future__ import annotations

from datetime import timedelta

from ..config import settings
from ..store import open_store, retention


def _purge(args) -> int:
    report = retention.purge(open_store(), timedelta(days=args.older_than), dry_run=args.dry_run, actor="cli")
    if report.dry_run:
        print(f"would delete the evidence of {report.cases} case(s) older than {args.older_than:g} days")
    else:
        print(f"deleted the evidence of {report.cases} case(s) ({report.files_deleted} file(s)); "
              f"{report.orphans_deleted} orphan file(s) removed; "
              f"{report.attempt_records_deleted} old attempt record(s) deleted; "
              f"{report.documents_dropped} unused document photo(s) dropped")
    return 0


def register(sub) -> None:
    parser = sub.add_parser("purge", help="delete case evidence past the retention period")
    parser.add_argument("--older-than", type=float, metavar="DAYS",
                        default=settings().retention_days,
                        help="retention period in days (default: LIVENESS_RETENTION_DAYS, else 180)")
    parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")
    parser.set_defaults(run=_purge)
