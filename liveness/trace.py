"""A session's trace, and the per-frame accounting that turns it into measurements.

The live session (``session.py``) runs the models on each frame and hands
what they saw — a :class:`FrameObservation` — to a :class:`Tally`. The tally
feeds the challenge state machine, keeps the
:class:`~liveness.verdict.SessionMeasurements` and records every observation
in a :class:`SessionTrace`. The trace is stored with the case, so
:func:`replay` runs the same tally over it under another policy: the
what-if re-decides past cases through the engine's own code, not a copy.

A replay honours every threshold applied to a recorded value
(:data:`REPLAYED_FIELDS` and everything ``verdict.reasons_for`` reads), not
those applied inside the models (detection score, quality gates, sampling
periods), whose inputs are not kept.

A replay is exact while the customer would have been asked the same thing.
Once the replayed challenge's position departs from the recorded one (and
the replay does not end right there), or the recording stops where the
replayed challenge would have gone on, the rest of the recording answered
other instructions: the result is then marked approximate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .challenge import TURN_SIGN, Challenge, ChallengeStatus, Gesture, Step
from .headmotion import TurnPeak
from .policy import Policy
from .verdict import SessionMeasurements, reasons_for, scores_of

# Consecutive identity samples below the continuity threshold before the
# session decides the face was swapped (one blurred sample is not enough).
FACE_CHANGED_SAMPLES = 2
# Policy fields the tally reads; a replay re-applies them to the recorded values.
REPLAYED_FIELDS = ("baseline_s", "neutral_max_smile", "neutral_margin", "smile_min", "smile_rise",
                   "smile_hold_s", "blink_closed", "blink_open", "blink_rise", "blink_open_margin",
                   "turn_yaw_deg", "turn_hold_s", "reaction_min_s", "reaction_max_s", "prompt_round_trip_s",
                   "gesture_complete_s", "step_timeout_s", "session_timeout_s",
                   "continuity_threshold", "frozen_max_diff", "planar_residual_min")
# 2: the challenge's schedule (delays or script times, locked) and when each prompt was shown.
# A format-1 trace predates prompt-locked challenges: it replays as an unlocked one.
TRACE_FORMAT = 2


@dataclass(frozen=True)
class FrameObservation:
    """What the models saw on one frame."""

    t: float
    face: bool = False
    several: bool = False  # a second face as large as the first
    gesture: Gesture | None = None  # None: no usable face (none, or several)
    quality_ok: bool | None = None  # None without a face
    passive: float | None = None  # the live probability, when computed on this frame
    frozen_diff: float | None = None  # mean |difference| to the previous frame's thumbnail; None on the first
    planar_residual: float | None = None  # headmotion.HeadMotion's, on turned frames; None elsewhere


@dataclass(frozen=True)
class IdentitySample:
    """One live-face comparison with the document (or the first live face): taken at one frame, used at a later one."""

    t: float  # when its frame was taken
    similarity: float
    taken: int  # frame index
    applied: int  # frame index it was applied at; the number of frames when applied at the end


@dataclass(frozen=True)
class PromptShown:
    """The first frame showing step ``index``'s prompt was sent at ``t``; applied before frame ``applied``."""

    index: int
    t: float
    applied: int


