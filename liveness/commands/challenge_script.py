"""``challenge-script --out FILE``: issue a signed challenge script for a recording."""

from __future__ import annotations

import json
from pathlib import Path

from ..challenge_script import issue_script, script_key, sign
from ..policy import DEFAULT_POLICY


def _run(args) -> int:
    script = issue_script(DEFAULT_POLICY)
    Path(args.out).write_text(sign(script, script_key()) + "\n")
    if args.json:
        print(json.dumps(script.to_dict()))
    else:
        print(f"script {script.script_id} written to {args.out}, valid for "
              f"{DEFAULT_POLICY.challenge_script_ttl_s / 60:.0f} min; prompts from the recording's start:")
        for step, at in script.steps:
            print(f"  {at:6.2f} s  {step.value}")
    return 0


def register(sub) -> None:
    parser = sub.add_parser("challenge-script",
                            help="issue a signed challenge script for a recording (the capturing app shows it)")
    parser.add_argument("--out", required=True, help="write the signed script here")
    parser.add_argument("--json", action="store_true", help="print the script's content as one JSON object")
    parser.set_defaults(run=_run)
