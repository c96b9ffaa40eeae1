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

from .detection import Face, FaceDetector
from .metrics import timed
from .policy import DEFAULT_POLICY, Policy
from .registry import model_path

# On a document, a second face (the small "ghost" portrait of many ID cards)
# is tolerated when the main face is at least this many times larger.
MAIN_FACE_AREA_RATIO = 2.5


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
    ``multiple_faces`` (two faces of similar size: which one is the holder?).
    """

    face: Face | None
    embedding: np.ndarray | None
    faces_found: int
    reason: str | None = None
    all_faces: list[Face] = field(default_factory=list, repr=False)

    @property
    def ok(self) -> bool:
        return self.reason is None


def enroll_face(image: np.ndarray, policy: Policy = DEFAULT_POLICY,
                detector: FaceDetector | None = None,
                embedder: FaceEmbedder | None = None) -> EnrolledFace:
    """Find the main face of a document or selfie photo and embed it."""
    detector = detector or FaceDetector(score_threshold=policy.detection_score)
    faces = detector.detect(image, max_side=policy.document_max_side)
    if not faces:
        return EnrolledFace(None, None, 0, "no_face")
    if len(faces) > 1 and faces[0].area < MAIN_FACE_AREA_RATIO * faces[1].area:
        return EnrolledFace(None, None, len(faces), "multiple_faces", faces)
    embedding = (embedder or FaceEmbedder()).embed(image, faces[0])
    return EnrolledFace(faces[0], embedding, len(faces), None, faces)


@dataclass(frozen=True)
class MatchResult:
    match: bool
    similarity: float | None
    threshold: float
    reason: str | None  # why no comparison was possible, e.g. "document:no_face"
    document: EnrolledFace
    selfie: EnrolledFace

    def to_dict(self) -> dict:
        return {
            "match": self.match,
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
    return MatchResult(similarity >= policy.match_threshold, similarity,
                       policy.match_threshold, None, doc, live)


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
