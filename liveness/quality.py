"""Quality gates on the tracked face, each with an instruction the customer can act on."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .detection import Face
from .policy import Policy


@dataclass(frozen=True)
class QualityReport:
    """issues: i18n keys (face_too_small, face_off_center, too_dark, too_bright, blurry)."""

    issues: tuple[str, ...]
    face_height_frac: float
    center_offset_frac: float
    brightness: float
    sharpness: float

    @property
    def ok(self) -> bool:
        return not self.issues


def assess_quality(frame: np.ndarray, face: Face, policy: Policy) -> QualityReport:
    h, w = frame.shape[:2]
    x, y, fw, fh = face.box
    cx, cy = face.center
    height_frac = fh / h
    offset = max(abs(cx - w / 2) / w, abs(cy - h / 2) / h)
    crop = cv2.cvtColor(face.crop(frame, 1.0), cv2.COLOR_BGR2GRAY)
    # Sharpness on a fixed-size crop so it does not depend on the face's size.
    crop = cv2.resize(crop, (112, 112), interpolation=cv2.INTER_AREA)
    brightness = float(crop.mean())
    sharpness = float(cv2.Laplacian(crop, cv2.CV_64F).var())
    issues = []
    if height_frac < policy.min_face_height_frac:
        issues.append("face_too_small")
    if offset > policy.max_center_offset_frac:
        issues.append("face_off_center")
    if brightness < policy.min_brightness:
        issues.append("too_dark")
    elif brightness > policy.max_brightness:
        issues.append("too_bright")
    if sharpness < policy.min_sharpness:
        issues.append("blurry")
    return QualityReport(tuple(issues), height_frac, offset, brightness, sharpness)
