"""Which models look at which frame of a session, and the face between their looks.

The landmarker (about 9 ms a frame) and YuNet (about 4 ms) are most of a
frame's cost, yet on most frames neither can change what the session decides:
a neutral face, a smile and a turn are held for 200-600 ms, a blink's open
eyes before and after are single frames that stay open for long, and a lost or
second face shows on the next look. So (the periods are policy fields):

- the landmarker runs every ``landmarks_every_n``-th frame, and on every frame
  while no face is tracked; while the challenge waits for a blink's closed
  eyes (a blink closes the eyes for one to four frames: a skipped frame could
  be the only one) also on every frame whose eye regions changed since the
  landmarker's last look (:class:`EyeWatch`): a frame whose eyes look as they
  did then holds no closing or opening that the last look did not;
- YuNet runs every ``detection_every_n``-th frame, and on every frame while no
  face is tracked or a second face was seen, and when the landmarker lost the
  face (the landmarker looks on each of these frames too); and when an
  identity sample is due (SFace aligns on YuNet's five points), so identity is
  sampled on the same frames as with every model on every frame;
- between YuNet's looks the face box is YuNet's last box moved and scaled with
  the landmarks' box (:class:`FaceTrack`), so the quality gates and the passive
  crop see the box they were calibrated on; between the landmarker's looks the
  challenge sees the last measured gesture.

With every period at 1 (:data:`EVERY_FRAME`) the session runs every model on
every frame, as before this schedule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from .challenge import PROMPT, Step
from .detection import Face
from .policy import Policy

# The schedule that runs every model on every frame (policy 2026.11.x and before):
# ``policy.replace(**EVERY_FRAME)``, e.g. for the bench's reference.
EVERY_FRAME = {"detection_every_n": 1, "landmarks_every_n": 1, "passive_every_n": 1}

# The instruction during which the landmarker looks on every frame: a blink closes the
# eyes for one to four frames, so a skipped frame could be the only closed one.
WATCHED_PHASES = frozenset({PROMPT[Step.BLINK]})


@dataclass(frozen=True)
class Looks:
    """What runs on one frame."""

    detection: bool
    landmarks: bool


class Schedule:
    """When each model last looked, and so which are due on the next frame.

    Periods count analysed frames, and also time at ``policy.video_analysis_fps``:
    when frames come slower (the live page drops frames while the engine is
    busy), a model still looks every ``period / video_analysis_fps`` seconds.
    A detection frame is also a landmarks frame, so that YuNet's box is anchored
    to landmarks of the same frame (except one only for an identity sample).
    """

    def __init__(self, policy: Policy):
        self.policy = policy
        self._last = {"detection": None, "landmarks": None}  # (frame index, t) of the last look

    def _due(self, model: str, period: int, index: int, t: float) -> bool:
        last = self._last[model]
        return last is None or index - last[0] >= period or \
            t - last[1] >= period / self.policy.video_analysis_fps - 1e-6

    def plan(self, index: int, t: float, face: bool, landmarks: bool, several: bool,
             instruction: str | None, identity_due: bool = False,
             eyes_changed: Callable[[], bool] = lambda: True) -> Looks:
        """The models due on the ``index``-th frame, at ``t``.

        face, landmarks: the previous frame had a face, and its landmarks; several:
        the last detection saw a second face; instruction: the challenge's phase
        after the previous frame; identity_due: an identity sample is due (YuNet
        looks for SFace, so the sampled frames are those of every frame);
        eyes_changed: whether this frame's eyes differ from the landmarker's last
        look (:meth:`EyeWatch.changed`), asked only while a blink is awaited.
        """
        p = self.policy
        detection = not face or several or self._due("detection", p.detection_every_n, index, t)
        return Looks(detection or identity_due, detection or not landmarks
                     or (instruction in WATCHED_PHASES and eyes_changed())
                     or self._due("landmarks", p.landmarks_every_n, index, t))

    def looked(self, model: str, index: int, t: float) -> None:
        self._last[model] = (index, t)


class FaceTrack:
    """The face between YuNet's looks: its last box and five points, carried by the
    landmarks' bounding box (both relative to it), with YuNet's score."""

    def __init__(self):
        self._relative: tuple[np.ndarray, np.ndarray, float] | None = None

    def anchor(self, face: Face | None, mesh_box: tuple[float, float, float, float] | None) -> None:
        """A detection frame: remember ``face`` relative to the landmarks' box (forget it
        when either is missing or they are not the same face)."""
        self._relative = None
        if face is None or mesh_box is None:
            return
        mx, my, mw, mh = mesh_box
        cx, cy = face.center
        if mw <= 0 or mh <= 0 or not (mx <= cx <= mx + mw and my <= cy <= my + mh):
            return
        origin, size = np.array([mx, my]), np.array([mw, mh])
        x, y, w, h = face.box
        box = np.array([(x - mx) / mw, (y - my) / mh, w / mw, h / mh])
        self._relative = (box, (face.landmarks - origin) / size, face.score)

    def follow(self, mesh_box: tuple[float, float, float, float] | None) -> Face | None:
        """The face on a frame where only the landmarker looked; None when not anchored."""
        if self._relative is None or mesh_box is None:
            return None
        box, points, score = self._relative
        mx, my, mw, mh = mesh_box
        return Face(box=(mx + box[0] * mw, my + box[1] * mh, box[2] * mw, box[3] * mh),
                    landmarks=(points * np.array([mw, mh]) + np.array([mx, my])).astype(np.float32),
                    score=score)


# Eye corners of the 478-point mesh (outer, inner): the person's right eye, then the left.
EYE_CORNERS = ((33, 133), (362, 263))
# An eye's region: the corners' distance wide times these factors, around their middle,
# then shrunk to EYE_PATCH (averaging away the camera's pixel noise).
EYE_REGION = (1.6, 1.0)
EYE_PATCH = (16, 10)


class EyeWatch:
    """The eyes as the landmarker last saw them, to tell whether a frame can hold a blink's
    closing or opening that the landmarker has not seen.

    :meth:`looked` keeps the frame the landmarker measured and its landmarks; :meth:`changed`
    compares both eye regions of a later frame, placed by those landmarks, with the same
    regions of that frame: their mean absolute grey difference, over
    ``policy.blink_watch_eye_change``, means the lids (or the head, or the light) moved.
    Comparing with the last look, not the previous frame, lets a slow closing add up until
    it is seen. The last look's regions are cut only when first compared: outside a blink's
    watch nothing is asked.
    """

    def __init__(self, policy: Policy):
        self._limit = policy.blink_watch_eye_change
        self._look: tuple[np.ndarray, np.ndarray | None] | None = None  # (grey frame, landmarks)
        self._regions: list[tuple[int, int, int, int]] = []
        self._patches: np.ndarray | None = None  # the last look's regions, once cut

    def looked(self, grey: np.ndarray, landmarks: np.ndarray | None) -> None:
        """The landmarker measured ``grey`` (landmarks None: it found no face there)."""
        self._look, self._patches = (grey, landmarks), None

    def _regions_of(self, shape: tuple[int, ...], landmarks: np.ndarray) -> list[tuple[int, int, int, int]]:
        """Both eyes' regions in a frame of ``shape`` (none when one is too small to compare)."""
        height, width = shape[:2]
        regions = []
        for outer, inner in EYE_CORNERS:
            (x0, y0), (x1, y1) = landmarks[outer, :2], landmarks[inner, :2]
            span = float(np.hypot(x1 - x0, y1 - y0))
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            half_w, half_h = span * EYE_REGION[0] / 2, span * EYE_REGION[1] / 2
            region = (max(int(cx - half_w), 0), max(int(cy - half_h), 0),
                      min(int(cx + half_w) + 1, width), min(int(cy + half_h) + 1, height))
            if region[2] - region[0] < 2 or region[3] - region[1] < 2:
                return []
            regions.append(region)
        return regions

    def _cut(self, grey: np.ndarray) -> np.ndarray:
        return np.stack([cv2.resize(grey[y0:y1, x0:x1], EYE_PATCH, interpolation=cv2.INTER_AREA)
                         for x0, y0, x1, y1 in self._regions]).astype(np.int16)

    def changed(self, grey: np.ndarray) -> bool:
        """Whether ``grey``'s eye regions differ from the last look's (True without one, and
        when the frame size changed: a WebRTC sender may scale its video mid-stream)."""
        if self._look is None or self._look[1] is None or grey.shape != self._look[0].shape:
            return True
        if self._patches is None:
            self._regions = self._regions_of(grey.shape, self._look[1])
            if not self._regions:
                return True
            self._patches = self._cut(self._look[0])
        return float(np.abs(self._cut(grey) - self._patches).mean()) > self._limit
