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
    passive_every_n: int = 1
    passive_min_frames: int = 5

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
