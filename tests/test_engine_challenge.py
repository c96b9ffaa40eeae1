"""The challenge state machine and the verdict, on synthetic signals and measurements."""

from __future__ import annotations

import secrets

import pytest

import liveness  # noqa: F401  (native load order)
from liveness.challenge import (FAILURE_REASON, Baseline, Challenge, Gesture, Step, parse_steps, random_delays,
                                random_steps)
from liveness.i18n import event_detail, t as text
from liveness.policy import DEFAULT_POLICY
from liveness.verdict import ACCEPTED, REASONS, REVIEW, SessionMeasurements, decide

P = DEFAULT_POLICY
DT = 0.05  # 20 frames/s
DELAY = 1.0  # every prompt's wait in these tests (the first one overlaps the baseline by the shortest)
REACTION = 0.8  # a customer's onset after the prompt

NEUTRAL = Gesture(0.02, 0.1, 0.0)
SMILING = Gesture(0.9, 0.1, 0.0)
EYES_CLOSED = Gesture(0.02, 0.9, 0.0)
LEFT = Gesture(0.02, 0.1, P.turn_yaw_deg + 10)
RIGHT = Gesture(0.02, 0.1, -(P.turn_yaw_deg + 10))
GESTURE = {Step.SMILE: SMILING, Step.BLINK: EYES_CLOSED, Step.TURN_LEFT: LEFT, Step.TURN_RIGHT: RIGHT}


def challenge_of(steps, policy=P, **kwargs) -> "Challenge":
    kwargs.setdefault("delays", [DELAY] * (len(steps) + 1))
    return Challenge(list(steps), policy, **kwargs)


class Clock:
    """Feeds a challenge at a fixed frame rate."""

    def __init__(self, challenge: Challenge, t: float = 100.0):
        self.challenge, self.t = challenge, t

    def feed(self, s: Gesture | None, seconds: float = DT):
        status = None
        for _ in range(max(1, round(seconds / DT))):
            status = self.challenge.update(self.t, s)
            self.t += DT
        return status

    def until_prompt(self, s: Gesture = NEUTRAL, limit_s: float = 5.0):
        """Feed ``s`` until a prompt is up; the status then."""
        for _ in range(round(limit_s / DT)):
            status = self.feed(s)
            if status.prompting or status.finished:
                return status
        raise AssertionError("no prompt came")


def answer(clock: Clock, step: Step, reaction_s: float = REACTION, before: Gesture = NEUTRAL) -> Gesture:
    """Answer the prompt now up: ``before`` for ``reaction_s``, then the gesture (a blink: closed
    then open); the gesture to hold until the next prompt."""
    clock.feed(before, reaction_s)
    if step is Step.BLINK:
        clock.feed(EYES_CLOSED, 0.1)
        clock.feed(NEUTRAL)
        return NEUTRAL
    clock.feed(GESTURE[step], max(P.smile_hold_s, P.turn_hold_s) + 0.15)
    return GESTURE[step]


def perform(clock: Clock, steps) -> None:
    """A responsive customer: each gesture a reaction time after its prompt, held until the next."""
    held = NEUTRAL
    for step in steps:
        status = clock.until_prompt(held)
        assert status.step is step and status.prompting
        held = answer(clock, step, before=held)
    clock.feed(held, DELAY + 0.2)  # the last gesture held to the end


def test_baseline_then_a_wait_then_the_prompt():
    challenge = challenge_of([Step.SMILE, Step.BLINK])
    clock = Clock(challenge)
    status = clock.feed(NEUTRAL)
    assert status.instruction == "baseline" and status.step is None and not status.prompting
    clock.feed(NEUTRAL, P.baseline_s)
    status = clock.feed(NEUTRAL)
    assert status.instruction == "wait" and status.step is Step.SMILE and status.remaining_s is None
    status = clock.until_prompt()
    assert status.instruction == "smile" and status.prompting and status.remaining_s > 0
    prompt = next(e for e in challenge.events if e.event == "prompt")
    # The first wait overlaps the baseline by the shortest delay.
    assert prompt.t - 100.0 == pytest.approx(P.baseline_s + DELAY - P.prompt_delay_min_s, abs=2 * DT)


@pytest.mark.parametrize("steps", [[Step.SMILE, Step.BLINK], [Step.BLINK, Step.TURN_LEFT, Step.SMILE],
                                   [Step.TURN_RIGHT, Step.SMILE, Step.TURN_LEFT]])
