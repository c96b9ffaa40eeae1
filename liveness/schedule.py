"""Which models look at which frame of a session, and the face between their looks.

The landmarker (about 9 ms a frame) and YuNet (about 4 ms) are most of a
frame's cost, yet on most frames neither can change what the session decides:
a neutral face, a smile and a turn are held for 200-600 ms, a blink's open
eyes before and after are single frames that stay open for long, and a lost or
second face shows on the next look. So (the periods are policy fields):

- the landmarker runs every ``landmarks_every_n``-th frame, and on every frame
  while no face is tracked or while the challenge waits for a blink's closed
  eyes (a blink closes the eyes for one to four frames: a skipped frame could
  be the only one);
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

from dataclasses import dataclass

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
             instruction: str | None, identity_due: bool = False) -> Looks:
        """The models due on the ``index``-th frame, at ``t``.

        face, landmarks: the previous frame had a face, and its landmarks; several:
        the last detection saw a second face; instruction: the challenge's phase
        after the previous frame; identity_due: an identity sample is due (YuNet
        looks for SFace, so the sampled frames are those of every frame).
        """
        p = self.policy
        detection = not face or several or self._due("detection", p.detection_every_n, index, t)
        return Looks(detection or identity_due, detection or not landmarks or instruction in WATCHED_PHASES
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