@dataclass
class SessionTrace:
    steps: list[str]
    document_reason: str | None
    passive_available: bool
    frames: list[FrameObservation] = field(default_factory=list)
    samples: list[IdentitySample] = field(default_factory=list)
    progress: list[tuple[int, int]] = field(default_factory=list)  # the challenge's position after each frame
    ended_by_challenge: bool = False  # the session ended because its challenge finished (not the stream)
    # The challenge's schedule, as drawn (see challenge.Challenge): the customer saw these.
    delays: list[float] | None = None
    prompt_at: list[float] | None = None
    locked: bool = True
    shown: list[PromptShown] = field(default_factory=list)
    head_motion: bool = False  # the frames carry planar residuals (traces recorded before that do not)

    def to_dict(self) -> dict:
        """Plain JSON, columnar (one list per field): what the case row stores."""
        columns = {name: [getattr(f, name) for f in self.frames]
                   for name in ("t", "face", "several", "quality_ok", "passive", "frozen_diff", "planar_residual")}
        for index, name in enumerate(Gesture._fields):
            columns[name] = [None if f.gesture is None else f.gesture[index] for f in self.frames]
        return {"format": TRACE_FORMAT, "steps": list(self.steps), "document_reason": self.document_reason,
                "passive_available": self.passive_available, "ended_by_challenge": self.ended_by_challenge,
                "head_motion": self.head_motion,
                "frames": columns, "progress": [list(p) for p in self.progress],
                "samples": [[s.t, s.similarity, s.taken, s.applied] for s in self.samples],
                "delays": self.delays, "prompt_at": self.prompt_at, "locked": self.locked,
                "shown": [[p.index, p.t, p.applied] for p in self.shown]}

    def series(self) -> dict[str, list]:
        """Per-frame series for a case's evidence chart, rounded: time, face found, smile,
        blink and yaw (None without one usable face), live probability, the latest identity
        similarity applied by then, quality gates passed."""
        applied = {s.applied: s.similarity for s in self.samples}
        similarity, latest = [], None
        for index in range(len(self.frames)):
            latest = applied.get(index, latest)
            similarity.append(_rounded(latest, 4))
        gestures = [f.gesture or Gesture(None, None, None) for f in self.frames]
        return {"t": [round(f.t, 3) for f in self.frames], "face": [f.face for f in self.frames],
                "smile": [_rounded(g.smile, 4) for g in gestures], "blink": [_rounded(g.blink, 4) for g in gestures],
                "yaw": [_rounded(g.yaw, 2) for g in gestures],
                "passive": [_rounded(f.passive, 4) for f in self.frames], "similarity": similarity,
                "quality_ok": [f.quality_ok for f in self.frames]}

    @classmethod
    def from_dict(cls, data: dict) -> "SessionTrace":
        if data.get("format") not in (1, TRACE_FORMAT):
            raise ValueError(f"unknown trace format {data.get('format')!r}")
        c = data["frames"]
        residuals = c.get("planar_residual") or [None] * len(c["t"])  # absent from older traces
        frames = [FrameObservation(t, face, several, None if smile is None else Gesture(smile, blink, yaw),
                                   quality_ok, passive, frozen_diff, residual)
                  for t, face, several, smile, blink, yaw, quality_ok, passive, frozen_diff, residual
                  in zip(c["t"], c["face"], c["several"], c["smile"], c["blink"], c["yaw"],
                         c["quality_ok"], c["passive"], c["frozen_diff"], residuals, strict=True)]
        return cls(list(data["steps"]), data["document_reason"], data["passive_available"], frames,
                   [IdentitySample(*s) for s in data["samples"]], [tuple(p) for p in data["progress"]],
                   data["ended_by_challenge"], data.get("delays", [0.0] * (len(data["steps"]) + 1)),
                   data.get("prompt_at"), data.get("locked", False),
                   [PromptShown(*p) for p in data.get("shown", [])], data.get("head_motion", False))


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


