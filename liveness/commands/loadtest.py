"""``loadtest``: K simultaneous live checks on this machine, analysed frames/s per session, capacity."""

from __future__ import annotations

import json
import sys

from ..config import settings
from ..loadtest import DEFAULT_SECONDS, DEFAULT_SESSIONS, format_report, run_loadtest


def _sessions(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise ValueError(f"--sessions must be a comma-separated list of counts, not {text!r}") from None
    if not values or min(values) < 1:
        raise ValueError("--sessions needs counts of at least 1")
    return values


def _loadtest(args) -> int:
    if not 1 <= args.seconds <= 600:
        raise ValueError("--seconds must be between 1 and 600")

    def log(step: str) -> None:
        if not args.json:
            print(f"running {step}…", file=sys.stderr, flush=True)

    report = run_loadtest(args.clip, sessions=_sessions(args.sessions), seconds=args.seconds,
                          challenge=args.challenge, log=log)
    print(json.dumps(report.to_dict(), indent=2) if args.json else format_report(report))
    return 0


def register(sub) -> None:
    parser = sub.add_parser("loadtest", help="capacity of this machine: K live checks at once")
    parser.add_argument("clip", nargs="?",
                        default=str(settings().data_dir / "video" / "cap12_edit_640x480.mjpeg"),
                        help="the camera clip each customer sends, looped (default: %(default)s)")
    parser.add_argument("--sessions", default=",".join(map(str, DEFAULT_SESSIONS)),
                        help="simultaneous checks per step (default: %(default)s)")
    parser.add_argument("--seconds", type=float, default=DEFAULT_SECONDS,
                        help="length of each step (default: %(default)s)")
    parser.add_argument("--challenge", default="smile,blink", help="steps of every check (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.set_defaults(run=_loadtest)
