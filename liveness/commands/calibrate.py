"""``calibrate``: TAR/FAR of the match threshold and detection rates on the shared data."""

from __future__ import annotations

import json
from pathlib import Path

from tqdm import tqdm

from ..calibration import calibrate, format_report
from ..config import settings


def _calibrate(args) -> int:
    def progress(items):
        return tqdm(list(items), unit="image", leave=False, disable=args.json)

    result = calibrate(Path(args.data), nuaa_every=args.nuaa_every, documents=args.documents,
                       pad_live=args.pad_live, progress=progress)
    print(json.dumps(result.to_dict(), indent=2) if args.json else format_report(result))
    return 0


def register(sub) -> None:
    parser = sub.add_parser("calibrate", help="match threshold TAR/FAR and detection rates on the shared data")
    parser.add_argument("--data", default=str(settings().data_dir),
                        help="data folder with verify/ and pad/nuaa/ (default: %(default)s)")
    parser.add_argument("--nuaa-every", type=int, default=10, metavar="N",
                        help="detection rate on every Nth NUAA frame; 0 skips it (default: %(default)s)")
    parser.add_argument("--documents", type=int, default=1, metavar="N",
                        help="ID-card renderings per photo, scored against the other photos; "
                             "0 skips them (default: %(default)s)")
    parser.add_argument("--pad-live", action="store_true",
                        help="also the enrolment rate of every PAD source's live still images (NUAA every 10th)")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.set_defaults(run=_calibrate)
