"""The challenge state machine and the verdict, on synthetic signals and measurements."""

from __future__ import annotations

import secrets

import pytest

import liveness  # noqa: F401  (native load order)
from liveness.challenge import FAILURE_REASON, Challenge, Step, parse_steps, random_steps
from liveness.policy import DEFAULT_POLICY
from liveness.signals import FaceSignals
from liveness.verdict import ACCEPTED, REASONS, REVIEW, SessionMeasurements, decide

P = DEFAULT_POLICY
DT = 0.05  # 20 frames/s


def signals(smile=0.0, blink=0.0, yaw=0.0) -> FaceSignals:
    return FaceSignals(smile=smile, blink=blink, yaw=yaw, pitch=0.0, roll=0.0,
                       mouth_box=(0, 0, 10, 5), face_box=(0, 0, 100, 120))


NEUTRAL = signals()
SMILING = signals(smile=0.9)
HALF_SMILE = signals(smile=(P.neutral_max_smile + P.smile_min) / 2)  # neither neutral nor a smile
EYES_CLOSED = signals(blink=0.9)
LEFT = signals(yaw=P.turn_yaw_deg + 5)
RIGHT = signals(yaw=-(P.turn_yaw_deg + 5))


class Clock:
    """Feeds a challenge at a fixed frame rate."""

    def __init__(self, challenge: Challenge, t: float = 100.0):
        self.challenge, self.t = challenge, t

    def feed(self, s: FaceSignals | None, seconds: float = DT):
        status = None
        for _ in range(max(1, round(seconds / DT))):
            status = self.challenge.update(self.t, s)
            self.t += DT
        return status


def do_step(clock: Clock, step: Step) -> None:
    """Perform ``step`` properly (each pose held a little longer than the policy asks)."""
    if step is Step.SMILE:
        clock.feed(NEUTRAL, P.neutral_hold_s + 0.2)
        clock.feed(SMILING, P.smile_hold_s + 0.2)
    elif step is Step.BLINK:
        clock.feed(NEUTRAL, 0.1)
        clock.feed(EYES_CLOSED, 0.1)
        clock.feed(NEUTRAL, 0.1)
    else:
        clock.feed(NEUTRAL, 0.1)
        clock.feed(LEFT if step is Step.TURN_LEFT else RIGHT, P.turn_hold_s + 0.2)


@pytest.mark.parametrize("steps", [[Step.SMILE, Step.BLINK], [Step.BLINK, Step.TURN_LEFT, Step.SMILE],
                                   [Step.TURN_RIGHT, Step.SMILE]])
def test_steps_pass_in_the_given_order(steps):
    challenge = Challenge(steps, P)
    clock = Clock(challenge)
    for index, step in enumerate(steps):
        status = clock.feed(NEUTRAL)
        assert (status.step, status.index, status.total) == (step, index, len(steps))
        do_step(clock, step)
    status = clock.feed(NEUTRAL)
    assert status.finished and status.passed and status.failure is None and status.instruction == "done"
    passed = [e.step for e in challenge.events if e.event == "passed"]
    started = [e.step for e in challenge.events if e.event == "started"]
    assert passed == started == [s.value for s in steps]


def test_a_step_done_out_of_order_does_not_count():
    challenge = Challenge([Step.BLINK, Step.SMILE], P)
    clock = Clock(challenge)
    do_step(clock, Step.SMILE)  # asked to blink, the person smiles
    status = clock.feed(NEUTRAL)
    assert status.step is Step.BLINK and not [e for e in challenge.events if e.event == "passed"]
    do_step(clock, Step.BLINK)
    # Already smiling when the smile step starts: the neutral phase comes first.
    status = clock.feed(SMILING, 2.0)
    assert status.step is Step.SMILE and status.instruction == "neutral"


def test_the_wrong_turn_direction_does_not_count():
    clock = Clock(Challenge([Step.TURN_LEFT], P))
    clock.feed(NEUTRAL, 0.1)
    status = clock.feed(RIGHT, 2.0)
    assert status.instruction == "turn_left" and not status.finished
    status = clock.feed(LEFT, P.turn_hold_s + 0.1)
    assert status.passed


def test_hold_times_are_required():
    clock = Clock(Challenge([Step.SMILE], P))
    status = clock.feed(NEUTRAL, P.neutral_hold_s - 2 * DT)
    assert status.instruction == "neutral"
    status = clock.feed(NEUTRAL, 4 * DT)
    assert status.instruction == "smile"
    status = clock.feed(SMILING, P.smile_hold_s - 2 * DT)
    assert not status.finished
    # A smile that stops before the hold time restarts the count.
    clock.feed(NEUTRAL)
    status = clock.feed(SMILING, P.smile_hold_s - 2 * DT)
    assert not status.finished
    status = clock.feed(SMILING, 4 * DT)
    assert status.passed


