"""1:1 face matching with SFace: the document's face against the live face.

Faces are aligned on YuNet's 5 landmarks, embedded (128-d, L2-normalised)
and compared by cosine similarity; ``Policy.match_threshold`` decides.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field

import cv2
import numpy as np

from .detection import Face, FaceDetector, detect_with_retries
from .metrics import timed
from .policy import DEFAULT_POLICY, Policy
from .registry import model_path


class FaceEmbedder:
    """An SFace network; threads sharing one take turns (OpenCV's recognizer is not thread-safe)."""

    def __init__(self):
        self._net = cv2.FaceRecognizerSF.create(str(model_path("sface")), "")
        self._lock = threading.Lock()

    @timed("identity")
    def embed(self, image: np.ndarray, face: Face) -> np.ndarray:
        with self._lock:
            aligned = self._net.alignCrop(image, face.as_yunet_row())
            vector = self._net.feature(aligned).reshape(-1).astype(np.float32)
        return vector / (np.linalg.norm(vector) + 1e-12)


@functools.cache
def shared_embedder() -> FaceEmbedder:
    """The process's one SFace network, for every session and document: each load costs
    ~0.2 s and ~40 MB, and a session samples identity only every ``continuity_every_s``."""
    return FaceEmbedder()


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two embeddings (1 same direction, 0 unrelated)."""
    a, b = np.asarray(a, np.float32).ravel(), np.asarray(b, np.float32).ravel()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


@dataclass(frozen=True)
class EnrolledFace:
    """The main face of a photo and its embedding, or why there is none.

    reason: None when ``face`` and ``embedding`` are set; else ``no_face`` or
    ``multiple_faces`` (two faces and no clear holder, :func:`main_face`).
    found_at: how the faces were found (``detection.detect_with_retries``).
    """

    face: Face | None
    embedding: np.ndarray | None
    faces_found: int
    reason: str | None = None
    all_faces: list[Face] = field(default_factory=list, repr=False)
    found_at: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


def main_face(faces: list[Face], shape: tuple[int, ...], policy: Policy = DEFAULT_POLICY) -> Face | None:
    """The holder's face among ``faces`` (largest first), or None when it is not clear.

    The largest face is the holder when it is at least ``policy.main_face_area_ratio``
    times the area of the next one (an ID card's small ghost portrait, a face far
    behind), or at least ``policy.main_face_central_area_ratio`` times and nearer the
    image's centre than the next one (a selfie with someone in the background).
    Faces smaller than the second one do not change the answer.
    """
    if len(faces) == 1:
        return faces[0]
    first, second = faces[0], faces[1]
    ratio = first.area / max(second.area, 1e-6)
    if ratio >= policy.main_face_area_ratio:
        return first
    h, w = shape[:2]

    def offset(face: Face) -> float:
        return float(np.hypot(face.center[0] - w / 2, face.center[1] - h / 2))

    if ratio >= policy.main_face_central_area_ratio and offset(first) < offset(second):
        return first
    return None


def enroll_face(image: np.ndarray, policy: Policy = DEFAULT_POLICY,
                detector: FaceDetector | None = None,
                embedder: FaceEmbedder | None = None) -> EnrolledFace:
    """Find the main face of a document or selfie photo and embed it.

    Detected at ``policy.document_max_side``; a doubtful face is re-detected around
    itself, upright and turned, and an image without a face is tried at other sizes,
    turned and with a margin (``detection.detect_with_retries``).
    """
    detector = detector or FaceDetector(score_threshold=policy.detection_score)
    faces, how = detect_with_retries(detector, image, policy.document_max_side,
                                      policy.enrol_confident_score)
    if not faces:
        return EnrolledFace(None, None, 0, "no_face")
    face = main_face(faces, image.shape, policy)
    if face is None:
        return EnrolledFace(None, None, len(faces), "multiple_faces", faces, how)
    embedding = (embedder or FaceEmbedder()).embed(image, face)
    return EnrolledFace(face, embedding, len(faces), None, faces, how)


def match_reason(similarity: float, policy: Policy = DEFAULT_POLICY) -> str | None:
    """None for a match, ``match_uncertain`` within ``policy.match_uncertain_margin`` of
    ``policy.match_threshold`` on either side (a person should look), else ``document_mismatch``."""
    if abs(similarity - policy.match_threshold) < policy.match_uncertain_margin:
        return "match_uncertain"
    return None if similarity >= policy.match_threshold else "document_mismatch"


@dataclass(frozen=True)
class MatchResult:
    match: bool
    similarity: float | None
    threshold: float
    reason: str | None  # why no comparison was possible, e.g. "document:no_face"
    document: EnrolledFace
    selfie: EnrolledFace
    uncertain: bool = False  # the similarity is in the review band (:func:`match_reason`)

    def to_dict(self) -> dict:
        return {
            "match": self.match,
            "uncertain": self.uncertain,
            "similarity": self.similarity,
            "threshold": self.threshold,
            "reason": self.reason,
            "document_faces": self.document.faces_found,
            "selfie_faces": self.selfie.faces_found,
        }


def match_faces(document: np.ndarray, selfie: np.ndarray,
                policy: Policy = DEFAULT_POLICY) -> MatchResult:
    """Compare the main face of a document photo with the main face of a selfie."""
    detector = FaceDetector(score_threshold=policy.detection_score)
    embedder = FaceEmbedder()
    doc = enroll_face(document, policy, detector, embedder)
    live = enroll_face(selfie, policy, detector, embedder)
    reason = (f"document:{doc.reason}" if not doc.ok else
              f"selfie:{live.reason}" if not live.ok else None)
    if reason:
        return MatchResult(False, None, policy.match_threshold, reason, doc, live)
    similarity = cosine_similarity(doc.embedding, live.embedding)
    return MatchResult(similarity >= policy.match_threshold, similarity, policy.match_threshold,
                       None, doc, live, match_reason(similarity, policy) == "match_uncertain")


class DocumentEnroller:
    """Document enrolment shared by a process's threads (the app's sessions, the API's requests):
    one YuNet and the shared SFace, behind a lock because OpenCV's YuNet object is not thread-safe."""

    def __init__(self, detection_score: float):
        self._detector = FaceDetector(score_threshold=detection_score)
        self._embedder = shared_embedder()
        self._lock = threading.Lock()

    def enroll(self, image: np.ndarray, policy: Policy) -> EnrolledFace:
        with self._lock:
            return enroll_face(image, policy, detector=self._detector, embedder=self._embedder)
