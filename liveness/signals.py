"""Face signals from MediaPipe FaceLandmarker: expressions, head pose, mouth box.

Smile and blink come from the blendshapes (mouthSmileLeft/Right,
eyeBlinkLeft/Right, averaged); yaw/pitch/roll from the facial transformation
matrix; the mouth box ("smile rectangle") from the outer-lip landmarks.
"""

from __future__ import annotations

import atexit
import logging
import math
import queue
import threading
import weakref
from dataclasses import dataclass, field

import cv2
import numpy as np

from .metrics import timed
from .registry import model_path

log = logging.getLogger(__name__)

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
        _open_landmarkers.add(self._landmarker)
        # A tracker nobody closed (a browser session dropped mid-check) is closed on the closer
        # thread once collected, never where the collector happens to run (see _open_landmarkers).
        _start_closer()
        self._finalizer = weakref.finalize(self, _closing.put, self._landmarker)
        self._finalizer.atexit = False

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
            self._finalizer.detach()
            _close(self._landmarker)
            self._landmarker = None

    def __enter__(self) -> "FaceSignalTracker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# Every FaceLandmarker not yet closed, held strongly. MediaPipe's own finaliser must never
# run: its close() waits on a one-thread executor, and when the landmarker is collected in a
# reference cycle (a session's callbacks make them), the collector has already told that
# executor's thread to exit, so the wait never ends and blocks the thread that collected,
# which may be the web server's event loop. Held here, the landmarker, its dispatcher and
# executor stay out of any garbage until they are closed on purpose.
_open_landmarkers: set = set()
_open_lock = threading.Lock()  # held while closing: each landmarker is closed once, by one thread
# What the collector found, for the closer thread. The finaliser only puts here: it runs wherever
# the collector does, holding whatever that thread holds, and SimpleQueue.put is safe there.
_closing: queue.SimpleQueue = queue.SimpleQueue()
_closer_lock = threading.Lock()
_closer: threading.Thread | None = None


def _close(landmarker) -> None:
    with _open_lock:
        if landmarker in _open_landmarkers:
            landmarker.close()
            _open_landmarkers.discard(landmarker)


def _start_closer() -> None:
    global _closer
    with _closer_lock:
        if _closer is None:
            _closer = threading.Thread(target=_close_queued, name="landmarker-closer", daemon=True)
            _closer.start()


def _close_queued() -> None:
    while True:
        landmarker = _closing.get()
        try:
            _close(landmarker)
        except RuntimeError as error:
            # The interpreter is exiting (its thread pools were shut down before the atexit
            # handlers run): nothing is left to close for.
            if not threading.main_thread().is_alive() or "cannot schedule new futures" in str(error):
                return
            log.exception("a collected landmarker did not close")


@atexit.register
def _close_open_landmarkers() -> None:
    """Close what is still open while MediaPipe can still do it (its finaliser would run too
    late and print a traceback)."""
    for landmarker in list(_open_landmarkers):
        _close(landmarker)
