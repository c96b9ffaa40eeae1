"""Head motion is 3D: swung photos are flagged planar_motion, real turns are not; trace and replay carry it."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

import liveness  # noqa: F401  (native load order)
from liveness.challenge import Step
from liveness.config import settings
from liveness.headmotion import HeadMotion, TurnPeak, planar_residual
from liveness.headmotion_eval import SwingTrial, held_photo, observe, swung_frames, turn_episodes
from liveness.i18n import TEXT, event_detail
from liveness.media import iter_video, read_image
from liveness.policy import DEFAULT_POLICY
from liveness.session import VerificationSession
from liveness.signals import FaceSignalTracker
from liveness.trace import FrameObservation, Gesture, SessionTrace, Tally, replay
from liveness.verdict import REASONS, reasons_for, scores_of

P = DEFAULT_POLICY
DATA = settings().data_dir
DT = 1 / 30
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="development data not found")


def test_a_homography_of_a_point_set_fits_exactly_and_a_rotated_3d_set_does_not():
    rng = np.random.default_rng(0)
    flat = rng.uniform(100, 300, (200, 2))
    homography = np.array([[0.9, 0.05, 12], [-0.03, 1.1, -7], [4e-4, -2e-4, 1]])
    moved = flat @ homography[:2, :2].T + homography[:2, 2]
    moved /= (flat @ homography[2, :2] + 1)[:, None]
    assert planar_residual(flat, moved) < 1e-6
    # The same points given depths of a face's relief (±15 % of its size), turned 25 degrees.
    depth = rng.uniform(-30, 30, 200)
    angle = np.radians(25)
    turned = np.column_stack([200 + (flat[:, 0] - 200) * np.cos(angle) + depth * np.sin(angle), flat[:, 1]])
    assert planar_residual(flat, turned) > P.planar_residual_min


# -- on real frames ------------------------------------------------------------------------------

def _swung_photo_frames(max_swing: float):
    photo = held_photo(read_image(DATA / "verify" / "leonard" / "leonard2.png"))
    return list(swung_frames(photo, SwingTrial(max_swing, 4.0, (0.05, 0.0), 0.8, 1.15, (0.06, 0.02))))


@needs_data
def test_a_photo_swung_in_perspective_moves_as_a_plane():
    frames = _swung_photo_frames(35.0)
    motion = HeadMotion(P)
    with FaceSignalTracker() as tracker:
        first = tracker.process(frames[0], 0.0)
        motion.reset(cv2.cvtColor(frames[0], cv2.COLOR_BGR2GRAY), first.landmarks)
        residuals = [motion.track(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)) for frame in frames[1:]]
    assert all(r is not None for r in residuals), "the flow lost the photo"
    assert max(residuals) < P.planar_residual_min


@needs_data
def test_a_real_head_turn_from_a_shared_clip_is_3d():
    path = DATA / "pad" / "replay_videos" / "apfol" / "live.webm"
    frames = [(f.image, f.timestamp_s) for f in iter_video(path) if f.timestamp_s <= 1.6]
    turns = list(turn_episodes(observe(frames, P), P, "apfol"))
    assert turns, "no turn found in the clip's first 1.6 s"
    assert all(not t.planar and t.residual >= P.planar_residual_min for t in turns), [t.detail for t in turns]


@needs_data
def test_a_session_over_a_swung_photo_goes_to_review_with_planar_motion():
    """A webcam frame held as a flat print and swung 60 degrees: strong enough that the landmarker
    reads a turn to the right, so only the head-motion check stops it. At 15 frames/s: the
    landmarker misses this warped face on every 7th frame, which a 30 frames/s hold would not survive.
    The prompt at 1.5 s (a script's time), the swing from 2 s: the turn answers it in time. Turn level
    15 degrees: the per-person baseline measures this photo's own yaw, and the check under test is
    the head motion's, not the turn's size."""
    policy = P.replace(turn_yaw_deg=15.0)
    photo = read_image(sorted((DATA / "pad" / "nuaa" / "live" / "0002").glob("*.jpg"))[0])
    frames = swung_frames(photo, SwingTrial(60.0, 0.0, (0.0, 0.0), 0.6, 1.0, (0.0, 0.0)), still=30, ramp=12, hold=60)
    with VerificationSession(policy=policy, steps=[Step.TURN_RIGHT], passive=None, prompt_at=[1.5]) as session:
        for index, frame in enumerate(frames):
            result = session.process(frame, index / 15)
        verdict = session.finish()
        trace = session.evidence().trace
    assert result.verdict is not None, "the turn step never ended"
    assert "planar_motion" in verdict.reasons and "turn_not_detected" not in verdict.reasons
    assert verdict.scores["planar_residual_turn_right"] < policy.planar_residual_min
    # The turn was the last step: the challenge itself fails on it, and its timeline never says it passed.
    assert verdict.decision == "review" and "planar_motion" in reasons_for(session.measurements, policy, verdict.scores)
    assert session.measurements.challenge_failure == "planar_motion"
    turn_events = [e["event"] for e in session.evidence().timeline if e["step"] == "turn_right"]
    assert "passed" not in turn_events and turn_events[-1] == "failed"
    assert trace.head_motion and any(f.planar_residual is not None for f in trace.frames)
    assert "planar_motion" in replay(trace, policy).reasons(policy)


# -- the trace and its replay ---------------------------------------------------------------------

FRONT = Gesture(0.05, 0.1, 1.0)


def turn_session(residual: float | None, head_motion: bool = True):
    """Front for 1.6 s (the baseline's second, then the prompt), then a left turn of 30 degrees held:
    each turned frame with ``residual``. Unlocked (no waits drawn): the prompt-locked timing is
    tested in test_engine_challenge."""
    tally = Tally(P, [Step.TURN_LEFT, Step.SMILE], None, True, locked=False, head_motion=head_motion)
    frames = [(FRONT, None)] * 48 + [(Gesture(0.05, 0.1, yaw), residual) for yaw in (12, 18, 24) + (30,) * 10]
    frames += [(FRONT, None)] * 30
    for index, (gesture, value) in enumerate(frames):
        if tally.frame(FrameObservation(index * DT, True, False, gesture, True, 0.9, 1.0, value)).finished:
            break  # as the session does
    return tally.finish(), tally.trace, tally.challenge.events


def reasons(m, policy=P):
    return reasons_for(m, policy, scores_of(m, policy))


def test_a_turn_with_3d_motion_passes_and_a_planar_one_fails_the_challenge():
    m, _, _ = turn_session(0.04)
    assert "planar_motion" not in reasons(m) and m.turn_residuals == {"turn_left": 0.04}
    assert scores_of(m, P)["planar_residual_turn_left"] == 0.04
    m, trace, events = turn_session(0.004)
    assert m.planar_motion and m.challenge_failure == "planar_motion" and "planar_motion" in reasons(m)
    assert trace.frames[-1].t < 2.2  # the challenge stopped at the turn (from 1.6 s), the smile was never asked
    [failed] = [e for e in events if e.event == "failed"]
    assert failed.step == "turn_left" and failed.detail.startswith("planar residual 0.0040")
    assert event_detail(failed.code, failed.values, "pt").startswith("resíduo planar 0.0040")


def test_a_turn_the_flow_could_not_follow_is_not_shown_3d():
    m, _, _ = turn_session(None)
    assert m.planar_motion and "planar_motion" in reasons(m)


def test_the_replay_re_applies_the_residual_threshold():
    m, trace, _ = turn_session(0.03)
    again = SessionTrace.from_dict(json.loads(json.dumps(trace.to_dict())))
    assert again == trace and again.head_motion
    assert replay(again, P).measurements == m
    stricter = replay(again, P.replace(planar_residual_min=0.05))
    assert stricter.exact and "planar_motion" in stricter.reasons(P)
    assert "planar_motion" not in replay(again, P.replace(planar_residual_min=0.02)).reasons(P)


def test_an_older_trace_without_residuals_replays_without_the_check():
    _, trace, _ = turn_session(None, head_motion=False)
    old = trace.to_dict()
    del old["head_motion"], old["frames"]["planar_residual"]
    replayed = replay(SessionTrace.from_dict(old), P)
    assert not replayed.measurements.planar_motion and "planar_motion" not in replayed.reasons(P)


def test_the_reason_has_words_in_both_languages():
    assert "planar_motion" in REASONS
    assert TEXT["planar_motion"]["pt"] and TEXT["planar_motion"]["en"]


def test_peak_is_the_frame_of_largest_yaw_with_a_residual():
    peak = TurnPeak()
    for yaw, residual in ((15, 0.05), (32, 0.03), (25, 0.002), (40, None)):
        peak.observe(yaw, residual)
    motion = peak.conclude("turn_left", 1.0, P)
    assert (motion.peak_yaw, motion.residual, motion.planar) == (32, 0.03, False)


def test_the_evaluation_command_refuses_bad_input_in_one_line(tmp_path, capsys):
    from liveness.cli import main

    assert main(["headmotion-eval", "--data", str(tmp_path / "missing")]) == 1
    assert main(["headmotion-eval", "--trials", "0"]) == 1
    errors = capsys.readouterr().err.strip().splitlines()
    assert errors == [f"error: data folder not found: {tmp_path / 'missing'}", "error: --trials must be at least 1"]