def test_losing_the_face_resets_the_hold():
    clock = Clock(Challenge([Step.SMILE], P))
    clock.feed(NEUTRAL, P.neutral_hold_s - 2 * DT)
    clock.feed(None)
    status = clock.feed(NEUTRAL, P.neutral_hold_s - 2 * DT)
    assert status.instruction == "neutral", "the hold before the face was lost must not count"
    status = clock.feed(NEUTRAL, 4 * DT)
    assert status.instruction == "smile"


def test_a_blink_needs_open_closed_open():
    clock = Clock(Challenge([Step.BLINK], P))
    status = clock.feed(EYES_CLOSED, 1.0)  # eyes closed from the start: not a blink yet
    assert status.instruction == "eyes_open"
    clock.feed(NEUTRAL)
    status = clock.feed(EYES_CLOSED)
    assert status.instruction == "eyes_reopen"
    status = clock.feed(signals(blink=(P.blink_open + P.blink_closed) / 2), 1.0)  # half open
    assert not status.finished
    assert clock.feed(NEUTRAL).passed


@pytest.mark.parametrize("step", list(Step))
def test_step_timeout_fails_with_the_step_reason(step):
    challenge = Challenge([step], P)
    clock = Clock(challenge)
    status = clock.feed(HALF_SMILE, P.step_timeout_s - 0.5)
    assert not status.finished and 0 < status.remaining_s <= 0.6
    status = clock.feed(HALF_SMILE, 1.0)
    assert status.finished and not status.passed
    assert status.failure == FAILURE_REASON[step] and challenge.timed_out
    assert challenge.events[-1].event == "failed" and "timeout" in challenge.events[-1].detail


def test_session_timeout_applies_across_steps():
    policy = P.replace(step_timeout_s=4.0, session_timeout_s=5.0)
    challenge = Challenge([Step.BLINK, Step.SMILE], policy)
    clock = Clock(challenge)
    clock.feed(NEUTRAL, 2.5)  # the blink step waits 2.5 s, then the blink
    do_step(clock, Step.BLINK)
    status = clock.feed(HALF_SMILE, 2.0)  # 2 s into the smile step: step time left, session time not
    assert status.step is Step.SMILE and status.remaining_s < 1.0
    status = clock.feed(HALF_SMILE, 1.0)
    assert status.failure == "smile_not_detected" and challenge.timed_out


def test_fail_ends_the_challenge_once():
    challenge = Challenge([Step.SMILE, Step.BLINK], P)
    clock = Clock(challenge)
    clock.feed(NEUTRAL)
    challenge.fail(clock.t, "face_changed", "similarity 0.1")
    challenge.fail(clock.t, "document_mismatch")
    status = clock.feed(NEUTRAL)
    assert status.finished and status.failure == "face_changed" and not status.passed
    assert [e.event for e in challenge.events] == ["started", "failed"]
    assert not challenge.timed_out


def test_peaks_are_recorded_for_the_verdict():
    challenge = Challenge([Step.SMILE], P)
    clock = Clock(challenge)
    clock.feed(signals(smile=0.42))
    assert challenge.peak["smile"] == pytest.approx(0.42)


def test_parse_steps():
    assert parse_steps("smile, blink,turn_left") == [Step.SMILE, Step.BLINK, Step.TURN_LEFT]
    with pytest.raises(ValueError, match="valid steps"):
        parse_steps("smile,wink")
    with pytest.raises(ValueError, match="no challenge step"):
        parse_steps(" , ")
    with pytest.raises(ValueError):
        Challenge([], P)


def test_random_steps_are_distinct_and_never_both_turns():
    rng = secrets.SystemRandom()
    seen = set()
    for _ in range(300):
        steps = random_steps(P, rng)
        assert P.challenge_steps_min <= len(steps) <= P.challenge_steps_max
        assert len(set(steps)) == len(steps)
        assert not {Step.TURN_LEFT, Step.TURN_RIGHT} <= set(steps)
        seen.add(tuple(steps))
    assert len(seen) > 10, "the order must vary from session to session"


# -- verdict ---------------------------------------------------------------------------------

def good_measurements(**changes) -> SessionMeasurements:
    m = SessionMeasurements(
        frames=40, frames_with_face=40, multiple_face_frames=0, quality_ok_frames=40,
        frozen_frames=0, duration_s=4.0, challenge_finished=True, document_reason=None,
        similarities=[0.6, 0.62], passive_scores=[0.9] * 10, passive_available=True,
        challenge_peaks={"smile": 0.8},
    )
    for name, value in changes.items():
        setattr(m, name, value)
    return m


