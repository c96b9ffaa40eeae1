"""Face detection with YuNet (``cv2.FaceDetectorYN``): boxes, 5 landmarks, score.

Frames are detected on a downscaled copy (a selfie face is large) and the
results mapped back to the original pixels; documents use a larger working
size because the face on an ID card is small.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np

from .metrics import timed
from .policy import DEFAULT_POLICY
from .registry import model_path


@dataclass(frozen=True)
class Face:
    """One detected face in original-image pixels.

    box: (x, y, w, h); landmarks: 5x2 array (right eye, left eye, nose tip,
    right and left mouth corners, as YuNet orders them); score: 0..1.
    """

    box: tuple[float, float, float, float]
    landmarks: np.ndarray
    score: float

    @property
    def area(self) -> float:
        return self.box[2] * self.box[3]

    @property
    def center(self) -> tuple[float, float]:
        x, y, w, h = self.box
        return x + w / 2, y + h / 2

    def as_yunet_row(self) -> np.ndarray:
        """The 15-value row that ``cv2.FaceRecognizerSF.alignCrop`` expects."""
        return np.array([*self.box, *self.landmarks.reshape(-1), self.score], dtype=np.float32)

    def crop(self, image: np.ndarray, scale: float = 1.0) -> np.ndarray:
        """Square crop of ``scale`` times the box's longer side, padded at borders."""
        cx, cy = self.center
        side = max(self.box[2], self.box[3]) * scale
        x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
        x1, y1 = int(round(cx + side / 2)), int(round(cy + side / 2))
        h, w = image.shape[:2]
        pad = [max(0, -y0), max(0, y1 - h), max(0, -x0), max(0, x1 - w)]
        region = image[max(0, y0):min(h, y1), max(0, x0):min(w, x1)]
        if any(pad):
            region = cv2.copyMakeBorder(region, *pad, cv2.BORDER_CONSTANT, value=0)
        return region


class FaceDetector:
    """A YuNet instance. Not thread-safe: one per thread or per stream."""

    def __init__(self, score_threshold: float = DEFAULT_POLICY.detection_score,
                 nms_threshold: float = 0.3, top_k: int = 50):
        self._net = cv2.FaceDetectorYN.create(
            str(model_path("yunet")), "", (320, 320), score_threshold, nms_threshold, top_k)
        self._size: tuple[int, int] | None = None

    @timed("detection")
    def detect(self, image: np.ndarray, max_side: int = 320) -> list[Face]:
        """Faces in a BGR image, largest first, detected at ``max_side`` pixels at most."""
        if image is None or image.ndim != 3 or image.shape[2] != 3 or image.size == 0:
            raise ValueError("expected a BGR image of shape (height, width, 3)")
        h, w = image.shape[:2]
        scale = min(1.0, max_side / max(h, w))
        work = image if scale == 1.0 else cv2.resize(
            image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
        size = (work.shape[1], work.shape[0])
        if size != self._size:
            self._net.setInputSize(size)
            self._size = size
        _, rows = self._net.detect(work)
        faces = [] if rows is None else [
            Face(box=tuple(float(v) / scale for v in row[:4]),
                 landmarks=row[4:14].reshape(5, 2).astype(np.float32) / scale,
                 score=float(row[14]))
            for row in rows
        ]
        return sorted(faces, key=lambda f: f.area, reverse=True)


_local = threading.local()


def _thread_detector() -> FaceDetector:
    detector = getattr(_local, "detector", None)
    if detector is None:
        detector = _local.detector = FaceDetector()
    return detector


def detect_faces(image: np.ndarray, max_side: int = 640) -> list[Face]:
    """Faces in a BGR image, largest first (YuNet, default policy score).

    max_side: the detector's working size; raise it for documents and group
    photos where faces are small, lower it for speed on selfie frames.
    """
    return _thread_detector().detect(image, max_side=max_side)
