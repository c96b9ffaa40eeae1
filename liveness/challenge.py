"""The active challenge: a server-side state machine over face signals, locked to its prompts.

Each session gets a random sequence of steps chosen by the server
(:func:`random_steps`) and a random delay before each prompt
(:func:`random_delays`), both from ``secrets``. The machine is fed one
frame's signals at a time and never trusts the client.

A step's gesture counts only as an answer to its prompt:

- the customer's own neutral (smile, blink and yaw levels) is measured over
  the first ``baseline_s`` of face frames, and every threshold is relative to
  it (:class:`Baseline`), since resting levels differ a lot between people;
- each prompt appears a random delay after the previous step ended (instruction
  ``wait`` meanwhile), so a recording cannot be cued to it;
- the gesture's onset (the moment the signal leaves rest) must come between
  ``reaction_min_s`` and ``reaction_max_s + prompt_round_trip_s`` after the
  prompt was shown, and the gesture must then be completed within
  ``gesture_complete_s``;
- no other deliberate gesture (smile, turn) may start before it;
- a smile or a turn is held until the next step's prompt (its instruction
  stays up meanwhile) and released only after it: the release is locked to
  a prompt too, which a recording cannot know.

Failures name what happened: ``response_before_prompt`` (the gesture, or another
deliberate one, started before the prompt or too soon after it to be a
reaction), ``wrong_gesture`` (another deliberate gesture answered the prompt),
``response_too_late`` (nothing started within the window), ``gesture_not_held``
(released before the next prompt), and the step's
``*_not_detected`` (started in time, never completed). Blinks are
involuntary too: a blink is never a wrong gesture, and on a blink step the
blinks that start before the window are ignored, not failed.

The prompt's time is when the server sent the first frame showing it
(:meth:`Challenge.prompt_shown`, from the live page), or, until that is
known and for recorded videos, when it was scheduled. A recording judged
against a signed script (``challenge_script.py``) has its prompts at the
script's times from the recording's start. A recording without one is
checked unlocked (``locked=False``: each prompt at its step's start, the
gesture any time in the step) for the reviewers' evidence, and never
accepted on the active layer (``verdict``: ``no_challenge_script``).
"""

from __future__ import annotations

import secrets
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import NamedTuple

from .i18n import event_detail
from .policy import Policy


class Step(str, Enum):
    SMILE = "smile"            # from the customer's neutral face to a smile
    BLINK = "blink"            # eyes open, closed, open again
    TURN_LEFT = "turn_left"    # the person's own left
    TURN_RIGHT = "turn_right"


# Gestures a person makes only when asked (a blink also happens on its own).
DELIBERATE = (Step.SMILE, Step.TURN_LEFT, Step.TURN_RIGHT)

FAILURE_REASON = {
    Step.SMILE: "smile_not_detected",
    Step.BLINK: "blink_not_detected",
    Step.TURN_LEFT: "turn_not_detected",
    Step.TURN_RIGHT: "turn_not_detected",
}
RESPONSE_BEFORE_PROMPT = "response_before_prompt"
STOPPED_EARLY = "stopped_early"
RESPONSE_TOO_LATE = "response_too_late"
WRONG_GESTURE = "wrong_gesture"
GESTURE_NOT_HELD = "gesture_not_held"

# The instruction key (i18n.py) shown once a step's prompt is up.
PROMPT = {Step.SMILE: "smile", Step.BLINK: "eyes_closed", Step.TURN_LEFT: "turn_left",
          Step.TURN_RIGHT: "turn_right"}
# The sign that makes a turn step's yaw positive (FaceSignals: yaw > 0 towards the person's left).
TURN_SIGN = {Step.TURN_LEFT: 1.0, Step.TURN_RIGHT: -1.0}
BASELINE = "baseline"  # instruction while the neutral is measured
WAIT = "wait"          # instruction before a prompt: nothing to do yet


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
    """A fresh random order of distinct steps, their count within the policy's bounds: a
    blink and the rest smiles or turns (at least one: a blink also comes on its own every
    few seconds, so it is never the only proof). The blink stays because its window is one
    in which no smile or turn may start, which a looping recording seldom keeps: with it,
    the attack-sim's looping replays passed 0 of 1000 challenges, 2 without."""
    rng = rng or secrets.SystemRandom()
    count = rng.randint(policy.challenge_steps_min, policy.challenge_steps_max)
    deliberate = rng.sample(DELIBERATE, max(1, min(count - 1, len(DELIBERATE))))
    steps = deliberate + [Step.BLINK] if count > len(deliberate) else deliberate
    return rng.sample(steps, len(steps))


