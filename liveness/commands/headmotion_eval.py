"""``headmotion-eval``: the planar residual of real and faked head turns, and the check's cost."""

from __future__ import annotations

import json
from pathlib import Path

from ..config import settings


def _headmotion_eval(args) -> int:
    from ..headmotion_eval import run

    if args.jpeg_quality is not None and not 1 <= args.jpeg_quality <= 100:
        raise ValueError("--jpeg-quality must be between 1 and 100")
    if args.trials < 1:
        raise ValueError("--trials must be at least 1")
    data_dir = Path(args.data) if args.data else settings().data_dir
    if not data_dir.is_dir():
        raise ValueError(f"data folder not found: {data_dir}")
    report = run(data_dir, trials=args.trials, frontal_per_clip=args.frontal_per_clip, seed=args.seed,
                 max_swing_deg=args.max_swing, clips=not args.photos_only,
                 jpeg_quality=args.jpeg_quality,
                 log=(lambda _line: None) if args.json else print)
    if args.json:
        print(json.dumps(report, indent=2))
    return 0


def register(sub) -> None:
    parser = sub.add_parser("headmotion-eval",
                            help="calibrate the 3D head-motion check: real turns in the shared clips "
                                 "against photos swung in perspective")
    parser.add_argument("--data", help="the development data folder (default: LIVENESS_DATA_DIR)")
    parser.add_argument("--trials", type=int, default=3, help="random swings per photo (default: %(default)s)")
    parser.add_argument("--frontal-per-clip", type=int, default=3,
                        help="frontal frames of each live clip used as photos (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=11, help="random seed of the swings (default: %(default)s)")
    parser.add_argument("--max-swing", type=float, default=40.0,
                        help="largest swing of a photo about its vertical axis, degrees (default: %(default)s)")
    parser.add_argument("--photos-only", action="store_true",
                        help="only the swung photos (quicker): no real turns, no frontal frames from the clips")
    parser.add_argument("--jpeg-quality", type=int,
                        help="JPEG-compress every swung frame at this quality, as a camera or stream would")
    parser.add_argument("--json", action="store_true", help="the numbers as one JSON object")
    parser.set_defaults(run=_headmotion_eval)
