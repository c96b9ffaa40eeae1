"""The decision policy: every threshold in one versioned table.

A verdict records the policy version it was decided under, so a case can be
replayed and a threshold change audited. The AI team saves new versions from
the app (stored in the database); this module holds the shipped default.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import unicodedata
from dataclasses import dataclass


# Fields of earlier versions, no longer read: a stored policy that has them still loads.
# neutral_hold_s: the neutral face is now measured in the baseline and must hold from each prompt on.
RETIRED_FIELDS = ("neutral_hold_s",)


@dataclass(frozen=True)
class Policy:
    # 2026.12.1: challenge locked to its prompts (issue 11), planar_motion, match_uncertain band,
    # per-frame schedule (issue 13), insufficient_frames; passive model and threshold unchanged.
    # 2026.12.2: while a blink is awaited the landmarker skips frames whose eyes did not change.
    version: str = "2026.12.2"

    # Detection (YuNet score) and the detector's working width for video frames.
    detection_score: float = 0.7
    detection_width: int = 320

    # 1:1 matching, SFace cosine similarity. Calibrated on ../shared/data/verify and on
    # ID-card renderings of its photos (python -m liveness calibrate --documents 2;
    # models/matching/README.md): on photo pairs FAR 0 % (1387 impostor pairs) with the
    # best TAR (95.9 %, 98 genuine) for any value in (0.319, 0.374]; SFace's published
    # 0.363 lies inside, so it is kept. Document impostors reach 0.364, so within
    # match_uncertain_margin of the threshold, on either side, the similarity decides
    # nothing: the case goes to review as "match_uncertain" (matching.match_reason).
    # A match is accepted from 0.393: FAR 0 on 1387 photo and 5548 document impostor
    # pairs (<= 0.22 % and 0.054 %, rule of three); document FRR 16.3 % (mismatch).
    match_threshold: float = 0.363
    match_uncertain_margin: float = 0.03
    # The live face must stay the document's face: sampled frames compared with
    # the document embedding at this lower bound (live frames are blurrier).
    continuity_threshold: float = 0.30
    continuity_every_s: float = 0.5

    # Active challenge, on MediaPipe blendshapes (0..1) and head yaw (degrees),
    # relative to the customer's own neutral, measured over the first
    # baseline_s of face frames (clamped to neutral_max_smile, blink_open and
    # turn_yaw_deg/2: see challenge.Baseline). A smile is reached at
    # max(smile_min, neutral + smile_rise), the face is neutral up to
    # max(neutral_max_smile, neutral + neutral_margin); likewise for the eyes;
    # yaw is measured from the neutral's yaw. Read off the signal traces of the
    # six live clips in the shared data (video/*, replay_videos/*/live,
    # jomariya, wolfhuo; python -m liveness attack-sim --clips prints them):
    # resting (first-second median) smile 0.00, blink 0.06-0.24, yaw -3..+9°;
    # smiles peak 0.49-0.65 (apfol, cap12, jomariya; cap13's half smile 0.38;
    # smile_min was 0.55, which apfol's smile missed), blinks 0.61-0.74, so
    # blink_closed 0.5 and a rise of 0.3 over the resting level (0.54 for the
    # 0.24 person) both hold.
    baseline_s: float = 1.0
    neutral_max_smile: float = 0.25
    neutral_margin: float = 0.12
    smile_min: float = 0.40
    smile_rise: float = 0.30
    smile_hold_s: float = 0.3
    blink_closed: float = 0.5
    blink_open: float = 0.25
    blink_rise: float = 0.3
    blink_open_margin: float = 0.1
    turn_yaw_deg: float = 20.0
    turn_hold_s: float = 0.2
    # Responses locked to the prompt (challenge.py). Each prompt appears a
    # random delay after the previous step (drawn with secrets; the first one
    # overlaps the baseline by prompt_delay_min_s); the gesture's onset must
    # come reaction_min_s..reaction_max_s + prompt_round_trip_s after the frame
    # showing the prompt was sent, and the gesture be completed within
    # gesture_complete_s of its onset. Chosen with python -m liveness
    # attack-sim (models/README.md):
    # - reaction_min_s: an honest onset reaches the server at least ~0.5 s after
    #   the prompt (network, a choice reaction of at least ~0.35 s, the signal
    #   leaving rest); earlier, the gesture was already on its way;
    # - reaction_max_s: the slower customers (ex-Gaussian tail) pass 98.8 % of
    #   challenges at 2.0, 95.5 % at 1.8;
    # - prompt_round_trip_s: WebRTC on a mobile network (RTT 0.1-0.3 s, jitter
    #   buffer, capture) plus the live page's added delay (a few ms, reported
    #   on the page, tests/test_browser_app.py);
    # - the delays: longer waits stop more looping replays (a loop must still be
    #   holding its last gesture when the next prompt comes) but lengthen every
    #   check: at 0.4-1.2 s the median honest check takes 8 s;
    # - gesture_complete_s: a slow honest turn takes 2 s from its onset to 20
    #   degrees (tranvanluyt), a long blink as much.
    prompt_delay_min_s: float = 0.4
    prompt_delay_max_s: float = 1.2
    reaction_min_s: float = 0.4
    reaction_max_s: float = 2.0
    prompt_round_trip_s: float = 0.4
    gesture_complete_s: float = 2.5
    # Head motion is 3D (liveness/headmotion.py): at a passed turn's peak, the RMS error of
    # the best homography from the frontal face mesh (followed by optical flow) to the turned
    # one, over the face's size, must reach planar_residual_min, or the turn was a tilted or
    # swung photo or screen (planar_motion). Calibrated by `python -m liveness headmotion-eval
    # --trials 2 --frontal-per-clip 2`: the 8 real turns of the shared live clips 0.022-0.051
    # (the 16 of the screen replays, real heads recorded, 0.023-0.079); 152 photos and frontal
    # frames swung 15-40 degrees with tilt, pan and zoom 0.001-0.010, and 0.002-0.015 for the
    # 128 photo swings JPEG-compressed at quality 60 (`--photos-only --jpeg-quality 60`), as a
    # camera or a stream would. 0.018 lies between: 1.2x under the lowest real turn (a bare
    # 20-degree one), 1.2x over the highest compressed swing. Swings up to 60 degrees
    # (`--max-swing 60`) reach 0.025, but none of them made the landmarker read a 20-degree turn.
    planar_residual_min: float = 0.018
    # The frontal reference is the latest mesh with |yaw| at most this (a turn starts from
    # rest, under turn_yaw_deg / 2 from the customer's own baseline yaw).
    head_motion_frontal_yaw_deg: float = 10.0
    step_timeout_s: float = 10.0
    session_timeout_s: float = 45.0
    # Steps per challenge (distinct, at least one smile or turn: challenge.random_steps).
    challenge_steps_min: int = 3
    challenge_steps_max: int = 3
    # A signed challenge script for a recording (challenge_script.py) is valid this long
    # after it is issued: enough to record, not to keep scripts for later.
    challenge_script_ttl_s: float = 900.0

    # Passive liveness: per-frame live probability aggregated over the session.
    # The EER point (0.257) of the shipped recipe's pooled subject-disjoint 4-fold
    # cross-validation (3-CNN ensemble fused with texture); each fold's threshold
    # fixed from the other folds alone fell in 0.19-0.31 (models/passive/MODEL_CARD.md).
    passive_threshold: float = 0.26
    passive_aggregate: str = "median"  # "median" or "trimmed_mean"
    passive_every_n: int = 3  # of the frames with a face; was 1 (see the schedule below)
    passive_min_frames: int = 5

    # Per-frame schedule (liveness/schedule.py): which frames the landmarker and YuNet
    # look at; with both at 1 and passive_every_n at 1 (schedule.EVERY_FRAME) every model
    # runs on every frame, as up to 2026.11.2. The landmarker also runs on every frame
    # while the challenge waits for closed eyes or no face is tracked; YuNet while no face
    # is tracked, a second face was seen or an identity sample is due. Periods count frames, and time at video_analysis_fps when frames come
    # slower (the live page drops frames while busy). Chosen with
    # `python -m liveness schedules` (same challenge events, verdicts and passive score
    # within 0.05 on every shared clip) and timed by `python -m liveness bench`.
    landmarks_every_n: int = 3
    detection_every_n: int = 6
    # While a blink is awaited, the landmarker looks on each frame whose eye regions differ
    # from its last look's by more than this mean absolute grey level (schedule.EyeWatch; 0:
    # on every frame that is not an exact repeat).
    blink_watch_eye_change: float = 1.5

    # Quality gates, on the tracked face.
    min_face_height_frac: float = 0.22
    max_center_offset_frac: float = 0.22
    min_brightness: float = 60.0
    max_brightness: float = 210.0
    min_sharpness: float = 25.0  # variance of the Laplacian on the face crop
    min_quality_fraction: float = 0.6  # of processed frames passing all gates

    # A frozen stream (the same frame over and over): mean absolute difference
    # of consecutive 64x48 grey thumbnails.
    frozen_max_diff: float = 0.02  # exact repeats; edited webcam clips already go below 0.1
    frozen_min_fraction: float = 0.9

    # A recorded video is analysed at this many frames per second at most
    # (a blink can last only two frames at 25 fps: thinning below the
    # camera's rate loses blinks).
    video_analysis_fps: float = 30.0

    # A live check analysed more slowly than this (frames over the session's
    # duration: a server overloaded by many customers at once) goes to review as
    # insufficient_frames instead of being decided on too sparse a sample. Not
    # calibrated on data: at 10 frames/s a frame comes every 100 ms, about one
    # blink's closure, and the holds (smile 0.3 s, turn 0.2 s) still span 2-3
    # frames; the live page normally runs at 15-30 (python -m liveness loadtest).
    min_analysed_fps: float = 10.0

    # Documents are large photos where faces are small.
    document_max_side: int = 1600
    # The holder's face on a document or selfie with several faces (matching.main_face):
    # the largest face when it has at least main_face_area_ratio times the next one's
    # area (ID cards' ghost portraits are 4-9x smaller), or main_face_central_area_ratio
    # times and it is nearer the image centre (a bystander behind the customer: NUAA
    # live/0011 has one at 1/2.4 of the customer's area, at the frame's edge). Two
    # faces of similar size stay "multiple_faces": which one is the holder is not clear.
    # Enrolment stops trying other views (turns, sizes) once a face scores this much:
    # on the verify photos and aksultan's sideways webcam crops (rotated in all four
    # ways), the upright face scored 0.89-0.95 and a wrongly turned one at most 0.92,
    # always below the right turn, which is why the best view wins.
    enrol_confident_score: float = 0.9
    main_face_area_ratio: float = 2.5
    main_face_central_area_ratio: float = 1.8

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "Policy":
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in values.items() if k not in RETIRED_FIELDS}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown policy fields: {', '.join(sorted(unknown))}")
        # Text fields are names an admin types; a control character (NUL among them) is a typo
        # PostgreSQL would refuse to store, so it is refused here, the same on every backend.
        for name, value in values.items():
            if isinstance(value, str) and any(unicodedata.category(c) == "Cc" for c in value):
                raise ValueError(f"policy field {name} holds a control character")
        return cls(**values)

    def digest(self) -> str:
        """Short hash of the values, to tell two tables under one version apart."""
        body = json.dumps(self.to_dict(), sort_keys=True).encode()
        return hashlib.sha256(body).hexdigest()[:12]

    def replace(self, **changes) -> "Policy":
        return dataclasses.replace(self, **changes)


DEFAULT_POLICY = Policy()
