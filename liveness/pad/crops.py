"""The model's input: face crops at one or more context scales, and their cache.

A crop is a square of ``scale`` times the face box, resized to ``size``
pixels; several scales are stacked as one ``size x size x 3*len(scales)`` BGR
uint8 array. Wide context (3x) shows paper edges and screen bezels, but on
NUAA it also shows each capture session's background, which the network
learns instead of the attack: a held-out subject's live session scored as an
attack (EER 51% on one fold with 1.5x+3.0x, 4% with 1.3x alone; see
models/passive/MODEL_CARD.md). The default is therefore one tight 1.3x crop.
Training, evaluation and the engine all go through :func:`face_input`, so
they cannot drift apart.

Most sources other than NUAA are tight face crops, not frames: the face fills
the image and YuNet, which needs some context around a face, often finds
none. A still image is therefore searched three ways, first that succeeds
wins (:data:`FOUND_BY`): as it is ("detected"); centred on a black canvas
twice its size ("padded", the box mapped back to the image); else the whole
image is the face box ("whole", only for still images: a video frame
without a face stays without one, as in the engine). Each crop keeps how
its box was found, the frame's size, the box's size and the face's
sharpness (:data:`META_COLUMNS`), so a baseline on size and blur alone can be
run under the same protocol as the model.

Detecting faces is the slow part of training, so every presentation's crops
are computed once and cached as ``.npz`` (under ``var/pad_cache`` by default,
which is git-ignored: crops of the data set are never committed).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from tqdm import tqdm

from ..config import settings
from ..detection import Face, FaceDetector, shifted
from ..policy import DEFAULT_POLICY
from .data import Presentation, iter_frames

CACHE_FORMAT = 2  # bump when the stored arrays change meaning
FOUND_BY = ("detected", "padded", "whole")  # how a crop's face box was found (META column 0)
# Per-crop facts kept beside the pixels: how the box was found, frame width and height,
# box width and height (pixels of the original), variance of the Laplacian of the face's
# grey pixels at the original resolution (sharpness).
META_COLUMNS = ("found_by", "frame_width", "frame_height", "box_width", "box_height", "sharpness")
PAD_CANVAS = 2.0  # the padded search's canvas side, in image sides


@dataclass(frozen=True)
class CropSpec:
    """How a face becomes a model input: context scales × box, side in pixels."""

    scales: tuple[float, ...] = (1.3,)
    size: int = 96

    @property
    def channels(self) -> int:
        return 3 * len(self.scales)


def face_input(frame_bgr: np.ndarray, face: Face, spec: CropSpec) -> np.ndarray:
    """``size x size x 3*len(scales)`` uint8: the face cropped at each scale, stacked."""
    crops = [cv2.resize(face.crop(frame_bgr, scale), (spec.size, spec.size),
                        interpolation=cv2.INTER_AREA) for scale in spec.scales]
    return np.concatenate(crops, axis=2)


@dataclass
class CropSet:
    """Model inputs of many frames, with where each came from.

    inputs holds only frames where a face was found; ``frames_without_face``
    counts, per presentation index, the sampled frames where none was.
    """

    inputs: np.ndarray  # (n, size, size, channels) uint8
    labels: np.ndarray  # (n,) 1 live, 0 attack
    presentation_index: np.ndarray  # (n,) index into presentations
    presentations: list[Presentation]
    frames_without_face: np.ndarray  # (len(presentations),)
    meta: np.ndarray | None = None  # (n, len(META_COLUMNS)) float32

    def select(self, keep: np.ndarray) -> "CropSet":
        """The crops at ``keep`` (a boolean mask or indices), same presentations."""
        return CropSet(self.inputs[keep], self.labels[keep], self.presentation_index[keep],
                       self.presentations, self.frames_without_face,
                       None if self.meta is None else self.meta[keep])

    def sources(self) -> np.ndarray:
        return np.array([self.presentations[i].source for i in self.presentation_index])

    @classmethod
    def concat(cls, parts: Sequence["CropSet"]) -> "CropSet":
        """One set of several (their presentations one after another)."""
        offsets = np.cumsum([0, *(len(p.presentations) for p in parts)])
        return cls(np.concatenate([p.inputs for p in parts]), np.concatenate([p.labels for p in parts]),
                   np.concatenate([p.presentation_index + o for p, o in zip(parts, offsets)]),
                   [x for p in parts for x in p.presentations],
                   np.concatenate([p.frames_without_face for p in parts]),
                   np.concatenate([p.meta for p in parts]))

    def synthetic_mask(self) -> np.ndarray:
        """True for the crops of synthetic presentations (never test data)."""
        flags = np.array([p.synthetic for p in self.presentations], bool)
        return flags[self.presentation_index] if len(self.presentations) else np.zeros(0, bool)

    def subjects(self) -> np.ndarray:
        return np.array([self.presentations[i].subject for i in self.presentation_index])


def group_weights(crops: CropSet) -> tuple[np.ndarray, dict[str, int]]:
    """Per-sample weights giving each (source, label) group equal total weight (mean 1)."""
    groups = np.char.add(np.char.add(crops.sources(), "/"),
                         np.where(crops.labels == 1, "live", "attack"))
    names, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    weights = (len(groups) / (len(names) * counts))[inverse]
    return weights.astype(np.float32), {str(n): int(c) for n, c in zip(names, counts)}


def _cache_key(presentation: Presentation, spec: CropSpec, frame_step: int, max_side: int) -> str:
    stat = presentation.path.stat()
    text = (f"{CACHE_FORMAT}|{presentation.path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|"
            f"{spec.scales}|{spec.size}|{frame_step}|{max_side}|{DEFAULT_POLICY.detection_score}")
    return hashlib.sha1(text.encode()).hexdigest()


def find_face(image: np.ndarray, detector: FaceDetector, max_side: int,
              still: bool = True) -> tuple[Face, int] | None:
    """The largest face of ``image`` and how it was found (index into :data:`FOUND_BY`).

    ``still``: an image file, which may be a tight face crop; a video frame is only
    searched as it is.
    """
    faces = detector.detect(image, max_side=max_side)
    if faces:
        return faces[0], 0
    if not still:
        return None
    h, w = image.shape[:2]
    top, left = int(h * (PAD_CANVAS - 1) / 2), int(w * (PAD_CANVAS - 1) / 2)
    canvas = cv2.copyMakeBorder(image, top, top, left, left, cv2.BORDER_CONSTANT, value=0)
    faces = detector.detect(canvas, max_side=max_side)
    if faces:
        return shifted(faces[0], 1.0, -left, -top), 1
    return Face(box=(0.0, 0.0, float(w), float(h)), landmarks=np.zeros((5, 2), np.float32), score=0.0), 2


def sharpness(image: np.ndarray, face: Face) -> float:
    """Variance of the Laplacian of the face box's grey pixels (inside the image)."""
    x, y, w, h = (int(round(v)) for v in face.box)
    region = image[max(0, y):max(0, y + h), max(0, x):max(0, x + w)]
    if region.size == 0:
        return 0.0
    return float(cv2.Laplacian(cv2.cvtColor(region, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


def _compute(presentation: Presentation, spec: CropSpec, frame_step: int, max_side: int,
             detector: FaceDetector) -> tuple[np.ndarray, np.ndarray, int]:
    inputs, meta, missing = [], [], 0
    for _, frame in iter_frames(presentation, frame_step):
        found = find_face(frame, detector, max_side, still=not presentation.is_video)
        if found is None:
            missing += 1
            continue
        face, how = found
        inputs.append(face_input(frame, face, spec))
        meta.append((how, frame.shape[1], frame.shape[0], face.box[2], face.box[3], sharpness(frame, face)))
    empty = np.zeros((0, spec.size, spec.size, spec.channels), np.uint8)
    return ((np.stack(inputs) if inputs else empty),
            np.array(meta, np.float32).reshape(-1, len(META_COLUMNS)), missing)


def load_crops(presentations: Sequence[Presentation], spec: CropSpec, frame_step: int = 3,
               max_side: int = DEFAULT_POLICY.detection_width, cache_dir=None,
               progress: bool = True) -> CropSet:
    """Crops of every presentation (every ``frame_step``-th frame of videos), cached.

    Faces are detected as the engine does on video frames (``max_side`` =
    the policy's detection width); the largest face of a frame is used; still
    images are searched by :func:`find_face`.
    """
    cache_dir = settings().var_dir / "pad_cache" if cache_dir is None else cache_dir
    cache_dir.mkdir(parents=True, exist_ok=True)
    detector = None
    chunks, labels, owners, missing, metas = [], [], [], [], []
    for index, presentation in enumerate(tqdm(presentations, desc="face crops", unit="file",
                                              disable=not progress, leave=False)):
        path = cache_dir / f"{_cache_key(presentation, spec, frame_step, max_side)}.npz"
        if path.is_file():
            with np.load(path) as stored:
                inputs, meta, without = stored["inputs"], stored["meta"], int(stored["without_face"])
        else:
            detector = detector or FaceDetector()
            inputs, meta, without = _compute(presentation, spec, frame_step, max_side, detector)
            tmp = path.with_suffix(f".{os.getpid()}.part.npz")
            np.savez(tmp, inputs=inputs, meta=meta, without_face=without)
            tmp.replace(path)  # atomic: a concurrent reader never sees half a file
        chunks.append(inputs)
        labels.append(np.full(len(inputs), presentation.label, np.int64))
        owners.append(np.full(len(inputs), index, np.int64))
        missing.append(without)
        metas.append(meta)
    return CropSet(
        inputs=np.concatenate(chunks) if chunks else np.zeros((0, spec.size, spec.size, spec.channels), np.uint8),
        labels=np.concatenate(labels) if labels else np.zeros(0, np.int64),
        presentation_index=np.concatenate(owners) if owners else np.zeros(0, np.int64),
        presentations=list(presentations),
        frames_without_face=np.array(missing, np.int64),
        meta=np.concatenate(metas) if metas else np.zeros((0, len(META_COLUMNS)), np.float32),
    )
