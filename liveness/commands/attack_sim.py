"""``attack-sim``: replay attackers and responsive customers against the challenge (issue 11)."""

from __future__ import annotations

import json

from ..attack_sim import load_traces, simulate, simulate_clips
from ..config import settings
from ..policy import DEFAULT_POLICY


def _run(args) -> int:
    if args.trials < 1:
        raise ValueError("--trials must be at least 1")
    policy = DEFAULT_POLICY
    report: dict = {"policy_version": policy.version, "trials": args.trials, "seed": args.seed}
    rates = simulate(policy, args.trials, args.seed)
    report["synthetic"] = [{"name": r.name.strip(), "trials": r.trials, "passed": r.passed, "rate": r.rate,
                            "median_s": r.median_s, "reasons": r.reasons} for r in rates]
    if not args.json:
        print(f"policy {policy.version}; {args.trials} random challenges each (seed {args.seed})")
        for r in rates:
            print(r.line())
    if args.clips:
        config = settings()
        traces = load_traces(config.data_dir, config.var_dir / "attack_sim",
                             log=lambda line: None if args.json else print(line))
        if not traces:
            raise ValueError(f"no live clip found under {config.data_dir}")
        clips = simulate_clips(traces, policy, args.trials, args.seed)
        report["clips"] = [{"clip": c.name, "baseline": c.baseline.__dict__, "gestures": c.gestures,
                            "rates": [{"name": r.name, "trials": r.trials, "passed": r.passed, "rate": r.rate,
                                       "median_s": r.median_s, "reasons": r.reasons} for r in c.rates]}
                           for c in clips]
        if not args.json:
            print("real signal traces of the shared clips:")
            for clip in clips:
                print("\n".join(clip.lines()))
    if args.json:
        print(json.dumps(report))
    return 0


def register(sub) -> None:
    parser = sub.add_parser("attack-sim", help="pass rates of replay attackers and responsive customers "
                                               "against random challenges, on signal series")
    parser.add_argument("--trials", type=int, default=1000, help="random challenges per case (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=11, help="random seed of the simulation (default: %(default)s)")
    parser.add_argument("--clips", action="store_true",
                        help="also the shared data's live clips, looped and spliced to the prompts "
                             "(their signal traces are recorded once, under var/attack_sim)")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.set_defaults(run=_run)
