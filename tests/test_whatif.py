"""The session trace, its replay under another policy, and the what-if on labelled cases, on synthetic frames."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import liveness  # noqa: F401  (native load order)
from liveness.challenge import Step
from liveness.policy import DEFAULT_POLICY
from liveness.trace import (REPLAYED_FIELDS, FrameObservation, Gesture, IdentitySample, SessionTrace, Tally,
                            replay)
from liveness.store.reviews import LabelledCase
from liveness.verdict import reasons_for, scores_of
from ui.whatif import passive_sweep, rates, redecide

P = DEFAULT_POLICY
DT = 0.05  # 20 frames/s
NEUTRAL = Gesture(0.05, 0.1, 1.0)


DELAY = 1.0  # every prompt's wait: the first prompt comes at baseline_s + DELAY - prompt_delay_min_s
FIRST_PROMPT_S = P.baseline_s + DELAY - P.prompt_delay_min_s
REACTION_S = 0.8


def record(steps, gestures, policy=P, document_reason=None, similarity=0.7, stop_at_finish=True):
    """A session as the live one runs it: one observation per gesture, an identity sample every 10 frames."""
    tally = Tally(policy, steps, document_reason, passive_available=True, delays=[DELAY] * (len(steps) + 1))
    pending = None
    for index, gesture in enumerate(gestures):
        t = index * DT
        sample = None
        if index % 10 == 0:
            sample, pending = pending, IdentitySample(t, similarity, index, -1)
        if sample is not None:
            sample = IdentitySample(sample.t, sample.similarity, sample.taken, index)
        status = tally.frame(FrameObservation(t, True, False, gesture, True, 0.9, None if index == 0 else 1.5),
                             sample)
        if status.finished and stop_at_finish:
            break
    if pending is not None:
        pending = IdentitySample(pending.t, pending.similarity, pending.taken, len(tally.trace.frames))
    return tally.finish(pending), tally.trace


def reasons(m, policy=P):
    return reasons_for(m, policy, scores_of(m, policy))


WEAK_SMILE = 0.36  # between the neutral face and smile_min (0.40): a smile too weak
LOWER_SMILE_MIN = 0.33  # a threshold it would reach


def smile_session(peak: float):
    """A neutral face, then a smile of ``peak`` a reaction time after the first prompt, held to the end."""
    rest = round((FIRST_PROMPT_S + REACTION_S) / DT)
    return [NEUTRAL] * rest + [Gesture(peak, 0.1, 1.0)] * int(P.step_timeout_s / DT + 5)


def test_the_trace_round_trips_through_json_exactly():
    _, trace = record([Step.SMILE, Step.BLINK], smile_session(WEAK_SMILE))
    again = SessionTrace.from_dict(json.loads(json.dumps(trace.to_dict())))
    assert again == trace


def test_the_evidence_series_come_from_the_trace():
    trace = SessionTrace(["smile"], None, True, [
        FrameObservation(0.0, False),
        FrameObservation(0.05, True, False, Gesture(0.123456, 0.2, 3.14159), True, 0.87654, None),
        FrameObservation(0.1, True, True, None, False, None, 0.5),  # two faces: no gesture used
        FrameObservation(0.15, True, False, NEUTRAL, True, None, 1.0)],
        samples=[IdentitySample(0.05, 0.612345, 1, 2)])
    series = trace.series()
    assert series["t"] == [0.0, 0.05, 0.1, 0.15] and series["face"] == [False, True, True, True]
    assert series["smile"] == [None, 0.1235, None, 0.05] and series["yaw"] == [None, 3.14, None, 1.0]
    assert series["passive"] == [None, 0.8765, None, None]
    assert series["similarity"] == [None, None, 0.6123, 0.6123]  # from the frame it was applied at
    assert series["quality_ok"] == [None, True, False, True]


def test_the_passive_model_is_due_on_every_nth_frame_with_a_face():
    tally = Tally(P.replace(passive_every_n=3), [Step.SMILE], None, passive_available=True)
    due = []
    for index, face in enumerate([True, False, True, True, True, True, False, True]):
        due.append(tally.passive_due())
        tally.frame(FrameObservation(index * DT, face, False, NEUTRAL if face else None, face or None))
    # Faces on frames 0, 2, 3, 4, 5, 7: the 3rd and 6th of them are frames 3 and 7; on the
    # face-less frame 6 the 6th face is already the one due.
    assert [i for i, d in enumerate(due) if d] == [3, 6, 7]


def test_replay_under_the_recorded_policy_gives_the_recorded_measurements():
    m, trace = record([Step.SMILE], smile_session(WEAK_SMILE))
    replayed = replay(trace, P)
    assert replayed.exact and replayed.measurements == m
    assert set(replayed.reasons(P)) == {"smile_not_detected"}


def test_a_smile_below_the_threshold_is_accepted_when_the_threshold_is_lowered():
    m, trace = record([Step.SMILE], smile_session(WEAK_SMILE))
    assert set(reasons(m)) == {"smile_not_detected"}
    policy = P.replace(smile_min=LOWER_SMILE_MIN)
    lower = replay(trace, policy)
    assert lower.exact and lower.reasons(policy) == []  # it passes, held to the end, and the session ends there
    assert lower.measurements.frames < m.frames


def test_a_case_without_a_document_stays_in_review_whatever_the_thresholds():
    _, trace = record([Step.SMILE], smile_session(0.9), document_reason="no_document")
    lenient = P.replace(**{"smile_min": LOWER_SMILE_MIN, "match_threshold": 0.0, "passive_threshold": 0.0,
                           "min_quality_fraction": 0.0, "continuity_threshold": 0.0})
    assert "no_document" in replay(trace, lenient).reasons(lenient)


def test_a_replay_that_asks_for_another_step_than_the_customer_saw_is_approximate():
    m, trace = record([Step.SMILE, Step.BLINK], smile_session(WEAK_SMILE))
    policy = P.replace(smile_min=LOWER_SMILE_MIN)
    lower = replay(trace, policy)
    # The customer kept smiling where the replay asks for a blink: the rest answered another instruction.
    assert not lower.exact and "blink_not_detected" in lower.reasons(policy)


def test_a_longer_allowance_than_the_recording_is_approximate():
    _, trace = record([Step.SMILE], smile_session(WEAK_SMILE))
    assert not replay(trace, P.replace(gesture_complete_s=60.0)).exact


def test_a_stream_stopped_by_the_customer_replays_exactly_to_its_end():
    gestures = [NEUTRAL] * round((FIRST_PROMPT_S + 0.5) / DT)  # stopped 0.5 s after the prompt, before an answer
    m, trace = record([Step.SMILE], gestures, stop_at_finish=False)
    assert "stopped_early" in reasons(m) and not trace.ended_by_challenge
    later = replay(trace, P.replace(reaction_max_s=6.0))
    assert later.exact and later.measurements == m


def test_a_stream_stopped_before_the_first_prompt_blames_no_gesture():
    """Stopped while the neutral is measured or while waiting for the prompt: nothing was asked."""
    # During the neutral, waiting for the prompt, and sooner after it than anyone reacts.
    for stop_s in (0.5, FIRST_PROMPT_S - 0.3, FIRST_PROMPT_S + P.reaction_min_s / 2):
        m, _ = record([Step.SMILE], [NEUTRAL] * round(stop_s / DT), stop_at_finish=False)
        assert "stopped_early" in reasons(m) and "smile_not_detected" not in reasons(m), reasons(m)
    m, _ = record([Step.SMILE], [NEUTRAL] * round((FIRST_PROMPT_S + 0.5) / DT), stop_at_finish=False)
    assert {"stopped_early", "smile_not_detected"} <= set(reasons(m))  # asked, then stopped: the smile is missing


def test_continuity_is_replayed_from_the_recorded_similarities():
    m, trace = record([Step.SMILE], smile_session(0.9), similarity=0.32)
    assert "document_mismatch" in reasons(m)  # 0.32 < the match threshold, above continuity
    stricter = replay(trace, P.replace(continuity_threshold=0.4))
    assert stricter.exact and "document_mismatch" in stricter.reasons(P)
    assert stricter.measurements.frames < m.frames  # stopped at the second low sample


def test_a_slow_answer_is_replayed_under_a_wider_reaction_window():
    """The prompt-locked fields replay: a smile 2.8 s after the prompt is late now, in time under 3.5 s."""
    slow = round((FIRST_PROMPT_S + 2.8) / DT)
    m, trace = record([Step.SMILE], [NEUTRAL] * slow + [Gesture(0.9, 0.1, 1.0)] * 80, stop_at_finish=False)
    assert set(reasons(m)) == {"response_too_late"}
    wider = P.replace(reaction_max_s=3.5)
    replayed = replay(trace, wider)
    assert replayed.reasons(wider) == []
    assert {"reaction_max_s", "reaction_min_s", "prompt_round_trip_s", "baseline_s"} <= set(REPLAYED_FIELDS)


def test_when_the_prompt_was_shown_is_kept_and_replayed():
    tally = Tally(P, [Step.SMILE], None, passive_available=True, delays=[DELAY, DELAY])
    shown_at = None
    for index in range(200):
        t = index * DT
        # The customer smiles 0.5 s after the scheduled prompt: only 0.2 s after the frame showing it left.
        gesture = Gesture(0.9, 0.1, 1.0) if t >= FIRST_PROMPT_S + 0.5 else NEUTRAL
        status = tally.frame(FrameObservation(t, True, False, gesture, True, 0.9, 1.0))
        if status.prompting and shown_at is None:
            shown_at = t + 0.3
            tally.prompt_shown(0, shown_at)
        if status.finished:
            break
    m = tally.finish()
    assert m.challenge_failure == "response_before_prompt"
    again = SessionTrace.from_dict(json.loads(json.dumps(tally.trace.to_dict())))
    assert again == tally.trace and again.shown[0].t == shown_at
    replayed = replay(again, P)
    assert replayed.exact and replayed.measurements == m


def test_a_trace_from_before_prompt_locking_replays_as_unlocked():
    _, trace = record([Step.SMILE], smile_session(0.9))
    old = {k: v for k, v in trace.to_dict().items() if k not in ("delays", "prompt_at", "locked", "shown")}
    old["format"] = 1
    assert "no_challenge_script" in replay(SessionTrace.from_dict(old), P).reasons(P)


def test_the_replay_reads_no_threshold_of_the_verdict_itself():
    _, trace = record([Step.SMILE], smile_session(0.9))
    unrelated = P.replace(passive_threshold=0.99, match_threshold=0.99, min_quality_fraction=1.0,
                          frozen_min_fraction=0.0, passive_min_frames=1000)
    assert replay(trace, unrelated).measurements == replay(trace, P).measurements
    assert set(REPLAYED_FIELDS) <= set(P.to_dict())


# -- the what-if -------------------------------------------------------------------------------

def labelled(genuine: bool, trace=None, reasons=(), scores=None, verdict="review") -> LabelledCase:
    return LabelledCase("case", datetime(2026, 11, 24, tzinfo=timezone.utc),
                        scores or {}, verdict, P.version, genuine, list(reasons),
                        None if trace is None else trace.to_dict())


def what_if(cases, policy):
    return rates(redecide(cases, policy), policy)


def test_what_if_accepts_the_genuine_weak_smile_under_a_lower_smile_threshold():
    _, trace = record([Step.SMILE], smile_session(WEAK_SMILE))
    cases = [labelled(True, trace, ["smile_not_detected"])]
    now = what_if(cases, P)
    assert (now.bpcer, now.changed, now.exact, now.diverged, now.score_only) == (1.0, 0, 1, 0, 0)
    lower = what_if(cases, P.replace(smile_min=LOWER_SMILE_MIN))
    assert (lower.bpcer, lower.changed, lower.exact) == (0.0, 1, 1)


def test_what_if_keeps_an_attack_without_a_document_in_review():
    _, trace = record([Step.SMILE], smile_session(0.9), document_reason="no_document")
    lenient = P.replace(smile_min=LOWER_SMILE_MIN, match_threshold=0.0, passive_threshold=0.0)
    assert what_if([labelled(False, trace, ["no_document"])], lenient).apcer == 0.0


def test_old_cases_without_a_trace_use_the_score_only_rule_and_are_counted():
    spoof = labelled(True, None, ["spoof_suspected"], {"passive": 0.1, "similarity": 0.5})
    no_document = labelled(True, None, ["no_document"], {"passive": 0.9, "similarity": None})
    result = what_if([spoof, no_document], P.replace(passive_threshold=0.05))
    assert (result.bpcer, result.changed, result.score_only, result.exact) == (0.5, 1, 2, 0)
    assert what_if([spoof], P.replace(passive_threshold=0.05, match_threshold=0.6)).bpcer == 1.0


def test_the_passive_sweep_reuses_the_replays_without_changing_the_result():
    _, weak = record([Step.SMILE], smile_session(WEAK_SMILE))
    _, strong = record([Step.SMILE], smile_session(0.9))
    cases = [labelled(True, weak, ["smile_not_detected"]), labelled(False, strong, verdict="accepted"),
             labelled(False, None, ["spoof_suspected"], {"passive": 0.3, "similarity": 0.7})]
    policy = P.replace(smile_min=LOWER_SMILE_MIN)
    for threshold, result in passive_sweep(redecide(cases, policy), policy, points=11):
        assert result == what_if(cases, policy.replace(passive_threshold=threshold))
