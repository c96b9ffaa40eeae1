"""What-if on past labelled cases: how they would be decided under a candidate policy.

A case stored with its session trace is replayed under the candidate
(``liveness.trace.replay``: the engine's own challenge, continuity and
verdict code), so every reason is decided again — exactly, unless the
replayed challenge would have asked the customer for something else than
they were asked (then it is counted as approximate). Cases recorded before
traces were kept fall back to the score-only rule: only the live-probability
and similarity thresholds move, any other reason keeps them in review; they
are counted as approximate too.

Labels come from the reviewers: approved = a genuine customer (bona fide),
rejected = an attack or impostor. APCER: share of rejected cases that would
be accepted; BPCER: share of approved cases that would not be.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from liveness.matching import match_reason
from liveness.policy import Policy
from liveness.store.reviews import LabelledCase
from liveness.trace import REPLAYED_FIELDS, Replay, SessionTrace, replay

# Reasons the score-only rule re-evaluates from the stored scores.
THRESHOLD_REASONS = {"spoof_suspected", "document_mismatch", "match_uncertain"}

# The policy fields the page moves: field, label key (i18n), min, max, step. The first two are always shown.
CONTROLS = (
    ("passive_threshold", "live_probability", 0.0, 1.0, 0.01),
    ("match_threshold", "similarity", 0.0, 1.0, 0.005),
    ("smile_min", "whatif_smile_min", 0.0, 1.0, 0.01),
    ("neutral_max_smile", "whatif_neutral_max_smile", 0.0, 1.0, 0.01),
    ("blink_closed", "whatif_blink_closed", 0.0, 1.0, 0.01),
    ("blink_open", "whatif_blink_open", 0.0, 1.0, 0.01),
    ("turn_yaw_deg", "whatif_turn_yaw_deg", 0.0, 60.0, 0.5),
    ("planar_residual_min", "whatif_planar_residual_min", 0.0, 0.05, 0.001),
    ("step_timeout_s", "whatif_step_timeout_s", 1.0, 30.0, 0.5),
    ("reaction_min_s", "whatif_reaction_min_s", 0.0, 2.0, 0.05),
    ("reaction_max_s", "whatif_reaction_max_s", 0.5, 6.0, 0.1),
    ("match_uncertain_margin", "whatif_match_uncertain_margin", 0.0, 0.2, 0.005),
    ("continuity_threshold", "whatif_continuity_threshold", 0.0, 1.0, 0.005),
    ("min_quality_fraction", "whatif_min_quality_fraction", 0.0, 1.0, 0.01),
    ("frozen_min_fraction", "whatif_frozen_min_fraction", 0.0, 1.0, 0.01),
)


@dataclass(frozen=True)
class Redecided:
    case: LabelledCase
    replayed: Replay | None  # None: no trace, the score-only rule applies


@dataclass(frozen=True)
class WhatIf:
    genuine: int
    attacks: int
    apcer: float | None
    bpcer: float | None
    changed: int  # cases whose automatic decision would change
    exact: int  # cases replayed exactly
    diverged: int  # replayed, but the challenge would have asked for something else: approximate
    score_only: int  # no trace: the score-only rule, approximate


def score_only_accepts(case: LabelledCase, policy: Policy) -> bool:
    if set(case.reasons) - THRESHOLD_REASONS:
        return False
    passive, similarity = case.scores.get("passive"), case.scores.get("similarity")
    return (passive is not None and passive >= policy.passive_threshold
            and similarity is not None and match_reason(similarity, policy) is None)


def replay_key(labelled: Sequence[LabelledCase], policy: Policy) -> tuple:
    """What :func:`redecide`'s result depends on: the cases and the policy fields a replay reads.
    Moving any other threshold needs no new replay, only :func:`rates`."""
    return (tuple((c.case_id, c.genuine) for c in labelled),
            tuple(getattr(policy, name) for name in REPLAYED_FIELDS))


def redecide(labelled: Sequence[LabelledCase], policy: Policy) -> list[Redecided]:
    """Replay every case that has a trace (the costly part: once per challenge or continuity change)."""
    return [Redecided(c, None if c.trace is None else replay(SessionTrace.from_dict(c.trace), policy))
            for c in labelled]


def accepts(r: Redecided, policy: Policy) -> bool:
    return score_only_accepts(r.case, policy) if r.replayed is None else not r.replayed.reasons(policy)


def rates(redecided: Sequence[Redecided], policy: Policy) -> WhatIf:
    """APCER, BPCER and counts under ``policy`` (whose replayed fields are those ``redecided`` ran with)."""
    accepted = [accepts(r, policy) for r in redecided]
    genuine = [a for r, a in zip(redecided, accepted) if r.case.genuine]
    attacks = [a for r, a in zip(redecided, accepted) if not r.case.genuine]
    replayed = [r.replayed for r in redecided if r.replayed is not None]
    return WhatIf(
        genuine=len(genuine), attacks=len(attacks),
        apcer=sum(attacks) / len(attacks) if attacks else None,
        bpcer=sum(not a for a in genuine) / len(genuine) if genuine else None,
        changed=sum(a != (r.case.verdict == "accepted") for r, a in zip(redecided, accepted)),
        exact=sum(r.exact for r in replayed), diverged=sum(not r.exact for r in replayed),
        score_only=len(redecided) - len(replayed))


def passive_sweep(redecided: Sequence[Redecided], policy: Policy, points: int = 51) -> list[tuple[float, WhatIf]]:
    """APCER/BPCER along the live-probability threshold; the replays are reused (they do not read it)."""
    return [(float(th), rates(redecided, policy.replace(passive_threshold=float(th))))
            for th in np.linspace(0, 1, points)]
