"""The decision policy: every threshold in one versioned table.

A verdict records the policy version it was decided under, so a case can be
replayed and a threshold change audited. The AI team saves new versions from
the app (stored in the database); this module holds the shipped default.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    version: str = "2026.12.1"

    # Detection (YuNet score) and the detector's working width for video frames.
    detection_score: float = 0.7
    detection_width: int = 320

    # 1:1 matching, SFace cosine similarity. Calibrated on ../shared/data/verify
    # (python -m liveness calibrate; models/README.md): TAR 95.9 % (98 genuine
    # pairs), FAR 0 % (1387 impostor pairs) for any value in (0.319, 0.374];
    # SFace's published 0.363 lies inside, so it is kept.
    match_threshold: float = 0.363
    # The live face must stay the document's face: sampled frames compared with
    # the document embedding at this lower bound (live frames are blurrier).
    continuity_threshold: float = 0.30
    continuity_every_s: float = 0.5

    # Active challenge, on MediaPipe blendshapes (0..1) and head yaw (degrees).
    neutral_max_smile: float = 0.25
    neutral_hold_s: float = 0.6
    smile_min: float = 0.55
    smile_hold_s: float = 0.3
    blink_closed: float = 0.5
    blink_open: float = 0.25
    turn_yaw_deg: float = 20.0
    turn_hold_s: float = 0.2
    step_timeout_s: float = 10.0
    session_timeout_s: float = 45.0
    challenge_steps_min: int = 2
    challenge_steps_max: int = 3

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

    # Documents are large photos where faces are small.
    document_max_side: int = 1600

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "Policy":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown policy fields: {', '.join(sorted(unknown))}")
        return cls(**values)

    def digest(self) -> str:
        """Short hash of the values, to tell two tables under one version apart."""
        body = json.dumps(self.to_dict(), sort_keys=True).encode()
        return hashlib.sha256(body).hexdigest()[:12]

    def replace(self, **changes) -> "Policy":
        return dataclasses.replace(self, **changes)


DEFAULT_POLICY = Policy()
