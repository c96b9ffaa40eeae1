"""``verify --video V --document D``: a whole session from a recorded video."""

from __future__ import annotations

import json
from pathlib import Path

from tqdm import tqdm

from ..challenge import parse_steps
from ..challenge_script import load_script, script_key
from ..cli import CommandError
from ..i18n import t
from ..media import read_image
from ..pipeline import verify_video
from ..policy import DEFAULT_POLICY


def _run(args) -> int:
    document = read_image(args.document) if args.document else None
    if args.challenge and args.challenge_script:
        raise CommandError("give --challenge or --challenge-script, not both (a script names its steps)")
    steps = parse_steps(args.challenge) if args.challenge else None
    script = load_script(Path(args.challenge_script).read_text(), script_key()) if args.challenge_script else None
    with tqdm(unit="frame", desc="verify", disable=args.json) as bar:
        def progress(done, total):
            bar.total = total
            bar.update(done - bar.n)

        result = verify_video(args.video, document=document, steps=steps, policy=DEFAULT_POLICY,
                              progress=progress, annotated_out=args.annotated, lang=args.lang,
                              script=script)
    if args.json:
        print(json.dumps(result.to_dict()))
        return 0
    v = result.verdict
    print(f"{t(v.decision, args.lang)} ({v.decision})")
    for reason in v.reasons:
        print(f"  - {reason}: {t(reason, args.lang)}")
    print("steps: " + ", ".join(v.steps))
    print("scores: " + ", ".join(f"{k}={val:.3f}" if isinstance(val, float) else f"{k}={val}"
                                 for k, val in v.scores.items()))
    print(f"policy {v.policy_version} ({v.policy_digest}); models: " +
          ", ".join(f"{k}={val}" for k, val in v.model_versions.items()))
    print(f"{result.frames_analysed} frames analysed in {result.elapsed_s:.1f} s"
          + (f"; annotated video: {result.annotated_path}" if result.annotated_path else ""))
    return 0


def register(sub) -> None:
    parser = sub.add_parser("verify", help="run a whole verification on a recorded video")
    parser.add_argument("--video", required=True, help="recorded session (MP4, MOV, WebM, AVI, MJPEG)")
    parser.add_argument("--document", help="photo of the ID document")
    parser.add_argument("--challenge-script", metavar="FILE",
                        help="the signed challenge script the recording answers (python -m liveness "
                             "challenge-script); without one the verdict is review: no_challenge_script")
    parser.add_argument("--challenge", help="without a script: the steps asked, comma-separated: "
                                            "smile,blink,turn_left,turn_right, checked for the reviewers only "
                                            "(default: a random challenge)")
    parser.add_argument("--annotated", help="write an annotated MP4 here")
    parser.add_argument("--lang", choices=("pt", "en"), default="pt")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=_run)
