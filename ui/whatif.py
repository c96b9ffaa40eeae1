"""What-if on past labelled cases: how they would be decided under other thresholds.

Only the two score thresholds move here (live probability and face
similarity); every other reason a case went to review (challenge failed,
no document, frozen video...) still holds. Labels come from the reviewers:
approved = a genuine customer (bona fide), rejected = an attack or impostor.
APCER: share of rejected cases that would be accepted; BPCER: share of
approved cases that would not be.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from liveness.store.cases import CaseSummary

# Reasons decided by the thresholds under test, re-evaluated from the scores.
THRESHOLD_REASONS = {"spoof_suspected", "document_mismatch"}


@dataclass(frozen=True)
class WhatIf:
    genuine: int
    attacks: int
    apcer: float | None
    bpcer: float | None
    changed: int  # cases whose automatic decision would change


def would_accept(case: CaseSummary, passive_threshold: float, match_threshold: float) -> bool:
    if set(case.reasons) - THRESHOLD_REASONS:
        return False
    passive, similarity = case.scores.get("passive"), case.scores.get("similarity")
    return (passive is not None and passive >= passive_threshold
            and similarity is not None and similarity >= match_threshold)


def what_if(labelled: Sequence[CaseSummary], passive_threshold: float, match_threshold: float) -> WhatIf:
    """labelled: cases a reviewer approved or rejected (``status`` approved/rejected)."""
    genuine = [c for c in labelled if c.status == "approved"]
    attacks = [c for c in labelled if c.status == "rejected"]
    accepted = {c.id for c in labelled if would_accept(c, passive_threshold, match_threshold)}
    apcer = sum(c.id in accepted for c in attacks) / len(attacks) if attacks else None
    bpcer = sum(c.id not in accepted for c in genuine) / len(genuine) if genuine else None
    changed = sum((c.id in accepted) != (c.verdict == "accepted") for c in labelled)
    return WhatIf(len(genuine), len(attacks), apcer, bpcer, changed)
