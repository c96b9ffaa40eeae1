"""``match DOCUMENT SELFIE``: 1:1 comparison of two photos' main faces."""

from __future__ import annotations

import json

from ..matching import match_faces
from ..media import read_image
from ..policy import DEFAULT_POLICY


def _run(args) -> int:
    result = match_faces(read_image(args.document), read_image(args.selfie), DEFAULT_POLICY)
    report = {**result.to_dict(), "policy_version": DEFAULT_POLICY.version}
    if args.json:
        print(json.dumps(report))
    elif result.reason:
        print(f"no comparison: {result.reason}")
    else:
        word = ("MATCH" if result.match else "NO MATCH") + (" (uncertain: review)" if result.uncertain else "")
        print(f"{word}: similarity {result.similarity:.3f} (threshold {result.threshold:.3f})")
    # Exit 0 for a completed comparison either way; 1 only for an error.
    return 0


def register(sub) -> None:
    parser = sub.add_parser("match", help="compare the face on a document photo with a selfie")
    parser.add_argument("document", help="photo of the ID document")
    parser.add_argument("selfie", help="photo of the person")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=_run)
