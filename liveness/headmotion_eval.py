"""Calibration of the head-motion check (``python -m liveness headmotion-eval``).

Two classes of turns, both measured through the engine's own FaceSignalTracker
and :class:`~liveness.headmotion.HeadMotion`:

- real turns: every head turn in the shared clips (``video/*.mp4`` and the
  clips under ``pad/*/*/``), found as the challenge finds them: after a frontal
  frame, the yaw held at ``turn_yaw_deg`` or more for ``turn_hold_s``; the
  peak is the largest yaw up to then. Screen replays of a recorded person are
  reported apart: they show a real head's motion, so this check is not what
  stops them (the prompt-locked challenge is).
- fake turns: a frontal frame or photo (the clips' frontal frames, NUAA live
  frames, ``verify`` photos) held as a flat plane and swung about its vertical
  axis by 15-40 degrees (plus a tilt, a pan and a zoom) in front of a virtual
  pinhole camera, rendered with ``cv2.warpPerspective`` frame by frame.

It prints the planar residual at each turn's peak for both classes, the
margin between them, and the per-frame cost of the check against the
landmarker's own time.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .detection import detect_faces
from .headmotion import HeadMotion, TurnMotion, TurnPeak
from .media import iter_video, read_image
from .policy import DEFAULT_POLICY, Policy
from .signals import FaceSignalTracker

CLIP_PATTERNS = ("video/*.mp4", "pad/*/*/*.mp4", "pad/*/*/*.webm")
CANVAS = (640, 480)
FPS = 30.0
BACKGROUND = 118  # grey wall behind a held photo


def swung_plane_homography(size: tuple[int, int], yaw_deg: float, tilt_deg: float = 0.0,
                           axis: tuple[float, float] | None = None, focal: float | None = None,
                           zoom: float = 1.0, pan: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """The homography that shows an image, taken as a flat plane facing a pinhole camera,
    rotated by ``yaw_deg`` about its vertical line through ``axis`` (pixels; default the centre)
    and ``tilt_deg`` about the horizontal one, then zoomed about the image centre and panned.

    ``focal`` in pixels (default the image width, a typical webcam's field of view); the
    plane lies where one pixel of it is one image pixel.
    """
    width, height = size
    f = float(focal or width)
    cx, cy = width / 2, height / 2
    ax, ay = axis or (cx, cy)
    yaw, tilt = math.radians(yaw_deg), math.radians(tilt_deg)
    rotate_y = np.array([[math.cos(yaw), 0, math.sin(yaw)], [0, 1, 0], [-math.sin(yaw), 0, math.cos(yaw)]])
    rotate_x = np.array([[1, 0, 0], [0, math.cos(tilt), -math.sin(tilt)], [0, math.sin(tilt), math.cos(tilt)]])
    rotation = rotate_x @ rotate_y
    pivot = np.array([ax - cx, ay - cy, f])
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float64)
    plane = np.column_stack([corners[:, 0] - cx, corners[:, 1] - cy, np.full(4, f)])
    moved = (plane - pivot) @ rotation.T + pivot
    projected = np.column_stack([f * moved[:, 0] / moved[:, 2] + cx, f * moved[:, 1] / moved[:, 2] + cy])
    homography = cv2.getPerspectiveTransform(corners.astype(np.float32), projected.astype(np.float32))
    zoom_pan = np.array([[zoom, 0, (1 - zoom) * cx + pan[0]], [0, zoom, (1 - zoom) * cy + pan[1]], [0, 0, 1]])
    return zoom_pan @ homography


@dataclass(frozen=True)
class SwingTrial:
    """One fake turn: the plane's final pose and the camera, drawn at random."""

    yaw_deg: float
    tilt_deg: float
    axis_offset: tuple[float, float]  # of the rotation axis from the centre, in fractions of the size
    focal_frac: float                 # focal length over the image width
    zoom: float
    pan_frac: tuple[float, float]

    @classmethod
    def draw(cls, rng: random.Random, max_swing_deg: float = 40.0) -> "SwingTrial":
        return cls(yaw_deg=rng.choice((-1, 1)) * rng.uniform(15, max_swing_deg), tilt_deg=rng.uniform(-10, 10),
                   axis_offset=(rng.uniform(-0.15, 0.15), rng.uniform(-0.1, 0.1)),
                   focal_frac=rng.uniform(0.8, 1.6), zoom=rng.uniform(0.85, 1.25),
                   pan_frac=(rng.uniform(-0.1, 0.1), rng.uniform(-0.08, 0.08)))


def swung_frames(image: np.ndarray, trial: SwingTrial, still: int = 6, ramp: int = 12,
                 hold: int = 8) -> Iterator[np.ndarray]:
    """The image held still, swung to the trial's pose over ``ramp`` frames, then held there."""
    height, width = image.shape[:2]
    axis = (width * (0.5 + trial.axis_offset[0]), height * (0.5 + trial.axis_offset[1]))
    for index in range(still + ramp + hold):
        k = min(max(index - still + 1, 0) / ramp, 1.0)
        homography = swung_plane_homography(
            (width, height), k * trial.yaw_deg, k * trial.tilt_deg, axis, trial.focal_frac * width,
            1 + k * (trial.zoom - 1), (k * trial.pan_frac[0] * width, k * trial.pan_frac[1] * height))
        yield cv2.warpPerspective(image, homography, (width, height), flags=cv2.INTER_LINEAR,
                                  borderMode=cv2.BORDER_CONSTANT, borderValue=(BACKGROUND,) * 3)


def held_photo(photo: np.ndarray) -> np.ndarray | None:
    """A photo held up to a webcam as an attacker would: its face 40 % of a 640x480 frame's height
    (a selfie's size, above the quality gate's minimum), centred, on a grey wall. None without a face."""
    faces = detect_faces(photo, max_side=1280)
    if not faces:
        return None
    x, y, w, h = faces[0].box
    width, height = CANVAS
    scale = 0.4 * height / h
    resized = cv2.resize(photo, None, fx=scale, fy=scale,
                         interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    # Paste so that the face's centre lands on the canvas's centre, clipped to the canvas.
    dx, dy = int(width / 2 - (x + w / 2) * scale), int(height / 2 - (y + h / 2) * scale)
    canvas = np.full((height, width, 3), BACKGROUND, np.uint8)
    x0, y0 = max(dx, 0), max(dy, 0)
    x1, y1 = min(dx + resized.shape[1], width), min(dy + resized.shape[0], height)
    canvas[y0:y1, x0:x1] = resized[y0 - dy:y1 - dy, x0 - dx:x1 - dx]
    return canvas


@dataclass(frozen=True)
class Observed:
    t: float
    yaw: float
    residual: float | None


def observe(frames: Iterable[tuple[np.ndarray, float]], policy: Policy,
            timing: dict[str, float] | None = None) -> list[Observed]:
    """Each frame with a face through a fresh tracker and HeadMotion, as the session runs them.

    ``timing``: when given, accumulates the seconds spent in the landmarker
    ("landmarker") and in the check ("check"), and the frames ("frames"); the
    same for the turned frames alone, where the optical flow runs ("check_turned", "turned").
    """
    motion = HeadMotion(policy)
    observed = []
    with FaceSignalTracker() as tracker:
        for image, t in frames:
            started = time.perf_counter()
            signals = tracker.process(image, t)
            between = time.perf_counter()
            if signals is None:
                continue
            residual = motion.observe(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), signals.landmarks, signals.yaw)
            if timing is not None:
                check = time.perf_counter() - between
                timing["landmarker"] = timing.get("landmarker", 0.0) + between - started
                timing["check"] = timing.get("check", 0.0) + check
                timing["frames"] = timing.get("frames", 0) + 1
                if abs(signals.yaw) > policy.head_motion_frontal_yaw_deg:  # the flow ran
                    timing["check_turned"] = timing.get("check_turned", 0.0) + check
                    timing["turned"] = timing.get("turned", 0) + 1
            observed.append(Observed(t, signals.yaw, residual))
    return observed


def turn_episodes(observed: list[Observed], policy: Policy, label: str) -> Iterator[TurnMotion]:
    """Every turn the challenge's rule would pass: from a frontal frame (``|yaw|`` below
    ``turn_yaw_deg / 2``, as the face-front phase asks), ``sign * yaw`` held at ``turn_yaw_deg``
    or more for ``turn_hold_s``; judged by :class:`TurnPeak` over the frames up to the pass."""
    front = policy.turn_yaw_deg / 2
    index = 0
    while index < len(observed):
        if abs(observed[index].yaw) >= front:
            index += 1
            continue
        leave = next((j for j in range(index, len(observed)) if abs(observed[j].yaw) >= front), None)
        if leave is None:
            return
        sign = 1.0 if observed[leave].yaw > 0 else -1.0
        peak, held_since = TurnPeak(), None
        for k in range(leave - 1, len(observed)):
            o = observed[k]
            if k > leave and sign * o.yaw < front:
                break  # back to the front without passing
            peak.observe(sign * o.yaw, o.residual)
            held_since = (held_since if held_since is not None else o.t) if sign * o.yaw >= policy.turn_yaw_deg \
                else None
            if held_since is not None and o.t - held_since >= policy.turn_hold_s:
                yield peak.conclude(f"{label} {'left' if sign > 0 else 'right'}", o.t, policy)
                break
        index = k + 1


def shared_clips(data_dir: Path) -> list[Path]:
    return sorted(p for pattern in CLIP_PATTERNS for p in data_dir.glob(pattern))


def is_screen_replay(path: Path) -> bool:
    return path.stem == "attack"


def clip_frames(path: Path) -> Iterator[tuple[np.ndarray, float]]:
    for frame in iter_video(path):
        yield frame.image, frame.timestamp_s


def frontal_frames(path: Path, observed: list[Observed], count: int) -> list[np.ndarray]:
    """Up to ``count`` frames of the clip with |yaw| below 5 degrees, spread over it."""
    times = [o.t for o in observed if abs(o.yaw) < 5]
    wanted = set(times[:: max(1, len(times) // count)][:count]) if times else set()
    return [image for image, t in clip_frames(path) if t in wanted]


def photo_sources(data_dir: Path, nuaa_per_subject: int = 1) -> list[tuple[str, np.ndarray]]:
    """The verify photos (as held photos; those without a detected face left out) and the first
    NUAA live frame of each subject (a whole webcam frame, as a print or a screen of it)."""
    sources = []
    for path in sorted((data_dir / "verify").glob("*/*")):
        photo = held_photo(read_image(path))
        if photo is not None:
            sources.append((f"verify/{path.parent.name}/{path.name}", photo))
    for subject in sorted((data_dir / "pad" / "nuaa" / "live").glob("*")):
        for path in sorted(subject.glob("*.jpg"))[:nuaa_per_subject]:
            sources.append((f"nuaa/{subject.name}/{path.name}", read_image(path)))
    return sources


@dataclass(frozen=True)
class SwingResult:
    """One fake turn. ``session``: the check as a session runs it (the peak in the direction the
    landmarker read the swing; its yaw tells whether the turn step would pass at all).
    ``end_residual``: the planar residual of the last frame against the first, whatever the yaw."""

    name: str
    session: TurnMotion
    end_residual: float | None


def swing_trials(name: str, image: np.ndarray, trials: int, rng: random.Random, policy: Policy,
                 timing: dict[str, float], max_swing_deg: float = 40.0,
                 jpeg_quality: int | None = None) -> list[SwingResult]:
    """``trials`` fake turns of one image, swung by 15 to ``max_swing_deg`` degrees
    (each frame JPEG-compressed at ``jpeg_quality`` when given)."""
    results = []
    for _ in range(trials):
        trial = SwingTrial.draw(rng, max_swing_deg)
        frames = list(swung_frames(image, trial))
        if jpeg_quality is not None:
            frames = [jpeg_round_trip(frame, jpeg_quality) for frame in frames]
        observed = observe(((frame, index / FPS) for index, frame in enumerate(frames)), policy, timing)
        results.append(SwingResult(name, _session_turn(name, observed, policy), _end_residual(frames, policy)))
    return results


def _session_turn(name: str, observed: list[Observed], policy: Policy) -> TurnMotion:
    turned = [o for o in observed if o.residual is not None]
    if not turned:
        return TurnMotion(name, 0.0, float("nan"), None, False)
    sign = 1.0 if turned[-1].yaw >= 0 else -1.0
    peak = TurnPeak()
    for o in observed:
        peak.observe(sign * o.yaw, o.residual)
    return peak.conclude(name, observed[-1].t, policy)


def _end_residual(frames: list[np.ndarray], policy: Policy) -> float | None:
    """The first frame's face mesh followed to the last frame (None when the face is lost)."""
    motion, residual = HeadMotion(policy), None
    with FaceSignalTracker() as tracker:
        signals = tracker.process(frames[0], 0.0)
        if signals is None:
            return None
        motion.reset(cv2.cvtColor(frames[0], cv2.COLOR_BGR2GRAY), signals.landmarks)
        for frame in frames[1:]:
            residual = motion.track(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
    return residual


def _summary(values: list[float]) -> str:
    q = _quantiles(values)
    return "none" if q is None else f"n={len(values)} " + " ".join(f"{k} {v:.4f}" for k, v in q.items())


def run(data_dir: Path, trials: int = 3, frontal_per_clip: int = 3, seed: int = 11,
        max_swing_deg: float = 40.0, clips: bool = True, jpeg_quality: int | None = None,
        policy: Policy = DEFAULT_POLICY, log=print) -> dict:
    """The whole evaluation (``clips`` False: the swung photos alone); returns the numbers it printed."""
    rng = random.Random(seed)
    timing: dict[str, float] = {}
    real, replays, sources = [], [], []
    for path in shared_clips(data_dir) if clips else []:
        observed = observe(clip_frames(path), policy, timing)
        name = str(path.relative_to(data_dir))
        turns = list(turn_episodes(observed, policy, name))
        (replays if is_screen_replay(path) else real).extend(turns)
        for turn in turns:
            log(f"  {'replay' if is_screen_replay(path) else 'real  '} {turn.step}: "
                f"{turn.detail}{'  PLANAR' if turn.planar else ''}")
        if not is_screen_replay(path):
            sources += [(f"{name}#frontal{i}", image)
                        for i, image in enumerate(frontal_frames(path, observed, frontal_per_clip))]
    sources += photo_sources(data_dir)
    log(f"  {len(sources)} frontal frames and photos, {trials} swings each")
    fakes: list[SwingResult] = []
    for name, image in sources:
        fakes += swing_trials(name, image, trials, rng, policy, timing, max_swing_deg, jpeg_quality)
    threshold = policy.planar_residual_min
    end = [f.end_residual for f in fakes if f.end_residual is not None]
    reached = [f.session for f in fakes if f.session.residual is not None
               and f.session.peak_yaw >= policy.turn_yaw_deg]
    real_residuals = [t.residual for t in real if t.residual is not None]
    replay_residuals = [t.residual for t in replays if t.residual is not None]
    report = {
        "threshold": threshold, "max_swing_deg": max_swing_deg, "jpeg_quality": jpeg_quality,
        "real_turns": len(real), "real_flagged": sum(t.planar for t in real),
        "replay_turns": len(replays), "replay_flagged": sum(t.planar for t in replays),
        "fake_trials": len(fakes), "fake_tracked": len(end), "fake_flagged": sum(r < threshold for r in end),
        "fake_reaching_turn_yaw": len(reached), "fake_reaching_flagged": sum(m.planar for m in reached),
        "real_residuals": _quantiles(real_residuals), "replay_residuals": _quantiles(replay_residuals),
        "fake_residuals": _quantiles(end), "fake_reaching_residuals": _quantiles([m.residual for m in reached]),
        "check_over_landmarker": timing["check"] / timing["landmarker"],
        "landmarker_ms": 1000 * timing["landmarker"] / timing["frames"],
        "check_ms": 1000 * timing["check"] / timing["frames"],
        "check_turned_ms": 1000 * timing.get("check_turned", 0.0) / max(timing.get("turned", 0), 1),
    }
    log(f"planar residual at the peak of each turn (RMS homography error over the face size):")
    log(f"  real turns, live clips:        {_summary(real_residuals)}")
    log(f"  real turns, screen replays:    {_summary(replay_residuals)}")
    compressed = "" if jpeg_quality is None else f", JPEG q{jpeg_quality}"
    log(f"  photos swung 15-{max_swing_deg:g} deg{compressed}: {_summary(end)}")
    log(f"  ... whose landmarker yaw reached {policy.turn_yaw_deg:g} deg (the turn step would pass): "
        f"{_summary([m.residual for m in reached])}")
    log(f"threshold planar_residual_min = {threshold}")
    log(f"real turns flagged planar: {report['real_flagged']}/{report['real_turns']} (live clips), "
        f"{report['replay_flagged']}/{report['replay_turns']} (screen replays of real turns)")
    log(f"swung photos flagged planar: {report['fake_flagged']}/{report['fake_tracked']} "
        f"({report['fake_trials'] - report['fake_tracked']} of {report['fake_trials']} trials lost the face); "
        f"of those the landmarker read as a turn: {report['fake_reaching_flagged']}/{report['fake_reaching_turn_yaw']}")
    if real_residuals and end:
        log(f"margin: lowest real {min(real_residuals):.4f} / highest swung photo {max(end):.4f} "
            f"= {min(real_residuals) / max(end):.2f}x")
    log(f"cost per frame: check {report['check_ms']:.3f} ms against the landmarker's "
        f"{report['landmarker_ms']:.2f} ms (ratio {report['check_over_landmarker']:.4f}, "
        f"{int(timing['frames'])} frames); on turned frames, where the flow runs, "
        f"{report['check_turned_ms']:.3f} ms ({int(timing.get('turned', 0))} frames)")
    return report


def _quantiles(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    q = np.percentile(values, [0, 5, 50, 95, 100])
    return dict(zip(("min", "p5", "median", "p95", "max"), (round(float(v), 5) for v in q)))
