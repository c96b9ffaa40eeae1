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

Detecting faces is the slow part of training, so every presentation's crops
are computed once and cached as ``.npz`` (under ``var/pad_cache`` by default,
which is git-ignored: crops of the data set are never committed).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from tqdm import tqdm

from ..config import settings
from ..detection import Face, FaceDetector
from ..policy import DEFAULT_POLICY
from .data import Presentation, iter_frames

CACHE_FORMAT = 1  # bump when the stored arrays change meaning


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

    def sources(self) -> np.ndarray:
        return np.array([self.presentations[i].source for i in self.presentation_index])

    def subjects(self) -> np.ndarray:
        return np.array([self.presentations[i].subject for i in self.presentation_index])


def _cache_key(presentation: Presentation, spec: CropSpec, frame_step: int, max_side: int) -> str:
    stat = presentation.path.stat()
    text = (f"{CACHE_FORMAT}|{presentation.path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|"
            f"{spec.scales}|{spec.size}|{frame_step}|{max_side}|{DEFAULT_POLICY.detection_score}")
    return hashlib.sha1(text.encode()).hexdigest()


def _compute(presentation: Presentation, spec: CropSpec, frame_step: int, max_side: int,
             detector: FaceDetector) -> tuple[np.ndarray, int]:
    inputs, missing = [], 0
    for _, frame in iter_frames(presentation, frame_step):
        faces = detector.detect(frame, max_side=max_side)
        if faces:
            inputs.append(face_input(frame, faces[0], spec))
        else:
            missing += 1
    empty = np.zeros((0, spec.size, spec.size, spec.channels), np.uint8)
    return (np.stack(inputs) if inputs else empty), missing


def load_crops(presentations: Sequence[Presentation], spec: CropSpec, frame_step: int = 3,
               max_side: int = DEFAULT_POLICY.detection_width, cache_dir=None,
               progress: bool = True) -> CropSet:
    """Crops of every presentation (every ``frame_step``-th frame of videos), cached.

    Faces are detected as the engine does on video frames (``max_side`` =
    the policy's detection width); the largest face of a frame is used.
    """
    cache_dir = settings().var_dir / "pad_cache" if cache_dir is None else cache_dir
    cache_dir.mkdir(parents=True, exist_ok=True)
    detector = None
    chunks, labels, owners, missing = [], [], [], []
    for index, presentation in enumerate(tqdm(presentations, desc="face crops", unit="file",
                                              disable=not progress, leave=False)):
        path = cache_dir / f"{_cache_key(presentation, spec, frame_step, max_side)}.npz"
        if path.is_file():
            with np.load(path) as stored:
                inputs, without = stored["inputs"], int(stored["without_face"])
        else:
            detector = detector or FaceDetector()
            inputs, without = _compute(presentation, spec, frame_step, max_side, detector)
            tmp = path.with_suffix(".part.npz")
            np.savez(tmp, inputs=inputs, without_face=without)
            tmp.replace(path)  # atomic: a concurrent reader never sees half a file
        chunks.append(inputs)
        labels.append(np.full(len(inputs), presentation.label, np.int64))
        owners.append(np.full(len(inputs), index, np.int64))
        missing.append(without)
    return CropSet(
        inputs=np.concatenate(chunks) if chunks else np.zeros((0, spec.size, spec.size, spec.channels), np.uint8),
        labels=np.concatenate(labels) if labels else np.zeros(0, np.int64),
        presentation_index=np.concatenate(owners) if owners else np.zeros(0, np.int64),
        presentations=list(presentations),
        frames_without_face=np.array(missing, np.int64),
    )
