"""Head motion is 3D: a head turn must move the face mesh as a head does, not as a plane.

A flat photo or screen tilted or swung in front of the camera moves every
point of the face it shows by one and the same homography (the image of a
plane under any camera motion). A turning head does not: the nose, the eye
sockets, the cheeks and the jaw line lie at different depths, so they move
by different amounts (parallax) and no homography maps the frontal face mesh
onto the turned one.

So the session keeps the latest frontal face mesh (:class:`HeadMotion`),
follows its points through the image with optical flow while the head turns,
and on every turned frame fits a homography from the frontal points to where
they are now (:func:`planar_residual`): the fit's RMS error over the face's
size is the frame's *planar residual*, recorded in the trace. The flow, not
the landmarker's own points on the turned frame, because the landmarker fits
a 3D face to whatever it sees: on a swung photo its points move as a head's
would (residuals as large as a real turn's), while the image does not. When a
turn step passes, the residual at the turn's peak (the frame of largest yaw
in the asked direction, :class:`TurnPeak`) must reach
``policy.planar_residual_min``; below it, or with no residual at all (the
flow lost the face), the turn is ``planar_motion``.

The threshold and how it was calibrated are in ``policy.py``; the numbers
come from ``python -m liveness headmotion-eval``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .i18n import event_detail
from .policy import Policy

# The fit uses the 468 points of the face mesh, not the 10 iris points after
# them: the irises follow the gaze, which is not head motion.
MESH_POINTS = 468


def face_size(points: np.ndarray) -> float:
    """Geometric mean of the width and height of the points' bounding box, in pixels."""
    width, height = points.max(axis=0) - points.min(axis=0)
    return float(np.sqrt(max(width, 0.0) * max(height, 0.0)))


def planar_residual(reference: np.ndarray, current: np.ndarray) -> float | None:
    """How far ``current`` is from a homography image of ``reference`` (two (N, 2) pixel point sets).

    The RMS distance between the current points and the least-squares
    homography's image of the reference points, divided by the current
    face's size: about 0 for a plane, a few hundredths for a head turned 20
    degrees. None when the fit is impossible (degenerate points).
    """
    reference = np.asarray(reference, dtype=np.float64)[:MESH_POINTS, :2]
    current = np.asarray(current, dtype=np.float64)[:MESH_POINTS, :2]
    size = face_size(current)
    if len(reference) < 4 or size <= 0:
        return None
    homography, _ = cv2.findHomography(reference, current, 0)
    if homography is None:
        return None
    mapped = cv2.perspectiveTransform(reference.reshape(-1, 1, 2), homography).reshape(-1, 2)
    rms = float(np.sqrt(np.mean(np.sum((mapped - current) ** 2, axis=1))))
    return rms / size


