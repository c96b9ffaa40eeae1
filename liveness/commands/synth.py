"""``synth --out DIR --limit N``: a few synthetic attacks, to look at.

Picks N live images or clips spread over the sources of ``--data`` (one frame
each), recaptures each as every species with ``liveness/pad/synth.py``, and
writes ``<origin>_<frame>_<species>.png`` files plus ``contact_sheet.png``
(one row per live frame: the frame, then its synthetic attacks) into DIR
(default ``var/synth``, git-ignored: never commit images made from the data).
"""

from __future__ import annotations

from itertools import islice
from pathlib import Path

import cv2
import numpy as np

from ..cli import CommandError
from ..config import settings

SHEET_HEIGHT = 240  # pixels per contact-sheet row


def _spread(presentations: list, limit: int) -> list:
    """``limit`` presentations dealt round-robin over sources, evenly spaced within each."""
    by_source: dict[str, list] = {}
    for p in presentations:
        by_source.setdefault(p.source, []).append(p)
    per_source = {name: items[::max(1, len(items) // max(1, limit // len(by_source) + 1))]
                  for name, items in sorted(by_source.items())}
    picked = []
    while len(picked) < limit and any(per_source.values()):
        for items in per_source.values():
            if items and len(picked) < limit:
                picked.append(items.pop(0))
    return picked


def _contact_sheet(rows: list[list[np.ndarray]]) -> np.ndarray:
    def fit(image):
        return cv2.resize(image, (max(1, round(image.shape[1] * SHEET_HEIGHT / image.shape[0])), SHEET_HEIGHT),
                          interpolation=cv2.INTER_AREA)
    lines = [np.hstack([cv2.copyMakeBorder(fit(i), 2, 2, 2, 2, cv2.BORDER_CONSTANT) for i in row]) for row in rows]
    width = max(line.shape[1] for line in lines)
    return np.vstack([cv2.copyMakeBorder(line, 0, 0, 0, width - line.shape[1], cv2.BORDER_CONSTANT)
                      for line in lines])


def _run(args) -> int:
    from ..detection import FaceDetector
    from ..pad.data import iter_frames
    from ..pad.synth import SPECIES, live_presentations, synthetic_attacks

    if args.limit < 1:
        raise CommandError("--limit must be at least 1")
    picked = _spread(live_presentations(args.data), args.limit)
    args.out.mkdir(parents=True, exist_ok=True)
    detector, rows = FaceDetector(), []
    for presentation in picked:
        frame = next(iter_frames(presentation))[1]
        made = islice(synthetic_attacks([presentation], args.species, seed=args.seed, detector=detector),
                      len(args.species))  # the first frame only
        row = [frame]
        for item, image in made:
            cv2.imwrite(str(args.out / f"{item.name}.png"), image)
            row.append(image)
        rows.append(row)
    sheet = args.out / "contact_sheet.png"
    cv2.imwrite(str(sheet), _contact_sheet(rows))
    print(f"wrote {len(picked) * len(args.species)} synthetic attacks of {len(picked)} live frames and "
          f"{sheet.name} (live, {', '.join(args.species)}) in {args.out}")
    return 0


def register(sub) -> None:
    from ..pad.synth import SPECIES

    parser = sub.add_parser("synth", help="write a few synthetic print and screen attacks made from "
                                          "live faces, and a contact sheet, to look at")
    parser.add_argument("--data", type=Path, default=settings().data_dir,
                        help="data folder with pad/, verify/, video/ (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=settings().var_dir / "synth",
                        help="folder to write to (default: %(default)s)")
    parser.add_argument("--limit", type=int, default=12, help="live frames to recapture (default: %(default)s)")
    parser.add_argument("--species", nargs="+", choices=SPECIES, default=list(SPECIES))
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(run=_run)
