"""What a per-frame schedule costs the decision: the same clips under two policies.

For each clip, every gesture the challenge would see is listed: a challenge of
one step kind repeated (smile, blink, turn left, turn right; no deadline) over
the whole clip passes that step each time the gesture happens, so its
``passed`` events are the clip's smiles, blinks and turns. Then the clip is
verified once (the shipped passive model, the given challenge, the policy's
deadlines) for its verdict, reasons and passive session score. Both runs go
through :class:`~liveness.session.VerificationSession`, as the live page and
``verify`` do, so what differs between the two policies is the schedule alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .challenge import Step
from .config import settings
from .media import MAX_VIDEO_FRAMES, iter_video
from .pipeline import verify_video
from .policy import Policy
from .session import VerificationSession
from .trace import SessionTrace, Tally

GESTURE_KINDS = (Step.SMILE, Step.BLINK, Step.TURN_LEFT, Step.TURN_RIGHT)
_REPEATS = 1000  # more steps than a clip has gestures: every one is listed
_NO_DEADLINE = {"step_timeout_s": 1e9, "session_timeout_s": 1e9}
CLIP_SUFFIXES = (".mp4", ".webm", ".mjpeg")


def shared_clips(data_dir: Path | None = None) -> list[Path]:
    """The development clips: ``video/*`` and the clips of every ``pad/<source>/``."""
    data = data_dir or settings().data_dir
    found = [*(data / "video").glob("*"), *(data / "pad").glob("*/*/*")]
    return sorted(p for p in found if p.is_file() and p.suffix.lower() in CLIP_SUFFIXES)


def session_trace(path: Path, policy: Policy, kind: Step, max_frames: int = MAX_VIDEO_FRAMES) -> SessionTrace:
    """The trace of a session of ``kind`` steps repeated, with no deadline, over the clip;
    unlocked, as for a recording without a script: the clip's gestures answer no prompt."""
    with VerificationSession(None, policy.replace(**_NO_DEADLINE), steps=[kind] * _REPEATS,
                             passive=None, locked=False) as session:
        for frame in iter_video(path, max_frames=max_frames):
            if session.process(frame.image, frame.timestamp_s).verdict is not None:
                break
        return session.evidence().trace


def passed_times(trace: SessionTrace, policy: Policy, kind: Step) -> list[float]:
    """When each ``kind`` step passed, the trace's observations run through a challenge of
    ``kind`` steps repeated."""
    tally = Tally(policy.replace(**_NO_DEADLINE), [kind] * _REPEATS, trace.document_reason,
                  trace.passive_available, locked=False)
    for obs in trace.frames:
        if tally.frame(obs).finished:
            break
    return [e.t for e in tally.challenge.events if e.event == "passed"]


def gesture_times(path: Path, policy: Policy) -> dict[str, list[float]]:
    """When each gesture of each kind in the clip completed (its step's ``passed`` time), seconds.

    Only a blink step changes what the schedule runs (its watched phases), so a
    session of blink steps lists the blinks, and one session's trace, replayed
    through the challenge for each other kind, lists the smiles and turns.
    """
    blinks = session_trace(path, policy, Step.BLINK)
    others = session_trace(path, policy, Step.SMILE)
    return {kind.value: passed_times(blinks if kind is Step.BLINK else others, policy, kind)
            for kind in GESTURE_KINDS}


@dataclass(frozen=True)
class ClipRun:
    """One clip under one policy."""

    gestures: dict[str, list[float]]  # step kind -> completion times
    decision: str
    reasons: tuple[str, ...]
    passive: float | None  # the session's passive score
    frames_analysed: int
    fps: float  # the clip's frame rate


def run_clip(path: Path, policy: Policy, steps: list[Step]) -> ClipRun:
    gestures = gesture_times(path, policy)
    run = verify_video(path, steps=steps, policy=policy)
    return ClipRun(gestures, run.verdict.decision, tuple(run.verdict.reasons),
                   run.verdict.scores.get("passive"), run.frames_analysed, run.info.fps)


@dataclass(frozen=True)
class ClipComparison:
    clip: Path
    before: ClipRun
    after: ClipRun

    def gestures_match(self, tolerance_frames: int) -> bool:
        """The same gestures in each kind, each completing within ``tolerance_frames`` frames."""
        tolerance_s = (tolerance_frames + 0.5) / self.before.fps  # half a frame of timestamp jitter
        return all(len(self.before.gestures[k]) == len(self.after.gestures[k]) and all(
            abs(a - b) <= tolerance_s for a, b in zip(self.before.gestures[k], self.after.gestures[k]))
            for k in self.before.gestures)

    @property
    def verdict_match(self) -> bool:
        return (self.before.decision, set(self.before.reasons)) == (self.after.decision, set(self.after.reasons))

    @property
    def passive_difference(self) -> float | None:
        if self.before.passive is None or self.after.passive is None:
            return None if self.before.passive == self.after.passive else float("inf")
        return abs(self.before.passive - self.after.passive)


def compare(clips: Iterable[Path], before: Policy, after: Policy, steps: list[Step]) -> Iterator[ClipComparison]:
    """Each clip under both policies, as it is done."""
    for clip in clips:
        yield ClipComparison(clip, run_clip(clip, before, steps), run_clip(clip, after, steps))


def format_clip(r: ClipComparison, data_dir: Path | None = None) -> str:
    data = data_dir or settings().data_dir

    def times(values: list[float]) -> str:
        return " ".join(f"{v:.2f}" for v in values) or "-"

    def score(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    name = r.clip.relative_to(data) if r.clip.is_relative_to(data) else r.clip
    lines = [f"{name}  ({r.before.frames_analysed} frames analysed before, {r.after.frames_analysed} after)"]
    for kind in r.before.gestures:
        lines.append(f"  {kind:<11} before: {times(r.before.gestures[kind])}")
        lines.append(f"  {'':<11} after:  {times(r.after.gestures[kind])}")
    lines.append(f"  verdict     before: {r.before.decision} ({', '.join(r.before.reasons) or '-'}); "
                 f"after: {r.after.decision} ({', '.join(r.after.reasons) or '-'})")
    lines.append(f"  passive     before: {score(r.before.passive)}  after: {score(r.after.passive)}")
    return "\n".join(lines)


def format_summary(results: list[ClipComparison], tolerance_frames: int, passive_tolerance: float) -> str:
    same_gestures = sum(r.gestures_match(tolerance_frames) for r in results)
    same_verdicts = sum(r.verdict_match for r in results)
    differences = [d for d in (r.passive_difference for r in results) if d is not None]
    worst = max(differences, default=0.0)
    return "\n".join([
        f"same gestures (each within {tolerance_frames} frames): {same_gestures}/{len(results)} clips",
        f"same verdict and reasons: {same_verdicts}/{len(results)} clips",
        f"passive session score: largest difference {worst:.3f} "
        f"({'within' if worst <= passive_tolerance else 'OUTSIDE'} the tolerance {passive_tolerance})"])
