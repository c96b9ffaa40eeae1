"""``second-opinion``: dlib's ResNet against SFace, alone and fused, on the shared pairs (evaluation only)."""

from __future__ import annotations

import json
from pathlib import Path

from tqdm import tqdm

from ..config import settings


def _run(args) -> int:
    from ..second_opinion import evaluate, format_report  # dlib is optional: imported on use

    def progress(items):
        return tqdm(list(items), unit="image", leave=False, disable=args.json)

    result = evaluate(Path(args.data), documents=args.documents, progress=progress)
    print(json.dumps(result.to_dict(), indent=2) if args.json else format_report(result))
    return 0


def register(sub) -> None:
    parser = sub.add_parser("second-opinion",
                            help="evaluate dlib's face recognizer against and with SFace (needs dlib-bin installed)")
    parser.add_argument("--data", default=str(settings().data_dir),
                        help="data folder with verify/ (default: %(default)s)")
    parser.add_argument("--documents", type=int, default=1, metavar="N",
                        help="ID-card renderings per photo (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.set_defaults(run=_run)
