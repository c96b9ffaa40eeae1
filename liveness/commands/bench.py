"""``bench VIDEO``: median and p95 ms per frame for each stage, frames/s, live-path and verify speed."""

from __future__ import annotations

import json
import sys

from ..bench import DEFAULT_FRAMES, format_report, run_bench


def _bench(args) -> int:
    if args.frames < 1:
        raise ValueError("--frames must be at least 1")

    def log(stage: str) -> None:
        if not args.json:
            print(f"timing {stage}…", file=sys.stderr, flush=True)

    report = run_bench(args.video, frames=args.frames, challenge=args.challenge,
                       with_verify=not args.no_verify, with_live=not args.no_live, log=log)
    print(json.dumps(report.to_dict(), indent=2) if args.json else format_report(report))
    return 0


def register(sub) -> None:
    parser = sub.add_parser("bench", help="time each stage of the per-frame path on a video")
    parser.add_argument("video", help="a recorded video (640x480 for the reference numbers)")
    parser.add_argument("--frames", type=int, default=DEFAULT_FRAMES,
                        help="frames to time, from the start (default: %(default)s)")
    parser.add_argument("--challenge", default="smile,blink",
                        help="steps of the timed sessions and of verify (default: %(default)s)")
    parser.add_argument("--no-verify", action="store_true", help="skip timing verify on the whole video")
    parser.add_argument("--no-live", action="store_true",
                        help="skip replaying the frames in real time through the live page's server path")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.set_defaults(run=_bench)