def random_delays(policy: Policy, count: int, rng: secrets.SystemRandom | None = None) -> list[float]:
    """``count`` random waits (seconds) within the policy's bounds, drawn server-side."""
    rng = rng or secrets.SystemRandom()
    return [round(rng.uniform(policy.prompt_delay_min_s, policy.prompt_delay_max_s), 3) for _ in range(count)]


class Gesture(NamedTuple):
    """The signals the challenge reads, from one usable face (live, or replayed from a trace)."""

    smile: float
    blink: float
    yaw: float


@dataclass(frozen=True)
class Baseline:
    """The customer's own neutral, clamped so that a face already smiling, closing its
    eyes or turned cannot lower the bar it will be judged by; and the levels each gesture
    is judged by from it."""

    smile: float
    blink: float
    yaw: float
    levels: dict[Step, tuple[float, float]]  # per gesture, (rest ceiling, full level) on value()'s scale

    @classmethod
    def measure(cls, gestures: list[Gesture], policy: Policy) -> "Baseline":
        def median(values):
            return float(statistics.median(values))

        yaw_bound = policy.turn_yaw_deg / 2
        smile = min(median([g.smile for g in gestures]), policy.neutral_max_smile)
        blink = min(median([g.blink for g in gestures]), policy.blink_open)
        yaw = max(-yaw_bound, min(yaw_bound, median([g.yaw for g in gestures])))
        return cls(smile, blink, yaw, {
            Step.SMILE: (max(policy.neutral_max_smile, smile + policy.neutral_margin),
                         max(policy.smile_min, smile + policy.smile_rise)),
            Step.BLINK: (max(policy.blink_open, blink + policy.blink_open_margin),
                         max(policy.blink_closed, blink + policy.blink_rise)),
            Step.TURN_LEFT: (policy.turn_yaw_deg / 2, policy.turn_yaw_deg),
            Step.TURN_RIGHT: (policy.turn_yaw_deg / 2, policy.turn_yaw_deg),
        })

    def value(self, step: Step, g: Gesture) -> float:
        """The signal a gesture moves: smile, blink, or yaw from the neutral's, signed by the side."""
        if step is Step.SMILE:
            return g.smile
        if step is Step.BLINK:
            return g.blink
        return (g.yaw - self.yaw) * TURN_SIGN[step]


@dataclass
class _Excursion:
    """One gesture's signal away from rest: when it left rest, and whether it was completed."""

    start: float | None = None      # None: at rest
    full_since: float | None = None
    completed: bool = False


@dataclass(frozen=True)
class ChallengeEvent:
    t: float
    step: str
    event: str  # baseline, started, prompt, shown, passed, failed
    code: str = ""  # what was measured, as an i18n key (``detail_<code>``) filled with ``values``
    values: dict[str, float | str] = field(default_factory=dict, hash=False)

    @property
    def detail(self) -> str:
        """The measured detail in English (logs, the CLI); pages show it in their language."""
        return event_detail(self.code, self.values, "en")

    def to_dict(self) -> dict:
        return {"t": round(self.t, 3), "step": self.step, "event": self.event, "detail": self.detail,
                "code": self.code,
                "values": {name: v if isinstance(v, str) else round(float(v), 4) for name, v in self.values.items()}}


@dataclass(frozen=True)
class ChallengeStatus:
    """What the customer should do now, and how the challenge stands."""

    step: Step | None     # None while the neutral is measured, and once finished
    index: int            # 0-based index of the current step
    total: int
    instruction: str      # i18n key: baseline, wait, a prompt, "done" or "failed"
    remaining_s: float | None  # until the current prompt's window closes
    finished: bool
    passed: bool
    failure: str | None   # a verdict reason when failed

    @property
    def prompting(self) -> bool:
        """Whether a step's prompt is up (what the customer must answer now)."""
        return self.step is not None and not self.finished and self.instruction == PROMPT[self.step]


