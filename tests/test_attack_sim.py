"""The attack simulator: its actors against the engine's challenge, on small seeded runs.

The pass rates it reports come from ``python -m liveness attack-sim`` (models/README.md);
these check that the actors do what they say, deterministically (fixed seeds).
"""

from __future__ import annotations

import random
import statistics

import pytest

import liveness  # noqa: F401  (native load order)
from liveness.attack_sim import (TYPICAL_RT, Customer, CuedReplay, ExGaussian, LoopedReplay, TraceActor,
                                 find_gestures, run_challenge, simulate)
from liveness.challenge import Gesture, Step
from liveness.policy import DEFAULT_POLICY

P = DEFAULT_POLICY


def test_ex_gaussian_reaction_times_have_the_stated_mean():
    rng = random.Random(0)
    draws = [ExGaussian(0.5, 0.05, 0.15).draw(rng) for _ in range(20000)]
    assert statistics.mean(draws) == pytest.approx(0.65, abs=0.01)
    assert min(draws) > 0.3 and max(draws) > 1.2  # the exponential tail a window must allow for


def test_customers_pass_and_looping_replays_do_not():
    rng = random.Random(1)
    customers = [run_challenge(Customer(rng, TYPICAL_RT, mid_step_blink=True), P, rng) for _ in range(60)]
    loops = [run_challenge(LoopedReplay(rng), P, rng) for _ in range(100)]
    assert sum(o.passed for o in customers) >= 58
    # About 0.1-0.2 % pass in the full runs (models/README.md); a small run allows one.
    assert sum(o.passed for o in loops) <= 1
    assert {r for o in loops for r in o.reasons} <= {"response_before_prompt", "wrong_gesture", "response_too_late",
                                                     "gesture_not_held", "blink_not_detected", "smile_not_detected",
                                                     "turn_not_detected"}
    assert statistics.median(o.duration_s for o in customers if o.passed) < 10


def test_an_operator_is_later_than_a_customer_by_the_replays_own_delay():
    rng = random.Random(2)
    late = [run_challenge(CuedReplay(rng), P.replace(reaction_max_s=1.2), rng) for _ in range(40)]
    ontime = [run_challenge(Customer(rng, TYPICAL_RT, False), P.replace(reaction_max_s=1.2), rng)
              for _ in range(40)]
    assert sum(o.passed for o in ontime) > sum(o.passed for o in late)
    assert "response_too_late" in {r for o in late for r in o.reasons}


def test_simulate_reports_every_case():
    names = [r.name.strip() for r in simulate(P, 5, seed=3)]
    assert names[:3] == ["looping replay (every gesture)", "operator-cued replay", "responsive customer (all)"]


def synthetic_clip() -> list:
    """A 12 s "recording" at 25 frames/s: rest, a smile at 4-6 s, a blink at 8 s."""
    rows = []
    for k in range(300):
        t = k / 25
        smile = 0.7 if 4.0 <= t < 6.0 else 0.02
        blink = 0.8 if 8.0 <= t < 8.12 else 0.1
        rows.append((t, Gesture(smile, blink, 1.0)))
    return rows


def test_a_recorded_clip_spliced_to_the_prompts_passes_and_looped_does_not():
    rows = synthetic_clip()
    baseline, gestures = find_gestures(rows, P)
    assert [g.step for g in gestures] == [Step.SMILE, Step.BLINK]
    assert gestures[0].onset == 4.0 and gestures[0].end == 6.0
    rng = random.Random(4)
    steps = [Step.SMILE, Step.BLINK]
    spliced = [run_challenge(TraceActor(rows, gestures, rng, True, P), P, rng, steps) for _ in range(20)]
    looped = [run_challenge(TraceActor(rows, gestures, rng, False, P), P, rng, steps) for _ in range(20)]
    assert all(o.passed for o in spliced), [o.reasons for o in spliced]
    assert sum(o.passed for o in looped) <= 1