class Tally:
    """The per-frame accounting of one session: challenge, identity continuity, measurements, trace."""

    def __init__(self, policy: Policy, steps: list[Step], document_reason: str | None, passive_available: bool,
                 delays: list[float] | None = None, prompt_at: list[float] | None = None, locked: bool = True,
                 head_motion: bool = False):
        """head_motion: the observations carry planar residuals (the live session's do), so every
        passed turn is checked for 3D motion; without them (older traces) turns are not."""
        self.policy = policy
        self.steps = list(steps)
        self.challenge = Challenge(self.steps, policy, delays, prompt_at, locked, gate=self._turn_gate)
        self.m = SessionMeasurements(document_reason=document_reason, passive_available=passive_available,
                                     challenge_locked=locked)
        self.trace = SessionTrace([s.value for s in self.steps], document_reason, passive_available,
                                  delays=self.challenge.delays, prompt_at=prompt_at, locked=locked,
                                  head_motion=head_motion)
        self._low_identity_run = 0
        self._identity_confirmed = False
        self._turn: tuple[int, TurnPeak] | None = None  # the turn step under way and its peak

    def passive_due(self) -> bool:
        """Whether the next frame with a face is one the passive model scores
        (every ``passive_every_n``-th frame with a face)."""
        return (self.m.frames_with_face + 1) % self.policy.passive_every_n == 0

    def prompt_shown(self, index: int, t: float) -> None:
        """Step ``index``'s prompt was first sent at ``t`` (applies before the next frame)."""
        self.trace.shown.append(PromptShown(index, t, len(self.trace.frames)))
        self.challenge.prompt_shown(index, t)

    def frame(self, obs: FrameObservation, sample: IdentitySample | None = None) -> ChallengeStatus:
        """Account one frame; ``sample``: the identity sample that finished by this frame, if any."""
        m, p = self.m, self.policy
        self.trace.frames.append(obs)
        m.frames += 1
        m.duration_s = obs.t - self.trace.frames[0].t
        if obs.frozen_diff is not None and obs.frozen_diff <= p.frozen_max_diff:
            m.frozen_frames += 1
        if obs.face:
            m.frames_with_face += 1
            m.multiple_face_frames += obs.several
            m.quality_ok_frames += bool(obs.quality_ok)
            if obs.passive is not None:
                m.passive_scores.append(obs.passive)
        if sample is not None:
            self._identity(sample)
        self._follow_turn(self.challenge.progress[0], obs)
        status = self.challenge.update(obs.t, obs.gesture)
        self.trace.progress.append(self.challenge.progress)
        return status

    def _follow_turn(self, index: int, obs: FrameObservation) -> None:
        """Keep the peak of the turn step at ``index`` (when it is one and residuals are recorded)."""
        step = self.steps[index] if self.trace.head_motion and index < len(self.steps) else None
        if step not in TURN_SIGN:
            self._turn = None
            return
        if self._turn is None or self._turn[0] != index:
            self._turn = (index, TurnPeak())
        if obs.gesture is not None:
            self._turn[1].observe(TURN_SIGN[step] * obs.gesture.yaw, obs.planar_residual)

    def _turn_gate(self, index: int, t: float) -> tuple[str, str, dict] | None:
        """The challenge's gate: a turn step is done only with 3D motion at its peak (a last
        turn is judged when its hold ends, so the timeline never says it passed when it did not)."""
        if self._turn is None or self._turn[0] != index:
            return None
        peak = self._turn[1]
        self._turn = None
        motion = peak.conclude(self.steps[index].value, t, self.policy)
        self.m.turn_residuals[motion.step] = motion.residual
        if not motion.planar:
            return None
        self.m.planar_motion = True
        return "planar_motion", *motion.detail_code

    def _identity(self, sample: IdentitySample) -> None:
        """Record the sample; fail the challenge when the face was swapped."""
        self.trace.samples.append(sample)
        if self.m.document_reason is None:
            self.m.similarities.append(sample.similarity)
        if sample.similarity >= self.policy.continuity_threshold:
            self._identity_confirmed = True
            self._low_identity_run = 0
            return
        self._low_identity_run += 1
        if self._low_identity_run >= FACE_CHANGED_SAMPLES:
            # Never matched the document: a mismatch, not a swap; stop early either way.
            swapped = self._identity_confirmed or self.m.document_reason is not None
            self.m.face_changed = swapped
            self.challenge.fail(sample.t, "face_changed" if swapped else "document_mismatch",
                                "similarity", {"similarity": sample.similarity})

    def finish(self, pending: IdentitySample | None = None) -> SessionMeasurements:
        """End the session: the last identity sample, then the challenge's outcome into the measurements."""
        if pending is not None:
            self._identity(pending)
        m, challenge = self.m, self.challenge
        self.trace.ended_by_challenge = m.challenge_finished = challenge.finished
        if not challenge.finished:  # stopped mid-step: that step was not performed
            challenge.stop(self.trace.frames[-1].t if self.trace.frames else 0.0)
        m.challenge_failure = challenge.failure
        m.challenge_timed_out = challenge.timed_out
        m.challenge_peaks = dict(challenge.peak)
        return m


@dataclass(frozen=True)
class Replay:
    measurements: SessionMeasurements
    exact: bool

    def reasons(self, policy: Policy) -> list[str]:
        """The verdict's reasons (empty: accepted) under ``policy``, one with the replayed fields' values."""
        return reasons_for(self.measurements, policy, scores_of(self.measurements, policy))


def replay(trace: SessionTrace, policy: Policy) -> Replay:
    """The session again, on its recorded frames, under ``policy``."""
    tally = Tally(policy, [Step(s) for s in trace.steps], trace.document_reason, trace.passive_available,
                  trace.delays, trace.prompt_at, trace.locked, trace.head_motion)
    applied_at: dict[int, IdentitySample] = {s.applied: s for s in trace.samples}
    exact, last = True, len(trace.frames) - 1
    for index, obs in enumerate(trace.frames):
        for shown in (p for p in trace.shown if p.applied == index):
            tally.prompt_shown(shown.index, shown.t)
        status = tally.frame(obs, applied_at.get(index))
        if status.finished:
            last = index
            break
        exact &= tally.challenge.progress == trace.progress[index]
    else:  # the recording ran out: did its session stop there, or only the original challenge?
        exact &= not trace.ended_by_challenge
    # The sample in flight when the session ends is used at the end, as the live session does.
    pending = next((s for s in trace.samples if s.taken <= last < s.applied), None)
    return Replay(tally.finish(pending), exact)