def test_steps_pass_when_each_gesture_answers_its_prompt(steps):
    challenge = challenge_of(steps)
    clock = Clock(challenge)
    perform(clock, steps)
    status = clock.feed(NEUTRAL)
    assert status.finished and status.passed and status.failure is None and status.instruction == "done"
    passed = [e.step for e in challenge.events if e.event == "passed"]
    started = [e.step for e in challenge.events if e.event == "started"]
    assert passed == started == [s.value for s in steps]
    assert all("onset +0.8" in e.detail for e in challenge.events if e.event == "passed")


@pytest.mark.parametrize("step", list(Step))
def test_a_gesture_already_under_way_at_the_prompt_does_not_answer_it(step):
    clock = Clock(challenge_of([step]))
    clock.feed(NEUTRAL, P.baseline_s + 0.1)
    status = clock.until_prompt(NEUTRAL)
    clock.feed(GESTURE[step], 1.0)  # at once: quicker than a reaction
    status = clock.feed(NEUTRAL, P.reaction_max_s + P.prompt_round_trip_s + 0.2)
    if step is Step.BLINK:  # a blink of one's own is no failure, but no answer either
        assert status.failure == "response_too_late"
    else:
        assert status.failure == "response_before_prompt"


def test_a_smile_before_the_prompt_fails_the_step():
    clock = Clock(challenge_of([Step.SMILE, Step.BLINK]))
    clock.feed(NEUTRAL, P.baseline_s + 0.1)
    status = clock.feed(SMILING, 0.5)  # during the wait, nothing asked yet
    assert status.failure == "response_before_prompt" and status.finished


@pytest.mark.parametrize("asked, done", [(Step.TURN_LEFT, Step.TURN_RIGHT), (Step.BLINK, Step.SMILE),
                                         (Step.SMILE, Step.TURN_LEFT)])
def test_another_gesture_than_the_one_asked_is_wrong(asked, done):
    clock = Clock(challenge_of([asked]))
    clock.feed(NEUTRAL, P.baseline_s + 0.1)
    clock.until_prompt()
    answer(clock, done)
    assert clock.feed(NEUTRAL).failure == "wrong_gesture"
    [failed] = [e for e in clock.challenge.events if e.event == "failed"]
    assert failed.detail == f"{text(f'gesture_{done.value}', 'en')} while {text(f'gesture_{asked.value}', 'en')} was asked"
    # The reviewer reads it in Portuguese, the gestures named too.
    assert event_detail(failed.code, failed.values, "pt") == \
        f"{text(f'gesture_{done.value}', 'pt')} quando foi pedido: {text(f'gesture_{asked.value}', 'pt')}"


def test_every_event_detail_is_said_in_each_language():
    """Each event's detail is a code and values, so a page can say it in its language."""
    events = []
    for steps, feed in [([Step.SMILE, Step.BLINK, Step.TURN_LEFT], None),  # passes: baseline and onsets
                        ([Step.SMILE], NEUTRAL),  # nothing started: too late
                        ([Step.SMILE, Step.BLINK], SMILING)]:  # before the prompt
        clock = Clock(challenge_of(steps))
        if feed is None:
            perform(clock, steps)
        else:
            clock.feed(NEUTRAL, P.baseline_s + 0.1)
            clock.feed(feed, P.reaction_max_s + P.prompt_round_trip_s + DELAY + 0.5)
        events += clock.challenge.events
    codes = {e.code for e in events} - {""}
    assert {"baseline", "onset", "nothing_started", "before_prompt"} <= codes, codes
    for e in events:
        if e.code:
            english, portuguese = event_detail(e.code, e.values, "en"), event_detail(e.code, e.values, "pt")
            assert e.detail == english and portuguese != english and "detail_" not in portuguese, e
            assert not any(g.value in portuguese for g in Step), portuguese  # no raw step name


def test_a_natural_blink_during_a_turn_step_is_no_wrong_gesture():
    clock = Clock(challenge_of([Step.TURN_LEFT]))
    clock.feed(NEUTRAL, P.baseline_s + 0.1)
    clock.until_prompt()
    clock.feed(NEUTRAL, 0.3)
    clock.feed(EYES_CLOSED, 0.1)
    answer(clock, Step.TURN_LEFT, reaction_s=0.3)
    status = clock.feed(LEFT, DELAY + 0.2)
    assert status.passed


def test_a_blink_step_waits_for_a_blink_inside_its_window():
    clock = Clock(challenge_of([Step.BLINK]))
    clock.feed(NEUTRAL, P.baseline_s + 0.1)
    clock.until_prompt()
    clock.feed(EYES_CLOSED, 0.1)  # at once: a blink of one's own, ignored
    status = clock.feed(NEUTRAL, 0.5)
    assert not status.finished and status.prompting
    clock.feed(EYES_CLOSED, 0.1)
    assert clock.feed(NEUTRAL).passed


