"""The active challenge: a server-side state machine over face signals.

Each session gets a random sequence of steps chosen by the server
(:func:`random_steps`), a time limit per step and for the whole session. The
machine is fed one frame's signals at a time and never trusts the client:
every transition is decided here from the measured blendshapes and pose.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from enum import Enum
from typing import NamedTuple

from .policy import Policy


class Step(str, Enum):
    SMILE = "smile"            # neutral face first, then a smile
    BLINK = "blink"            # eyes open, closed, open again
    TURN_LEFT = "turn_left"    # the person's own left
    TURN_RIGHT = "turn_right"


FAILURE_REASON = {
    Step.SMILE: "smile_not_detected",
    Step.BLINK: "blink_not_detected",
    Step.TURN_LEFT: "turn_not_detected",
    Step.TURN_RIGHT: "turn_not_detected",
}

# Phases of each step, in order; each phase name is also the instruction key
# shown to the customer (see i18n.py).
PHASES = {
    Step.SMILE: ("neutral", "smile"),
    Step.BLINK: ("eyes_open", "eyes_closed", "eyes_reopen"),
    Step.TURN_LEFT: ("face_front", "turn_left"),
    Step.TURN_RIGHT: ("face_front", "turn_right"),
}


def parse_steps(text: str) -> list[Step]:
    """``"smile,blink"`` → steps; raises ValueError naming the valid ones."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    valid = ", ".join(s.value for s in Step)
    try:
        steps = [Step(name) for name in names]
    except ValueError:
        raise ValueError(f"unknown challenge step in {text!r}; valid steps: {valid}") from None
    if not steps:
        raise ValueError(f"no challenge step given; valid steps: {valid}")
    return steps


def random_steps(policy: Policy, rng: secrets.SystemRandom | None = None) -> list[Step]:
    """A fresh random order of 2–3 distinct steps (by the policy), never both turns."""
    rng = rng or secrets.SystemRandom()
    count = rng.randint(policy.challenge_steps_min, policy.challenge_steps_max)
    turn = rng.choice([Step.TURN_LEFT, Step.TURN_RIGHT])
    pool = [Step.SMILE, Step.BLINK, turn]
    return rng.sample(pool, min(count, len(pool)))


class Gesture(NamedTuple):
    """The signals the challenge reads, from one usable face (live, or replayed from a trace)."""

    smile: float
    blink: float
    yaw: float


@dataclass(frozen=True)
class ChallengeEvent:
    t: float
    step: str
    event: str  # started, phase, passed, failed
    detail: str = ""

    def to_dict(self) -> dict:
        return {"t": round(self.t, 3), "step": self.step, "event": self.event, "detail": self.detail}


@dataclass(frozen=True)
class ChallengeStatus:
    """What the customer should do now, and how the challenge stands."""

    step: Step | None
    index: int            # 0-based index of the current step
    total: int
    instruction: str      # i18n key: a phase name, "done" or "failed"
    remaining_s: float | None
    finished: bool
    passed: bool
    failure: str | None   # a verdict reason when failed


@dataclass
class Challenge:
    steps: list[Step]
    policy: Policy
    events: list[ChallengeEvent] = field(default_factory=list)
    _index: int = 0
    _phase: int = 0
    _step_start: float | None = None
    _session_start: float | None = None
    _hold_since: float | None = None
    _failure: str | None = None
    _timed_out: bool = False
    peak: dict[str, float] = field(default_factory=dict)  # best value seen per step, for the verdict

    def __post_init__(self):
        if not self.steps:
            raise ValueError("a challenge needs at least one step")

    @property
    def finished(self) -> bool:
        return self._failure is not None or self._index >= len(self.steps)

    @property
    def passed(self) -> bool:
        return self._failure is None and self._index >= len(self.steps)

    @property
    def timed_out(self) -> bool:
        return self._timed_out

    @property
    def status_index(self) -> int:
        """Index of the current step (the last one once finished)."""
        return min(self._index, len(self.steps) - 1)

    @property
    def progress(self) -> tuple[int, int]:
        """(step index, phase index): what the customer is being asked to do."""
        return self._index, self._phase

    @property
    def failure(self) -> str | None:
        return self._failure

    def _status(self, t: float) -> ChallengeStatus:
        if self.finished:
            return ChallengeStatus(None, self.status_index, len(self.steps),
                                   "done" if self.passed else "failed", None, True,
                                   self.passed, self._failure)
        step = self.steps[self._index]
        remaining = None
        if self._step_start is not None:
            remaining = max(0.0, min(self.policy.step_timeout_s - (t - self._step_start),
                                     self.policy.session_timeout_s - (t - self._session_start)))
        return ChallengeStatus(step, self._index, len(self.steps), PHASES[step][self._phase],
                               remaining, False, False, None)

    def _start_step(self, t: float) -> None:
        self._step_start, self._phase, self._hold_since = t, 0, None
        self.events.append(ChallengeEvent(t, self.steps[self._index].value, "started"))

    def fail(self, t: float, reason: str, detail: str = "") -> None:
        """End the challenge as failed (also used by the session, e.g. face swapped)."""
        if self.finished:
            return
        step = self.steps[self._index].value
        self._failure = reason
        self.events.append(ChallengeEvent(t, step, "failed", detail or reason))

    def _held(self, t: float, condition: bool, hold_s: float) -> bool:
        if not condition:
            self._hold_since = None
            return False
        if self._hold_since is None:
            self._hold_since = t
        return t - self._hold_since >= hold_s

    def _phase_done(self, step: Step, phase: str, t: float, s: Gesture) -> bool:
        p = self.policy
        if step is Step.SMILE:
            self.peak["smile"] = max(self.peak.get("smile", 0.0), s.smile)
            if phase == "neutral":
                return self._held(t, s.smile <= p.neutral_max_smile, p.neutral_hold_s)
            return self._held(t, s.smile >= p.smile_min, p.smile_hold_s)
        if step is Step.BLINK:
            self.peak["blink"] = max(self.peak.get("blink", 0.0), s.blink)
            if phase == "eyes_closed":
                return s.blink >= p.blink_closed  # a blink lasts a few frames: no hold
            return s.blink <= p.blink_open
        sign = 1.0 if step is Step.TURN_LEFT else -1.0
        self.peak[step.value] = max(self.peak.get(step.value, 0.0), sign * s.yaw)
        if phase == "face_front":
            return abs(s.yaw) < p.turn_yaw_deg / 2
        return self._held(t, sign * s.yaw >= p.turn_yaw_deg, p.turn_hold_s)

    def update(self, t: float, signals: Gesture | None) -> ChallengeStatus:
        """Advance on one frame at time ``t`` (seconds); ``signals`` None means no usable face."""
        if self.finished:
            return self._status(t)
        if self._session_start is None:
            self._session_start = t
            self._start_step(t)
        step = self.steps[self._index]
        if t - self._session_start > self.policy.session_timeout_s or \
                t - self._step_start > self.policy.step_timeout_s:
            self._timed_out = True
            self.fail(t, FAILURE_REASON[step], f"timeout in phase {PHASES[step][self._phase]}")
            return self._status(t)
        if signals is None:
            self._hold_since = None
            return self._status(t)
        phase = PHASES[step][self._phase]
        if self._phase_done(step, phase, t, signals):
            self._phase += 1
            self._hold_since = None
            if self._phase < len(PHASES[step]):
                self.events.append(ChallengeEvent(t, step.value, "phase", PHASES[step][self._phase]))
            else:
                self.events.append(ChallengeEvent(t, step.value, "passed"))
                self._index += 1
                if self._index < len(self.steps):
                    self._start_step(t)
        return self._status(t)
