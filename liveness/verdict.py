"""The verdict: accepted, or review with machine-readable reasons.

:func:`decide` is the one place where a finished session's measurements meet
the policy's thresholds. A verdict carries every score and the policy and
model versions it was decided under, so a reviewer can replay it and the AI
team can re-decide past cases under another policy.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timezone

from .matching import match_reason
from .passive import aggregate
from .policy import Policy

ACCEPTED = "accepted"
REVIEW = "review"

# Every reason a verdict can give (i18n.py has the plain words for each).
REASONS = (
    "too_few_frames", "no_face", "multiple_faces", "stopped_early", "challenge_timeout",
    "smile_not_detected", "blink_not_detected", "turn_not_detected", "face_changed",
    "no_document", "document_no_face", "document_multiple_faces", "document_mismatch",
    "passive_unavailable", "spoof_suspected", "low_quality", "frozen_video", "insufficient_frames",
    "response_before_prompt", "response_too_late", "wrong_gesture", "gesture_not_held", "no_challenge_script",
    "planar_motion", "match_uncertain", "passive_too_few_frames",
)
# A session with one of these has no usable document: its identity samples are compared with
# its own first face (continuity), not with a document.
NO_DOCUMENT_REASONS = ("no_document", "document_no_face", "document_multiple_faces")
MIN_FRAMES = 10
MULTIPLE_FACES_MAX_FRACTION = 0.05


@dataclass
class SessionMeasurements:
    """What a session measured, ready for :func:`decide` (and for what-if re-decisions)."""

    frames: int = 0
    frames_with_face: int = 0
    multiple_face_frames: int = 0
    quality_ok_frames: int = 0
    frozen_frames: int = 0
    duration_s: float = 0.0
    challenge_finished: bool = False
    challenge_failure: str | None = None
    challenge_timed_out: bool = False
    challenge_locked: bool = True  # False: a recording without a signed script (never accepted)
    face_changed: bool = False
    document_reason: str | None = "no_document"  # None when the document has one usable face
    similarities: list[float] = field(default_factory=list)
    passive_scores: list[float] = field(default_factory=list)
    passive_available: bool = False
    challenge_peaks: dict[str, float] = field(default_factory=dict)
    planar_motion: bool = False  # a passed turn moved the face as a plane (headmotion.py)
    turn_residuals: dict[str, float | None] = field(default_factory=dict)  # planar residual at each turn's peak


def scores_of(m: SessionMeasurements, policy: Policy) -> dict[str, float | int | None]:
    face_frames = max(m.frames_with_face, 1)
    return {
        "similarity": float(statistics.median(m.similarities)) if m.similarities else None,
        "similarity_min": min(m.similarities) if m.similarities else None,
        "passive": aggregate(m.passive_scores, policy.passive_aggregate),
        "passive_min": min(m.passive_scores) if m.passive_scores else None,
        "passive_frames": len(m.passive_scores),
        "quality_fraction": m.quality_ok_frames / face_frames,
        "frozen_fraction": m.frozen_frames / max(m.frames - 1, 1),
        "multiple_face_fraction": m.multiple_face_frames / max(m.frames, 1),
        "frames": m.frames,
        "frames_with_face": m.frames_with_face,
        "duration_s": round(m.duration_s, 3),
        **{f"peak_{name}": round(value, 4) for name, value in m.challenge_peaks.items()},
        **{f"planar_residual_{name}": None if value is None else round(value, 4)
           for name, value in m.turn_residuals.items()},
    }


def reasons_for(m: SessionMeasurements, policy: Policy, scores: dict) -> list[str]:
    """Every reason the session must go to review (``scores`` from :func:`scores_of`); empty means accepted."""
    reasons: list[str] = []
    # A challenge that failed stops the session at once: its few frames are the stop's
    # consequence, not a second finding against the customer (the failure is the reason).
    stopped_by_failure = m.challenge_failure is not None
    if not stopped_by_failure:
        if m.frames < MIN_FRAMES:
            reasons.append("too_few_frames")
        elif m.frames / max(m.duration_s, 1e-9) < policy.min_analysed_fps:
            reasons.append("insufficient_frames")  # enough frames, too sparse in time (too_few_frames explains fewer)
    if m.frames_with_face == 0:
        reasons.append("no_face")
    if scores["multiple_face_fraction"] > MULTIPLE_FACES_MAX_FRACTION:
        reasons.append("multiple_faces")
    if not m.challenge_finished:
        reasons.append("stopped_early")
    if m.challenge_timed_out:
        reasons.append("challenge_timeout")
    if m.challenge_failure and m.challenge_failure not in reasons:
        reasons.append(m.challenge_failure)
    if not m.challenge_locked:
        reasons.append("no_challenge_script")
    if m.face_changed and "face_changed" not in reasons:
        reasons.append("face_changed")
    if m.planar_motion and "planar_motion" not in reasons:
        reasons.append("planar_motion")
    if m.document_reason:
        reasons.append(m.document_reason)
    elif scores["similarity"] is not None and "document_mismatch" not in reasons:
        match = match_reason(scores["similarity"], policy)
        if match:
            reasons.append(match)
    if not m.passive_available:
        reasons.append("passive_unavailable")
    elif scores["passive_frames"] < policy.passive_min_frames:  # the model is there; too few faces scored
        if not stopped_by_failure:
            reasons.append("passive_too_few_frames")
    elif scores["passive"] < policy.passive_threshold:
        reasons.append("spoof_suspected")
    if m.frames_with_face and scores["quality_fraction"] < policy.min_quality_fraction:
        reasons.append("low_quality")
    if m.frames > 1 and scores["frozen_fraction"] > policy.frozen_min_fraction:
        reasons.append("frozen_video")
    if not m.document_reason and scores["similarity"] is None and not reasons:
        # Never accept without a comparison; when another reason holds, it explains the case.
        reasons.append("document_mismatch")
    return reasons


@dataclass(frozen=True)
class Verdict:
    session_id: str
    decision: str  # ACCEPTED or REVIEW
    reasons: tuple[str, ...]
    scores: dict
    policy_version: str
    policy_digest: str
    model_versions: dict
    steps: tuple[str, ...]
    timeline: tuple[dict, ...]
    decided_at: str

    @property
    def accepted(self) -> bool:
        return self.decision == ACCEPTED

    def to_dict(self) -> dict:
        return {
            "session_id": self.session_id,
            "verdict": self.decision,
            "reasons": list(self.reasons),
            "scores": dict(self.scores),
            "policy_version": self.policy_version,
            "policy_digest": self.policy_digest,
            "model_versions": dict(self.model_versions),
            "steps": list(self.steps),
            "challenge": list(self.timeline),
            "decided_at": self.decided_at,
        }


def decide(session_id: str, m: SessionMeasurements, policy: Policy, model_versions: dict,
           steps: list[str], timeline: list[dict]) -> Verdict:
    scores = scores_of(m, policy)
    reasons = reasons_for(m, policy, scores)
    return Verdict(
        session_id=session_id,
        decision=REVIEW if reasons else ACCEPTED,
        reasons=tuple(reasons),
        scores=scores,
        policy_version=policy.version,
        policy_digest=policy.digest(),
        model_versions=dict(model_versions),
        steps=tuple(steps),
        timeline=tuple(timeline),
        decided_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
