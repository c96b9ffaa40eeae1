"""``schedules``: the shipped per-frame schedule against every model on every frame, clip by clip."""

from __future__ import annotations

from pathlib import Path

from ..challenge import parse_steps
from ..policy import DEFAULT_POLICY
from ..schedule import EVERY_FRAME
from ..schedule_check import compare, format_clip, format_summary, shared_clips

# A gesture may complete up to a landmarker period (landmarks_every_n frames) off its time on
# every frame: up to landmarks_every_n - 1 frames until the landmarker sees it, and the
# landmarker's own smoothing, which depends on the frames it is given.
TOLERANCE_FRAMES = DEFAULT_POLICY.landmarks_every_n
PASSIVE_TOLERANCE = 0.05


def _schedules(args) -> int:
    clips = args.clips or shared_clips()
    if not clips:
        raise ValueError("no clips given and none found under the data directory")
    missing = [str(c) for c in clips if not c.is_file()]
    if missing:
        raise ValueError(f"no such clip: {', '.join(missing)}")
    print(f"before: every model on every frame; after: policy {DEFAULT_POLICY.version} (landmarks every "
          f"{DEFAULT_POLICY.landmarks_every_n}, YuNet every {DEFAULT_POLICY.detection_every_n}, passive every "
          f"{DEFAULT_POLICY.passive_every_n} frame(s), with their triggers); verdicts with the challenge "
          f"{args.challenge}\n", flush=True)
    results = []
    for result in compare(clips, DEFAULT_POLICY.replace(**EVERY_FRAME), DEFAULT_POLICY,
                          parse_steps(args.challenge)):
        results.append(result)
        print(format_clip(result), flush=True)
    print("\n" + format_summary(results, TOLERANCE_FRAMES, PASSIVE_TOLERANCE))
    return 0


def register(sub) -> None:
    parser = sub.add_parser("schedules", help="gestures, verdicts and passive scores of the clips under the "
                                              "shipped schedule and with every model on every frame")
    parser.add_argument("clips", nargs="*", type=Path,
                        help="videos (default: every shared clip, ../shared/data/video and pad/*/)")
    parser.add_argument("--challenge", default="smile,blink",
                        help="steps of the verdict run (default: %(default)s)")
    parser.set_defaults(run=_schedules)
