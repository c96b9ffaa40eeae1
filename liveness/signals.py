"""Face signals from MediaPipe FaceLandmarker: expressions, head pose, mouth box.

Smile and blink come from the blendshapes (mouthSmileLeft/Right,
eyeBlinkLeft/Right, averaged); yaw/pitch/roll from the facial transformation
matrix; the mouth box ("smile rectangle") from the outer-lip landmarks.
"""

from __future__ import annotations

import atexit
import math
import weakref
from dataclasses import dataclass, field

import cv2
import numpy as np

from .metrics import timed
from .registry import model_path

# Outer lip contour of the 478-point face mesh.
_OUTER_LIP = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185]


@dataclass(frozen=True)
class FaceSignals:
    """Per-frame expression and pose of the first face MediaPipe found.

    smile, blink: 0..1. yaw: degrees, positive when the person turns their
    head to their own left (the nose moves to the image's right on an
    unmirrored camera frame); pitch positive looking up; roll positive
    tilting to the person's left. mouth_box: (x, y, w, h) in pixels.
    landmarks: the 478 face-mesh points, (478, 3) float32: x, y in pixels,
    z (depth relative to the face's centre, negative towards the camera) in
    the same scale as x; None when not measured.
    """

    smile: float
    blink: float
    yaw: float
    pitch: float
    roll: float
    mouth_box: tuple[float, float, float, float]
    face_box: tuple[float, float, float, float]
    landmarks: np.ndarray | None = field(default=None, compare=False, repr=False)


def _pose_degrees(matrix: np.ndarray) -> tuple[float, float, float]:
    r = np.asarray(matrix, dtype=np.float64)[:3, :3]
    yaw = math.degrees(math.atan2(-r[2, 0], math.hypot(r[2, 1], r[2, 2])))
    pitch = math.degrees(math.atan2(r[2, 1], r[2, 2]))
    roll = math.degrees(math.atan2(r[1, 0], r[0, 0]))
    return yaw, pitch, roll


def _box(points: np.ndarray) -> tuple[float, float, float, float]:
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    return float(x0), float(y0), float(x1 - x0), float(y1 - y0)


def _import_mediapipe():
    """MediaPipe's Tasks API, without the optional TensorFlow import it attempts.

    With TensorFlow installed (for training), ``import mediapipe`` would load
    it too: seconds of start-up and hundreds of MB in every process that only
    tracks faces. Tasks does not need it, so its import is refused meanwhile.
    """
    import sys

    blocked = "tensorflow" not in sys.modules
    if blocked:
        sys.modules["tensorflow"] = None  # makes "import tensorflow" raise ImportError
    try:
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision
    finally:
        if blocked:
            del sys.modules["tensorflow"]
    return mp, BaseOptions, vision


class FaceSignalTracker:
    """A FaceLandmarker in VIDEO mode for one stream.

    VIDEO mode tracks between frames and needs strictly increasing
    timestamps, so every stream owns its tracker; it is not thread-safe.
    Call :meth:`close` (or use it as a context manager) to free the graph.
    """

    def __init__(self, num_faces: int = 1):
        mp, BaseOptions, vision = _import_mediapipe()
        self._mp = mp
        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model_path("face_landmarker"))),
            running_mode=vision.RunningMode.VIDEO,
            num_faces=num_faces,
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
        )
        self._landmarker = vision.FaceLandmarker.create_from_options(options)
        self._last_ms = -1
        _open_trackers.add(self)

    @timed("landmarks")
    def process(self, frame_bgr: np.ndarray, timestamp_s: float) -> FaceSignals | None:
        """Signals of the first face in the frame, or None when no face is found."""
        ms = max(int(round(timestamp_s * 1000)), self._last_ms + 1)
        self._last_ms = ms
        rgb = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=rgb)
        result = self._landmarker.detect_for_video(image, ms)
        if not result.face_landmarks:
            return None
        h, w = frame_bgr.shape[:2]
        landmarks = np.array([(p.x * w, p.y * h, p.z * w) for p in result.face_landmarks[0]], dtype=np.float32)
        points = landmarks[:, :2]
        shapes = {c.category_name: c.score for c in result.face_blendshapes[0]}
        yaw, pitch, roll = _pose_degrees(result.facial_transformation_matrixes[0])
        return FaceSignals(
            smile=(shapes["mouthSmileLeft"] + shapes["mouthSmileRight"]) / 2,
            blink=(shapes["eyeBlinkLeft"] + shapes["eyeBlinkRight"]) / 2,
            yaw=yaw, pitch=pitch, roll=roll,
            mouth_box=_box(points[_OUTER_LIP]),
            face_box=_box(points),
            landmarks=landmarks,
        )

    def close(self) -> None:
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None

    def __enter__(self) -> "FaceSignalTracker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# Trackers still open when the interpreter exits (an app session nobody ended) are
# closed while MediaPipe can still do it; its own finaliser would run too late and
# print a traceback.
_open_trackers: weakref.WeakSet[FaceSignalTracker] = weakref.WeakSet()


@atexit.register
def _close_open_trackers() -> None:
    for tracker in list(_open_trackers):
        tracker.close()