def test_no_answer_within_the_window_is_too_late():
    clock = Clock(challenge_of([Step.SMILE]))
    clock.feed(NEUTRAL, P.baseline_s + 0.1)
    clock.until_prompt()
    status = clock.feed(NEUTRAL, P.reaction_max_s + P.prompt_round_trip_s - 0.2)
    assert not status.finished and 0 < status.remaining_s < 0.4
    status = clock.feed(NEUTRAL, 0.4)
    assert status.failure == "response_too_late"


def test_a_smile_too_weak_is_not_detected_rather_than_late():
    clock = Clock(challenge_of([Step.SMILE]))
    clock.feed(NEUTRAL, P.baseline_s + 0.1)
    clock.until_prompt()
    clock.feed(NEUTRAL, REACTION)
    status = clock.feed(Gesture((P.neutral_max_smile + P.smile_min) / 2, 0.1, 0.0), P.gesture_complete_s + 0.2)
    assert status.failure == "smile_not_detected"


def test_a_gesture_released_before_the_next_prompt_is_not_held():
    clock = Clock(challenge_of([Step.SMILE, Step.BLINK]))
    clock.feed(NEUTRAL, P.baseline_s + 0.1)
    clock.until_prompt()
    answer(clock, Step.SMILE)
    status = clock.feed(NEUTRAL, 0.2)  # back to rest before the blink's prompt came
    assert status.failure == "gesture_not_held"


def test_the_last_gesture_is_held_to_the_end():
    clock = Clock(challenge_of([Step.TURN_RIGHT]))
    clock.feed(NEUTRAL, P.baseline_s + 0.1)
    clock.until_prompt()
    answer(clock, Step.TURN_RIGHT)
    status = clock.feed(RIGHT, DELAY / 2)
    assert not status.finished and status.instruction == "turn_right"
    assert clock.feed(NEUTRAL).failure == "gesture_not_held"


def test_the_gate_judges_a_step_before_it_is_done_and_a_held_last_one_when_its_hold_ends():
    asked = []

    def refuse_turns(index, t):
        asked.append(index)
        return ("planar_motion", "motion_not_measured", {}) if steps[index] is Step.TURN_LEFT else None

    steps = [Step.SMILE, Step.TURN_LEFT]
    clock = Clock(challenge_of(steps, gate=refuse_turns))
    perform(clock, steps)
    challenge = clock.challenge
    assert asked == [0, 1] and challenge.failure == "planar_motion" and not challenge.passed
    # The held turn passed its own test, then the gate refused it at the end of the hold: never "held".
    assert [e.event for e in challenge.events if e.step == "turn_left"][-2:] == ["passed", "failed"]
    steps = [Step.TURN_LEFT, Step.SMILE]  # a turn that is not last: refused as it passes
    clock = Clock(challenge_of(steps, gate=refuse_turns))
    clock.until_prompt()
    answer(clock, Step.TURN_LEFT)
    assert clock.challenge.failure == "planar_motion" and clock.challenge.progress[0] == 0
    assert "passed" not in [e.event for e in clock.challenge.events if e.step == "turn_left"]


def test_the_window_counts_from_when_the_prompt_was_shown():
    challenge = challenge_of([Step.SMILE])
    clock = Clock(challenge)
    clock.feed(NEUTRAL, P.baseline_s + 0.1)
    clock.until_prompt()
    challenge.prompt_shown(0, clock.t + 0.3)  # the frame showing it left 0.3 s later
    clock.feed(NEUTRAL, 0.3 + P.reaction_min_s - 0.2)
    clock.feed(SMILING, 0.5)  # a reaction to the scheduled time, too soon after the shown one
    assert challenge.failure == "response_before_prompt"
    assert [e.event for e in challenge.events].count("shown") == 1