def verdict_of(m: SessionMeasurements, policy=P):
    return decide("s1", m, policy, {"sface": "x@1"}, ["smile"], [])


CASES = {
    "too_few_frames": ({"frames": 5, "frames_with_face": 5, "quality_ok_frames": 5}, {"too_few_frames"}),
    "no_face": ({"frames_with_face": 0, "quality_ok_frames": 0}, {"no_face"}),
    "multiple_faces": ({"multiple_face_frames": 4}, {"multiple_faces"}),
    "stopped_early": ({"challenge_finished": False}, {"stopped_early"}),
    "challenge_timeout": ({"challenge_timed_out": True, "challenge_failure": "blink_not_detected"},
                          {"challenge_timeout", "blink_not_detected"}),
    "smile_not_detected": ({"challenge_failure": "smile_not_detected"}, {"smile_not_detected"}),
    "blink_not_detected": ({"challenge_failure": "blink_not_detected"}, {"blink_not_detected"}),
    "turn_not_detected": ({"challenge_failure": "turn_not_detected"}, {"turn_not_detected"}),
    "face_changed": ({"face_changed": True, "challenge_failure": "face_changed"}, {"face_changed"}),
    "no_document": ({"document_reason": "no_document", "similarities": []}, {"no_document"}),
    "document_no_face": ({"document_reason": "document_no_face"}, {"document_no_face"}),
    "document_multiple_faces": ({"document_reason": "document_multiple_faces"}, {"document_multiple_faces"}),
    "document_mismatch": ({"similarities": [0.1, 0.2]}, {"document_mismatch"}),
    "match_uncertain": ({"similarities": [P.match_threshold] * 3}, {"match_uncertain"}),
    "passive_unavailable": ({"passive_available": False, "passive_scores": []}, {"passive_unavailable"}),
    "spoof_suspected": ({"passive_scores": [0.1] * 10}, {"spoof_suspected"}),
    "low_quality": ({"quality_ok_frames": 10}, {"low_quality"}),
    "frozen_video": ({"frozen_frames": 39}, {"frozen_video"}),
}


def test_every_reason_has_a_case():
    assert set(CASES) == set(REASONS)


def test_accepted_only_with_no_reason():
    verdict = verdict_of(good_measurements())
    assert verdict.decision == ACCEPTED and verdict.accepted and verdict.reasons == ()


@pytest.mark.parametrize("reason", sorted(CASES))
def test_each_reason_triggers_review(reason):
    changes, expected = CASES[reason]
    verdict = verdict_of(good_measurements(**changes))
    assert verdict.decision == REVIEW and not verdict.accepted
    assert set(verdict.reasons) == expected


def test_too_few_passive_frames_is_unavailable_not_spoof():
    verdict = verdict_of(good_measurements(passive_scores=[0.1] * (P.passive_min_frames - 1)))
    assert verdict.reasons == ("passive_unavailable",)


def test_thresholds_are_inclusive_and_taken_from_the_policy():
    # A match is accepted from the top of the uncertain band up (matching.match_reason).
    at = good_measurements(similarities=[P.match_threshold + P.match_uncertain_margin],
                           passive_scores=[P.passive_threshold] * 10)
    assert verdict_of(at).accepted
    stricter = P.replace(match_threshold=0.7, version="test")
    verdict = verdict_of(good_measurements(), stricter)
    assert verdict.reasons == ("document_mismatch",)
    assert verdict.policy_version == "test" and verdict.policy_digest == stricter.digest() != P.digest()


def test_verdict_carries_scores_and_versions():
    d = verdict_of(good_measurements()).to_dict()
    assert d["verdict"] == "accepted" and d["reasons"] == []
    assert d["scores"]["similarity"] == pytest.approx(0.61)
    assert d["scores"]["passive"] == pytest.approx(0.9)
    assert d["scores"]["peak_smile"] == pytest.approx(0.8)
    assert d["model_versions"] == {"sface": "x@1"} and d["policy_version"] == P.version


def test_no_comparison_is_not_called_a_mismatch_when_another_reason_explains_it():
    verdict = verdict_of(good_measurements(frames_with_face=0, quality_ok_frames=0, similarities=[],
                                           challenge_failure="smile_not_detected"))
    assert "no_face" in verdict.reasons and "document_mismatch" not in verdict.reasons


def test_never_accepted_without_a_comparison():
    verdict = verdict_of(good_measurements(similarities=[]))
    assert verdict.reasons == ("document_mismatch",)


def test_no_comparison_is_explained_by_a_later_reason_too():
    """Whichever check finds it: a spoof suspicion explains a missing comparison as well."""
    verdict = verdict_of(good_measurements(similarities=[], passive_scores=[0.01] * 30))
    assert verdict.reasons == ("spoof_suspected",)
