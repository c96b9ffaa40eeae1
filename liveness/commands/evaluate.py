"""``evaluate --data DIR``: ISO/IEC 30107-3 rates of a passive-liveness model.

DIR holds ``live`` and ``attack`` images or videos (recursively); each DIR's
attacks are one attack species named after it. With ``--label live`` (or
``attack``) every file under DIR, or DIR itself when it is a file, is that
class: unseen webcam clips without attacks give BPCER and session decisions,
not EER or AUC. Prints a summary (or one JSON
object with ``--json``) and saves ``report.json`` with ROC, DET and histogram
PNGs in ``--out``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from ..cli import CommandError
from ..config import settings
from ..policy import DEFAULT_POLICY


def _run(args) -> int:
    from ..pad.data import LABEL_NAMES, discover_all
    from ..pad.evaluation import (benchmark_ms_per_face, build_report, format_report,
                                  save_report, score_presentations)
    from ..passive import PASSIVE_MODEL_PATH, load_passive_model

    model_path = args.model or PASSIVE_MODEL_PATH
    model = load_passive_model(model_path)
    if model is None:
        raise CommandError(f"no model at {model_path}: train one with python -m liveness train")
    policy = DEFAULT_POLICY
    if args.threshold is not None:
        policy = replace(policy, passive_threshold=args.threshold)
    if args.aggregate:
        policy = replace(policy, passive_aggregate=args.aggregate)
    presentations = discover_all(args.data, subjects=args.subjects,
                                 label=None if args.label is None else LABEL_NAMES[args.label])
    scores = score_presentations(model, presentations, policy, args.frame_step, progress=not args.json)
    ms = None if args.no_benchmark else benchmark_ms_per_face(model, presentations)
    report = build_report(scores, model.path, model.version, policy, args.frame_step, ms)
    out = args.out or settings().var_dir / "evaluation" / "-".join(
        [Path(model_path).stem, *(Path(d).name for d in args.data)])
    save_report(report, scores, out, " + ".join(Path(d).name for d in args.data))
    if args.json:
        print(json.dumps(report.as_dict()))
    else:
        print(format_report(report))
        print(f"report and plots in {out}")
    return 0


def register(sub) -> None:
    parser = sub.add_parser("evaluate", help="APCER/BPCER/ACER/EER/AUC of the passive-liveness model")
    parser.add_argument("--data", type=Path, action="append", required=True,
                        help="folder with live/ and attack/ images or videos, or one file with --label "
                             "(repeatable)")
    parser.add_argument("--label", choices=["live", "attack"],
                        help="every file under --data is this class (e.g. live webcam clips): only "
                             "that class's error rate and the sessions are reported")
    parser.add_argument("--model", type=Path, help="a .tflite (default: the shipped model)")
    parser.add_argument("--subjects", nargs="*", metavar="SUBJECT",
                        help="only these subjects (e.g. those a model was not trained on)")
    parser.add_argument("--frame-step", type=int, default=DEFAULT_POLICY.passive_every_n,
                        help="score every Nth video frame (default: the policy's)")
    parser.add_argument("--threshold", type=float, help="override the policy's passive threshold")
    parser.add_argument("--aggregate", choices=["median", "trimmed_mean"],
                        help="override the policy's session aggregate")
    parser.add_argument("--out", type=Path, help="folder for report.json and plots")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--no-benchmark", action="store_true", help="skip the ms/face measurement")
    parser.set_defaults(run=_run)