def test_thresholds_are_relative_to_the_customers_own_neutral():
    """A face that rests at blink 0.22 and 6 degrees to its left: its blink and turn are judged from there."""
    rest = Gesture(0.02, 0.22, 6.0)
    baseline = Baseline.measure([rest] * 20, P)
    levels = baseline.levels
    assert levels[Step.BLINK] == (pytest.approx(0.32), pytest.approx(0.52))
    assert baseline.value(Step.TURN_LEFT, Gesture(0.0, 0.0, 6.0 + P.turn_yaw_deg)) == pytest.approx(P.turn_yaw_deg)
    # Clamped: a face smiling or turned from the start does not lower its own bar.
    tilted = Baseline.measure([Gesture(0.8, 0.9, 40.0)] * 5, P)
    assert (tilted.smile, tilted.blink, tilted.yaw) == (P.neutral_max_smile, P.blink_open, P.turn_yaw_deg / 2)
    challenge = challenge_of([Step.TURN_LEFT])
    clock = Clock(challenge)
    clock.feed(rest, P.baseline_s + 0.1)
    clock.until_prompt(rest)
    clock.feed(rest, REACTION)
    turned = Gesture(0.02, 0.22, 6.0 + P.turn_yaw_deg + 2)  # 28 degrees: a turn of 22 from this face's rest
    assert clock.feed(turned, P.turn_hold_s + DELAY + 0.2).passed


def test_losing_the_face_resets_the_hold():
    clock = Clock(challenge_of([Step.SMILE]))
    clock.feed(NEUTRAL, P.baseline_s + 0.1)
    clock.until_prompt()
    clock.feed(NEUTRAL, REACTION)
    clock.feed(SMILING, P.smile_hold_s - 2 * DT)
    status = clock.feed(None)
    status = clock.feed(SMILING, P.smile_hold_s - 2 * DT)
    assert status.instruction == "smile" and not status.finished, "the hold before the face was lost must not count"
    assert clock.feed(SMILING, DELAY + 0.3).passed


@pytest.mark.parametrize("step", list(Step))
def test_an_unlocked_challenge_times_out_with_the_step_reason(step):
    challenge = challenge_of([step], locked=False, delays=None)
    clock = Clock(challenge)
    status = clock.feed(NEUTRAL, P.baseline_s + P.step_timeout_s - 0.5)
    assert not status.finished and 0 < status.remaining_s <= 0.7
    status = clock.feed(NEUTRAL, 1.0)
    assert status.finished and not status.passed
    assert status.failure == FAILURE_REASON[step] and challenge.timed_out


def test_an_unlocked_challenge_takes_the_gesture_any_time_in_its_step():
    clock = Clock(challenge_of([Step.SMILE, Step.BLINK], locked=False, delays=None))
    clock.feed(NEUTRAL, P.baseline_s + 4.0)
    clock.feed(SMILING, P.smile_hold_s + 0.1)
    clock.feed(NEUTRAL, 3.0)  # released at once: nothing to hold for without a script
    clock.feed(EYES_CLOSED, 0.1)
    assert clock.feed(NEUTRAL).passed


def test_session_timeout_applies_across_steps():
    policy = P.replace(session_timeout_s=P.baseline_s + 1.0)
    challenge = challenge_of([Step.BLINK, Step.SMILE], policy)
    clock = Clock(challenge)
    status = clock.feed(NEUTRAL, P.baseline_s + 1.2)
    assert status.failure == "blink_not_detected" and challenge.timed_out


def test_fail_ends_the_challenge_once():
    challenge = challenge_of([Step.SMILE, Step.BLINK])
    clock = Clock(challenge)
    clock.feed(NEUTRAL, P.baseline_s + 0.1)
    challenge.fail(clock.t, "face_changed", "similarity 0.1")
    challenge.fail(clock.t, "document_mismatch")
    status = clock.feed(NEUTRAL)
    assert status.finished and status.failure == "face_changed" and not status.passed
    assert [e.event for e in challenge.events] == ["measured", "started", "failed"]
    assert not challenge.timed_out


def test_peaks_are_recorded_for_the_verdict():
    challenge = challenge_of([Step.SMILE])
    clock = Clock(challenge)
    clock.feed(NEUTRAL, P.baseline_s + 0.1)
    clock.feed(Gesture(0.22, 0.1, 0.0))
    assert challenge.peak["smile"] == pytest.approx(0.22)


def test_parse_steps():
    assert parse_steps("smile, blink,turn_left") == [Step.SMILE, Step.BLINK, Step.TURN_LEFT]
    with pytest.raises(ValueError, match="valid steps"):
        parse_steps("smile,wink")
    with pytest.raises(ValueError, match="no challenge step"):
        parse_steps(" , ")
    with pytest.raises(ValueError):
        Challenge([], P)
    with pytest.raises(ValueError, match="delay"):
        Challenge([Step.SMILE], P, delays=[1.0])


