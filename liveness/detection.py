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

    def square(self, scale: float = 1.0) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) of :meth:`crop`'s square, in image pixels (it may reach past the image)."""
        cx, cy = self.center
        side = max(self.box[2], self.box[3]) * scale
        return (int(round(cx - side / 2)), int(round(cy - side / 2)),
                int(round(cx + side / 2)), int(round(cy + side / 2)))

    def crop(self, image: np.ndarray, scale: float = 1.0) -> np.ndarray:
        """Square crop of ``scale`` times the box's longer side, padded at borders."""
        x0, y0, x1, y1 = self.square(scale)
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
    def detect(self, image: np.ndarray, max_side: int = 320, upscale: bool = False) -> list[Face]:
        """Faces in a BGR image, largest first, detected at ``max_side`` pixels at most
        (exactly, when ``upscale``: a small image is enlarged to that size)."""
        if image is None or image.ndim != 3 or image.shape[2] != 3 or image.size == 0:
            raise ValueError("expected a BGR image of shape (height, width, 3)")
        h, w = image.shape[:2]
        scale = max_side / max(h, w) if upscale else min(1.0, max_side / max(h, w))
        work = image if scale == 1.0 else cv2.resize(
            image, (max(1, round(w * scale)), max(1, round(h * scale))),
            interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
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


# Views of the image tried when YuNet finds no confident face at the working size:
# quarter turns (a phone photo saved sideways), other sizes (a face that fills a large
# photo is too big for YuNet at 1600 px, a 150 px crop too small unless enlarged), a
# margin around the image (a face cut by the frame's edges).
RETRY_SIDES = (640, 320)
CHECK_SIDE = 320  # a doubtful face is re-detected on a crop around it, at this size...
CHECK_CROP = 2.5  # ...of this many times its box's longer side
MAX_ENLARGED_SIDE = 3200  # YuNet's cost grows with the area: 4x at twice 1600 px
RETRY_MARGIN = 0.25  # of the longer side, on each edge
RETRY_ROTATIONS = (90, 180, 270)  # degrees clockwise
_ROTATE = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


@dataclass(frozen=True)
class View:
    """A transformed copy of an image for detection: turned ``rotation`` degrees
    clockwise, then given ``margin`` pixels on each edge, detected at ``side``."""

    side: int
    upscale: bool = False
    margin: int = 0
    rotation: int = 0

    def render(self, image: np.ndarray) -> np.ndarray:
        view = image if not self.rotation else cv2.rotate(image, _ROTATE[self.rotation])
        if self.margin:
            view = cv2.copyMakeBorder(view, *[self.margin] * 4, cv2.BORDER_REPLICATE)
        return view

    def to_original(self, points: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        """Points (N x 2) of the view mapped back to the original image's pixels."""
        h, w = shape[:2]
        x, y = points[:, 0] - self.margin, points[:, 1] - self.margin
        if self.rotation == 90:
            x, y = y, h - x
        elif self.rotation == 180:
            x, y = w - x, h - y
        elif self.rotation == 270:
            x, y = w - y, x
        return np.stack([x, y], axis=1).astype(np.float32)

    def face_to_original(self, face: Face, shape: tuple[int, ...]) -> Face:
        x, y, bw, bh = face.box
        corners = self.to_original(np.array([[x, y], [x + bw, y + bh]], np.float32), shape)
        (x0, y0), (x1, y1) = corners.min(axis=0), corners.max(axis=0)
        return Face(box=(float(x0), float(y0), float(x1 - x0), float(y1 - y0)),
                    landmarks=self.to_original(face.landmarks, shape), score=face.score)

    def describe(self) -> str:
        return f"{self.side} px" + (f", margin {self.margin}" if self.margin else "") + \
            (f", turned {self.rotation}°" if self.rotation else "")


def retry_views(shape: tuple[int, ...], first_side: int) -> list[list[View]]:
    """Groups of views, in the order tried after the working size: upright at the other sizes of
    :data:`RETRY_SIDES`; enlarged twice (a printed ID portrait's face is ~60 px on a
    1280 px capture); the three turns at each size; a margin around the upright image."""
    longer = max(shape[:2])
    base = min(first_side, longer)
    sides = [s for s in RETRY_SIDES if s != base]
    margin = round(RETRY_MARGIN * longer)
    return ([[View(s, True) for s in sides]]
            + ([[View(2 * base, True)]] if 2 * base <= MAX_ENLARGED_SIDE else [])
            + [[View(s, s != base, 0, r) for r in RETRY_ROTATIONS] for s in (base, *sides)]
            + [[View(round(s * (1 + 2 * RETRY_MARGIN)), True, margin) for s in (*sides, base) if s <= 640]])


def shifted(face: Face, scale: float, x0: float, y0: float) -> Face:
    """``face`` found in a view scaled by ``scale`` whose origin is (x0, y0) of the original, in the original's pixels."""
    x, y, w, h = face.box
    return Face((x / scale + x0, y / scale + y0, w / scale, h / scale),
                face.landmarks / scale + np.float32([x0, y0]), face.score)


def _inside(face: Face, other: Face) -> bool:
    x, y, w, h = other.box
    cx, cy = face.center
    return x <= cx <= x + w and y <= cy <= y + h


def redetect_around(detector: "FaceDetector", image: np.ndarray, face: Face) -> tuple[Face | None, int]:
    """The face re-detected on a square crop around ``face`` at :data:`CHECK_SIDE` px, upright
    and turned (the best score wins), in the image's pixels, and the turn; None if not found."""
    x0, y0, _, _ = face.square(CHECK_CROP)
    crop = face.crop(image, CHECK_CROP)
    scale = CHECK_SIDE / crop.shape[0]
    crop = cv2.resize(crop, (CHECK_SIDE, CHECK_SIDE), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    best: tuple[Face, int] | None = None
    for turn in (0, *RETRY_ROTATIONS):
        view = View(CHECK_SIDE, rotation=turn)
        for found in detector.detect(view.render(crop), max_side=CHECK_SIDE):
            if best is None or found.score > best[0].score:
                best = (shifted(view.face_to_original(found, crop.shape), scale, x0, y0), turn)
    return best if best is not None else (None, 0)


def detect_with_retries(detector: "FaceDetector", image: np.ndarray, first_side: int,
                        confident_score: float) -> tuple[list[Face], str]:
    """Faces (largest first, in the image's pixels) found however it takes, and how.

    At the working size first. YuNet also finds a face at a wrong size or turn (too big
    for the working size, sideways, upside down) with a lower score and its landmarks
    placed as if upright, useless for alignment: a face scoring under ``confident_score``
    is re-detected on a crop around it, upright and turned (:func:`redetect_around`),
    and replaced when that scores better. When nothing is found, the views of
    :func:`retry_views` are tried group by group until a face scores ``confident_score``;
    the best-scoring view wins (the aligner then turns a sideways face upright).
    """
    faces = detector.detect(image, max_side=first_side)
    how = f"{first_side} px"
    if faces:
        top = max(faces, key=lambda f: f.score)
        if top.score < confident_score:
            better, turn = redetect_around(detector, image, top)
            if better is not None and better.score > top.score:
                how += ", re-detected around the face"
                if turn:  # the image is turned: every upright detection is doubtful, detect again turned
                    view = View(min(first_side, max(image.shape[:2])), rotation=turn)
                    turned = [view.face_to_original(f, image.shape)
                              for f in detector.detect(view.render(image), max_side=view.side)]
                    faces = turned or [better]
                    how += f", turned {turn}°"
                else:  # the same face, better placed: drop what was found inside it
                    faces = [better] + [f for f in faces if f is not top and not _inside(f, better)]
        return sorted(faces, key=lambda f: f.area, reverse=True), how
    best: tuple[float, View, list[Face]] | None = None
    for group in retry_views(image.shape, first_side):
        for view in group:
            found = detector.detect(view.render(image), max_side=view.side, upscale=view.upscale)
            score = max((f.score for f in found), default=0.0)
            if found and (best is None or score > best[0]):
                best = (score, view, found)
        if best is not None and best[0] >= confident_score:
            break
    if best is None:
        return [], how
    _, view, found = best
    return sorted((view.face_to_original(f, image.shape) for f in found),
                  key=lambda f: f.area, reverse=True), view.describe()


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