@dataclass
class Challenge:
    """steps: what is asked, in order. delays: the wait before each prompt after the
    previous step (the first one less ``prompt_delay_min_s``, which the baseline already
    waited), then how long the last smile or turn is held (default: drawn by
    :func:`random_delays`). prompt_at: instead, each prompt's time from the first frame
    (a signed script). locked=False: an unscripted recording, see the module's docstring.
    gate: asked ``gate(index, t)`` as step ``index`` is about to be done (for a held last
    step, when its hold ends); a (reason, code, values) it returns fails the challenge instead,
    e.g. the session's 3D check of a turn (``trace.Tally``)."""

    steps: list[Step]
    policy: Policy
    delays: list[float] | None = None
    prompt_at: list[float] | None = None
    locked: bool = True
    gate: Callable[[int, float], tuple[str, str, dict] | None] | None = field(default=None, repr=False, compare=False)
    events: list[ChallengeEvent] = field(default_factory=list)
    peak: dict[str, float] = field(default_factory=dict)  # best value seen per step, for the verdict
    baseline: Baseline | None = None
    _index: int = 0
    _session_start: float | None = None
    _baseline_frames: list[Gesture] = field(default_factory=list)
    _baseline_start: float | None = None
    _step_start: float | None = None
    _prompt: float | None = None   # the current step's prompt time, once it is up
    _scheduled: float | None = None  # when the current prompt came up on the server
    _shown: bool = False           # _prompt is when it was sent, not only scheduled
    _attempted: bool = False       # the asked gesture left rest within the window (and fell short)
    _held: Step | None = None      # the previous step's gesture, to be held until this step's prompt
    _hold_until: float | None = None  # the last step passed: its gesture is held until then
    _excursions: dict = field(default_factory=dict)
    _failure: str | None = None
    _timed_out: bool = False

    def __post_init__(self):
        if not self.steps:
            raise ValueError("a challenge needs at least one step")
        if self.prompt_at is not None and len(self.prompt_at) != len(self.steps):
            raise ValueError("one prompt time per step")
        if self.delays is None and self.prompt_at is None:
            self.delays = random_delays(self.policy, len(self.steps) + 1) if self.locked else \
                [0.0] * (len(self.steps) + 1)
        if self.delays is not None and len(self.delays) != len(self.steps) + 1:
            raise ValueError("one delay per step, and the last gesture's hold")
        self._excursions = {step: _Excursion() for step in Step}

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
        """(step index, 1 once its prompt is up else 0): what the customer is being asked to do."""
        return self._index, int(self._prompt is not None)

    @property
    def failure(self) -> str | None:
        return self._failure

    # -- the window --------------------------------------------------------------------------

    def _window(self) -> tuple[float, float]:
        """Earliest and latest onset of an answer to the current prompt."""
        p = self.policy
        if not self.locked:
            return self._prompt, self._step_start + p.step_timeout_s
        return self._prompt + p.reaction_min_s, self._prompt + p.reaction_max_s + p.prompt_round_trip_s

    def _scheduled_prompt(self) -> float:
        if self.prompt_at is not None:
            return self._session_start + self.prompt_at[self._index]
        if self._index == 0:  # the first wait overlaps the baseline by the shortest delay
            return self._step_start + self.delays[0] - self.policy.prompt_delay_min_s
        return self._step_start + self.delays[self._index]

    def prompt_shown(self, index: int, t: float) -> None:
        """Step ``index``'s prompt was first sent to the customer at ``t`` (a video frame showing it,
        or the page's text: the earliest report counts): the window counts from then."""
        if index != self._index or self._prompt is None or self.finished:
            return
        shown = max(self._scheduled, t if not self._shown else min(self._prompt, t))
        if not self._shown or shown < self._prompt:
            self._prompt, self._shown = shown, True
            self.events.append(ChallengeEvent(shown, self.steps[index].value, "shown"))

    # -- status ------------------------------------------------------------------------------

    def _status(self, t: float) -> ChallengeStatus:
        total = len(self.steps)
        if self.finished:
            return ChallengeStatus(None, self.status_index, total, "done" if self.passed else "failed", None,
                                   True, self.passed, self._failure)
        if self.baseline is None:
            return ChallengeStatus(None, 0, total, BASELINE, None, False, False, None)
        step = self.steps[self._index]
        if self._prompt is None:
            return ChallengeStatus(step, self._index, total, WAIT, None, False, False, None)
        remaining = max(0.0, self._window()[1] - t)
        return ChallengeStatus(step, self._index, total, PROMPT[step], remaining, False, False, None)

    # -- transitions -------------------------------------------------------------------------

    def fail(self, t: float, reason: str, code: str = "", values: dict[str, float | str] | None = None) -> None:
        """End the challenge as failed (also used by the session, e.g. face swapped); ``code`` and
        ``values`` say what was measured (an i18n ``detail_<code>``)."""
        if self.finished:
            return
        step = self.steps[self.status_index].value if self.baseline is not None else BASELINE
        self._failure = reason
        self.events.append(ChallengeEvent(t, step, "failed", code, values or {}))

    def stop(self, t: float) -> None:
        """End the challenge at ``t`` because the stream stopped mid-step: the step's own reason
        once its prompt has been up long enough for anyone to react, else only ``stopped_early``
        (nothing had been asked yet)."""
        asked = self._prompt is not None and t - self._prompt >= self.policy.reaction_min_s
        self.fail(t, FAILURE_REASON[self.steps[self.status_index]] if asked else STOPPED_EARLY, "stopped")

    def _start_step(self, t: float) -> None:
        self._step_start, self._prompt, self._shown, self._attempted = t, None, False, False
        self.events.append(ChallengeEvent(t, self.steps[self._index].value, "started"))

    def _measure_baseline(self, t: float, g: Gesture) -> None:
        if self._baseline_start is None:
            self._baseline_start = t
        self._baseline_frames.append(g)
        if t - self._baseline_start >= self.policy.baseline_s:
            self.baseline = Baseline.measure(self._baseline_frames, self.policy)
            b = self.baseline
            self.events.append(ChallengeEvent(t, BASELINE, "measured", "baseline",
                                              {"smile": b.smile, "blink": b.blink, "yaw": b.yaw}))
            self._start_step(t)

    def _track(self, t: float, g: Gesture) -> list[tuple[Step, float]]:
        """Follow every gesture's excursion from rest; the (gesture, onset) completed on this frame."""
        p = self.policy
        completed = []
        for step, (rest, full) in self.baseline.levels.items():
            ex, value = self._excursions[step], self.baseline.value(step, g)
            if value <= rest:
                if step is Step.BLINK and ex.full_since is not None and not ex.completed:
                    completed.append((step, ex.start))  # a blink is done when the eyes reopen
                self._excursions[step] = _Excursion()
                continue
            if ex.start is None:
                ex.start = t
            if value < full:
                if step is not Step.BLINK:
                    ex.full_since = None
                continue
            if ex.full_since is None:
                ex.full_since = t
            hold = {Step.SMILE: p.smile_hold_s, Step.BLINK: None}.get(step, p.turn_hold_s)
            if hold is not None and not ex.completed and t - ex.full_since >= hold:
                ex.completed = True
                completed.append((step, ex.start))
        return completed

    def _record_peak(self, step: Step, g: Gesture) -> None:
        value = self.baseline.value(step, g)
        self.peak[step.value] = max(self.peak.get(step.value, value), value)

    def _judge(self, t: float, completed: list[tuple[Step, float]]) -> None:
        """Apply the current step's rules to this frame's completed gestures and the clock."""
        step = self.steps[self._index]
        if self._hold_until is not None:  # the last gesture, held until the end
            if self._excursions[step].start is None:
                self.fail(t, GESTURE_NOT_HELD, "released_before_end", {"gesture": step.value})
            elif t >= self._hold_until and self._gate_allows(t):
                self.events.append(ChallengeEvent(t, step.value, "held"))
                self._index += 1
            return
        for gesture, onset in completed:
            new = onset >= self._step_start
            if gesture is step:
                earliest, latest = self._window() if self._prompt is not None else (float("inf"),) * 2
                if onset < earliest:
                    if step is Step.BLINK or not self.locked:
                        continue  # a blink of its own accord, not an answer (unlocked: too early): wait
                    self.fail(t, RESPONSE_BEFORE_PROMPT, *self._onset_detail(step, onset))
                elif onset > latest:
                    self.fail(t, RESPONSE_TOO_LATE, *self._onset_detail(step, onset))
                else:
                    # A smile or a turn is held until the next prompt (the instruction stays up),
                    # or for the last step until a random end: its release is locked too.
                    held = step in DELIBERATE and self.locked
                    held_to_the_end = self._index + 1 == len(self.steps) and held and self.delays is not None
                    if not held_to_the_end and not self._gate_allows(t):
                        return
                    self.events.append(ChallengeEvent(t, step.value, "passed", *self._onset_detail(step, onset)))
                    if held_to_the_end:
                        self._hold_until = t + self.delays[-1]
                        return
                    self._index += 1
                    if self._index < len(self.steps):
                        self._start_step(t)
                        self._held = step if held else None
                return
            if gesture in DELIBERATE and new and self.locked:
                reason = WRONG_GESTURE if self._prompt is not None and onset >= self._prompt else \
                    RESPONSE_BEFORE_PROMPT
                self.fail(t, reason, "wrong_gesture", {"gesture": gesture.value, "asked": step.value})
                return
        if self._held is not None and self._excursions[self._held].start is None:  # back at rest
            if self._prompt is None or t < self._window()[0]:
                self.fail(t, GESTURE_NOT_HELD, "released_before_next_prompt", {"gesture": self._held.value})
                return
            self._held = None
        if self._prompt is None:
            return
        earliest, latest = self._window()
        ex = self._excursions[step]
        started_in_time = ex.start is not None and earliest <= ex.start <= latest
        self._attempted |= started_in_time
        if started_in_time and t - ex.start > self.policy.gesture_complete_s:
            self.fail(t, FAILURE_REASON[step], "not_completed", {"gesture": step.value})
        elif not started_in_time and t > latest:
            if self._attempted or not self.locked:  # tried in time, never reached the level
                self.fail(t, FAILURE_REASON[step], "too_weak", {"gesture": step.value})
            else:
                self.fail(t, RESPONSE_TOO_LATE, "nothing_started", {"window_s": latest - self._prompt})

    def _gate_allows(self, t: float) -> bool:
        """Whether the current step may be done; fails the challenge with the gate's reason if not."""
        refusal = self.gate(self._index, t) if self.gate is not None else None
        if refusal is not None:
            self.fail(t, *refusal)
        return refusal is None

    def _onset_detail(self, step: Step, onset: float) -> tuple[str, dict[str, float | str]]:
        """An event's (code, values) for a gesture's onset, relative to the prompt when there is one."""
        if self._prompt is None:
            return "before_prompt", {"gesture": step.value}
        return "onset", {"after_prompt_s": onset - self._prompt}

    def update(self, t: float, signals: Gesture | None) -> ChallengeStatus:
        """Advance on one frame at time ``t`` (seconds); ``signals`` None means no usable face."""
        if self.finished:
            return self._status(t)
        if self._session_start is None:
            self._session_start = t
        if t - self._session_start > self.policy.session_timeout_s or \
                (self._step_start is not None and t - self._step_start > self.policy.step_timeout_s):
            self._timed_out = True
            step = self.steps[self.status_index]
            self.fail(t, FAILURE_REASON[step], "timeout")
            return self._status(t)
        if signals is None:
            for ex in self._excursions.values():
                ex.full_since = None  # a hold must be seen whole
            return self._status(t)
        if self.baseline is None:
            self._measure_baseline(t, signals)
            return self._status(t)
        if self._prompt is None and t >= self._scheduled_prompt():
            self._prompt = self._scheduled = self._scheduled_prompt() if self.prompt_at is not None else t
            self.events.append(ChallengeEvent(self._prompt, self.steps[self._index].value, "prompt"))
        self._record_peak(self.steps[self._index], signals)
        self._judge(t, self._track(t, signals))
        return self._status(t)