def test_random_steps_hold_a_blink_and_smiles_or_turns_and_vary():
    """Composition (issue 11): distinct steps within the policy's count, a blink and at least one
    smile or turn, never blink alone; both turns may now be asked (was: never both)."""
    rng = secrets.SystemRandom()
    seen = set()
    for _ in range(300):
        steps = random_steps(P, rng)
        assert P.challenge_steps_min <= len(steps) <= P.challenge_steps_max
        assert len(set(steps)) == len(steps)
        assert Step.BLINK in steps and set(steps) - {Step.BLINK}, "a blink, never alone"
        seen.add(tuple(steps))
    assert len(seen) > 10, "the order must vary from session to session"
    one = P.replace(challenge_steps_min=1, challenge_steps_max=1)
    assert all(random_steps(one, rng)[0] is not Step.BLINK for _ in range(100))
    four = P.replace(challenge_steps_min=4, challenge_steps_max=4)
    assert all(set(random_steps(four, rng)) == set(Step) for _ in range(20))


def test_random_delays_are_within_the_policy():
    delays = random_delays(P, 500, secrets.SystemRandom())
    assert min(delays) >= P.prompt_delay_min_s and max(delays) <= P.prompt_delay_max_s
    assert len(set(delays)) > 100


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
    # 40 frames over 8 s: 5 analysed frames/s, an overloaded server's.
    "insufficient_frames": ({"duration_s": 8.0}, {"insufficient_frames"}),
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
    "passive_too_few_frames": ({"passive_scores": [0.9] * (P.passive_min_frames - 1)}, {"passive_too_few_frames"}),
    "spoof_suspected": ({"passive_scores": [0.1] * 10}, {"spoof_suspected"}),
    "low_quality": ({"quality_ok_frames": 10}, {"low_quality"}),
    "frozen_video": ({"frozen_frames": 39}, {"frozen_video"}),
    "response_before_prompt": ({"challenge_failure": "response_before_prompt"}, {"response_before_prompt"}),
    "response_too_late": ({"challenge_failure": "response_too_late"}, {"response_too_late"}),
    "wrong_gesture": ({"challenge_failure": "wrong_gesture"}, {"wrong_gesture"}),
    "gesture_not_held": ({"challenge_failure": "gesture_not_held"}, {"gesture_not_held"}),
    "no_challenge_script": ({"challenge_locked": False}, {"no_challenge_script"}),
    "planar_motion": ({"planar_motion": True}, {"planar_motion"}),  # a last-step turn: the challenge had passed
}


def test_every_reason_has_a_case_and_plain_words_in_each_language():
    from liveness.i18n import LANGUAGES, TEXT

    assert set(CASES) == set(REASONS)
    assert [r for r in REASONS if set(TEXT.get(r, {})) != set(LANGUAGES)] == []


def test_a_session_the_system_stopped_is_not_also_blamed_for_being_short():
    """A failed challenge ends the session at once (a face that does not match the document
    after 0.6 s): its few frames and passive scores follow from the stop, so only the stop's
    reason is given, not "video too short" as if the customer had left."""
    stopped = good_measurements(frames=5, frames_with_face=5, quality_ok_frames=5, duration_s=0.6,
                                passive_scores=[0.9], challenge_failure="document_mismatch")
    assert verdict_of(stopped).reasons == ("document_mismatch",)
    short = good_measurements(frames=5, frames_with_face=5, quality_ok_frames=5, duration_s=0.6, passive_scores=[0.9])
    assert {"too_few_frames", "passive_too_few_frames"} <= set(verdict_of(short).reasons)


def test_accepted_only_with_no_reason():
    verdict = verdict_of(good_measurements())
    assert verdict.decision == ACCEPTED and verdict.accepted and verdict.reasons == ()


@pytest.mark.parametrize("reason", sorted(CASES))
def test_each_reason_triggers_review(reason):
    changes, expected = CASES[reason]
    verdict = verdict_of(good_measurements(**changes))
    assert verdict.decision == REVIEW and not verdict.accepted
    assert set(verdict.reasons) == expected


def test_too_few_passive_frames_is_neither_spoof_nor_a_missing_model():
    verdict = verdict_of(good_measurements(passive_scores=[0.1] * (P.passive_min_frames - 1)))
    assert verdict.reasons == ("passive_too_few_frames",)


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


def test_a_stored_policy_with_a_retired_field_still_loads():
    """Policies saved before 2026.12.1 hold neutral_hold_s (the neutral is now the baseline)."""
    from liveness.policy import Policy

    assert Policy.from_dict({**P.to_dict(), "neutral_hold_s": 0.6}) == P
    with pytest.raises(ValueError, match="unknown policy fields"):
        Policy.from_dict({**P.to_dict(), "no_such_field": 1})