class HeadMotion:
    """The per-stream part (live and recorded video alike): the frontal reference and each frame's residual.

    The reference is the latest landmark set seen with ``|yaw|`` at most
    ``policy.head_motion_frontal_yaw_deg`` (the baseline's and the wait before
    a turn's prompt are such frames: a turn starts from rest). From there its points are followed
    through the image frame by frame with pyramidal Lucas-Kanade optical flow,
    kept only while the flow tracks back to where it started: the image's own
    motion, not the landmarker's reading of it (the landmarker fits a 3D face
    to whatever it sees, so its points on a swung photo move as a head's
    would). A frame turned further than the bound gets the planar residual of
    the tracked points against the reference. Not thread-safe: one per
    session, fed in order.
    """

    def __init__(self, policy: Policy):
        self._frontal_yaw = policy.head_motion_frontal_yaw_deg
        self._reference: np.ndarray | None = None  # (N, 2) float32 points of the frontal frame
        self._tracked: np.ndarray | None = None    # the same points now, where still tracked
        self._valid: np.ndarray | None = None      # (N,) bool: tracked since the reference
        self._grey: np.ndarray | None = None  # the previous frame's crop
        self._box = (0, 0, 0, 0)  # the flow's crop: x0, y0, x1, y1
        self._shape: tuple[int, ...] = ()

    def reset(self, grey: np.ndarray, landmarks: np.ndarray) -> None:
        """Take this (grey) frame's face mesh as the frontal reference."""
        points = np.asarray(landmarks)[TRACKED_POINTS, :2]
        height, width = grey.shape[:2]
        # Optical flow runs on a crop around the face (a turn moves it by less than its size).
        (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
        margin = FLOW_MARGIN * max(x1 - x0, y1 - y0)
        self._box = (max(int(x0 - margin), 0), max(int(y0 - margin), 0),
                     min(int(x1 + margin) + 1, width), min(int(y1 + margin) + 1, height))
        self._shape = grey.shape
        self._reference = np.ascontiguousarray(points - self._box[:2], dtype=np.float32)
        self._tracked = self._reference.copy()
        self._valid = np.ones(len(self._reference), bool)
        self._grey = self._crop(grey)

    def _crop(self, grey: np.ndarray) -> np.ndarray:
        x0, y0, x1, y1 = self._box
        return np.ascontiguousarray(grey[y0:y1, x0:x1])

    def track(self, grey: np.ndarray) -> float | None:
        """Follow the reference points into the grey frame ``grey``; their planar residual (None
        without a reference, or with fewer than ``MIN_TRACKED_POINTS`` still tracked)."""
        if self._reference is None or grey.shape != self._shape:
            return None
        crop = self._crop(grey)
        moved, found, _ = cv2.calcOpticalFlowPyrLK(self._grey, crop, self._tracked, None, **_FLOW)
        back, found_back, _ = cv2.calcOpticalFlowPyrLK(crop, self._grey, moved, None, **_FLOW)
        round_trip = np.linalg.norm(back - self._tracked, axis=1)
        self._valid &= (found.ravel() == 1) & (found_back.ravel() == 1) & (round_trip <= FLOW_ROUND_TRIP_PX)
        self._tracked, self._grey = moved, crop
        if self._valid.sum() < MIN_TRACKED_POINTS:
            return None
        return planar_residual(self._reference[self._valid], self._tracked[self._valid])

    def observe(self, grey: np.ndarray, landmarks: np.ndarray | None, yaw: float,
                measured: bool = True) -> float | None:
        """One (grey) frame with a face: the planar residual when the head is turned off the front
        (None on frontal frames, before any, or without landmarks). measured: the landmarks
        are this frame's (the schedule skips the landmarker on some frames; an earlier frame's
        mesh must not become the frontal reference of this image, while the flow follows every frame)."""
        if landmarks is None:
            return None
        if abs(yaw) <= self._frontal_yaw:
            if measured:
                self.reset(grey, landmarks)
            return None
        return self.track(grey)


# Lucas-Kanade settings: a 15-pixel window over 3 pyramid levels follows a
# face turning at a natural speed at 15-30 frames/s.
_FLOW = {"winSize": (15, 15), "maxLevel": 3,
         "criteria": (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03)}
FLOW_MARGIN = 0.5  # of the face's size, around it
# Every third mesh point: the same residuals on the shared clips as all 468, a third of the flow's cost.
TRACKED_POINTS = np.arange(0, MESH_POINTS, 3)
FLOW_ROUND_TRIP_PX = 1.0  # a point tracked forward then back must land this close to its start
MIN_TRACKED_POINTS = 40


@dataclass(frozen=True)
class TurnMotion:
    """The head-motion check of one passed turn step."""

    step: str
    t: float               # when the step passed
    peak_yaw: float        # degrees in the asked direction, at the peak frame
    residual: float | None  # the peak frame's planar residual; None when no frame of the turn had one
    planar: bool           # residual below policy.planar_residual_min (or none): not shown to be 3D

    @property
    def detail_code(self) -> tuple[str, dict[str, float]]:
        """The (i18n code, values) of what was measured (``challenge.ChallengeEvent``)."""
        if self.residual is None:
            return "motion_not_measured", {}
        return "planar_residual", {"residual": self.residual, "yaw": self.peak_yaw}

    @property
    def detail(self) -> str:
        return event_detail(*self.detail_code, "en")


class TurnPeak:
    """Follows one turn step on recorded values (live and replayed sessions alike): the peak frame's residual.

    Fed every frame of the step with its yaw signed to the asked direction
    and its recorded residual; :meth:`conclude` judges the step when it passes.
    A turn without any measured residual is not shown to be 3D, so it fails too.
    """

    def __init__(self) -> None:
        self._yaw = -np.inf
        self._residual: float | None = None

    def observe(self, signed_yaw: float, residual: float | None) -> None:
        if residual is not None and signed_yaw > self._yaw:
            self._yaw, self._residual = signed_yaw, residual

    def conclude(self, step: str, t: float, policy: Policy) -> TurnMotion:
        residual = self._residual
        planar = residual is None or residual < policy.planar_residual_min
        return TurnMotion(step, t, float(self._yaw) if residual is not None else float("nan"), residual, planar)
