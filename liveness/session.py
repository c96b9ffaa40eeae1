"""One verification session over a stream of frames: the engine's per-stream state.

A :class:`VerificationSession` owns everything that must not be shared
between streams — its YuNet and SFace networks, a FaceLandmarker in VIDEO
mode (increasing timestamps), the passive-liveness interpreter, the challenge
state machine and the measurements — so several sessions run at once in one
process. :meth:`process` is thread-safe: the WebRTC callback thread feeds
frames while the page thread reads :attr:`verdict`.

What runs on which frame (see ``python -m liveness bench``): the landmarker
and YuNet at ``policy.detection_width`` (a selfie face is large; on the
session's detection worker, overlapping the landmarker) on the frames
:class:`schedule.Schedule` picks, the face box between YuNet's looks carried by the
landmarks (:class:`schedule.FaceTrack`); the quality gates and the frozen check
on every frame; the passive CNN on every ``passive_every_n``-th frame with a
face; SFace (the costliest, ~20-30 ms) only every ``policy.continuity_every_s``
seconds, on the session's identity worker, which is enough to prove the face
stays the document's without stalling a frame.

What the models saw on each frame goes to a :class:`~liveness.trace.Tally`,
which runs the challenge, keeps the measurements and records the trace a
case stores, so that the what-if can replay the session under another policy.
"""

from __future__ import annotations

import logging
import secrets
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

from . import metrics
from .challenge import ChallengeStatus, Gesture, Step, random_steps
from .detection import Face, FaceDetector
from .headmotion import HeadMotion
from .logs import verdict_fields
from .matching import EnrolledFace, cosine_similarity, shared_embedder
from .policy import DEFAULT_POLICY, Policy
from .quality import QualityReport, assess_quality
from .registry import manifest
from .schedule import EyeWatch, FaceTrack, Schedule
from .signals import FaceSignals, FaceSignalTracker
from .trace import FrameObservation, IdentitySample, SessionTrace, Tally
from .verdict import SessionMeasurements, Verdict, decide

# A second face counts when at least this fraction of the main face's area
# (smaller detections are background people far away, or false positives).
SECOND_FACE_AREA_FRACTION = 0.25
MAX_KEY_FRAMES = 12
_FROZEN_SIZE = (64, 48)

log = logging.getLogger(__name__)

SHIPPED_PASSIVE = object()  # default of `passive`: load the shipped model (None means run without one)


@dataclass(frozen=True)
class FrameResult:
    """Everything the engine concluded about one frame."""

    timestamp_s: float
    faces: tuple[Face, ...]
    face: Face | None
    signals: FaceSignals | None
    quality: QualityReport | None
    passive_score: float | None
    similarity: float | None  # the latest identity sample (document or first frame)
    challenge: ChallengeStatus
    verdict: Verdict | None


@dataclass
class Evidence:
    """Material for a case: labelled key frames, per-frame series (from the trace), challenge
    timeline, the replayable trace."""

    key_frames: list[tuple[str, np.ndarray]]
    series: dict[str, list]
    timeline: list[dict]
    trace: SessionTrace


def model_versions(passive) -> dict[str, str]:
    # The model files a verdict is made with (optional ones are for evaluations only).
    versions = {name: f"{entry.filename}@{entry.sha256[:12]}" for name, entry in manifest().items()
                if not entry.optional}
    versions["passive"] = passive.version if passive is not None else "none"
    return versions


class VerificationSession:
    """A whole verification: document face, challenge, passive liveness, verdict.

    document: the enrolled document face (:func:`matching.enroll_face`), or None
    when there is none (the verdict then says ``no_document``). steps: the
    challenge, or None for a random one chosen here, server-side. passive: a
    ``PassiveLiveness`` (default: the shipped model), or None to run without
    one (the verdict then says ``passive_unavailable``). prompt_at: a signed script's
    prompt times (from the first frame); else each prompt comes after a random delay.
    locked=False: a recording without a script (see ``challenge.py``).
    """

    def __init__(self, document: EnrolledFace | None = None, policy: Policy = DEFAULT_POLICY,
                 steps: list[Step] | None = None, passive=SHIPPED_PASSIVE,
                 session_id: str | None = None, nonce: str | None = None,
                 prompt_at: list[float] | None = None, locked: bool = True):
        self.policy = policy
        self.id = session_id or uuid.uuid4().hex
        self.nonce = nonce or secrets.token_urlsafe(16)
        self.steps = list(steps) if steps else random_steps(policy)
        self.document = document
        if passive is SHIPPED_PASSIVE:
            from .passive import load_passive_model
            passive = load_passive_model()
        self._passive = passive
        self._detector = FaceDetector(score_threshold=policy.detection_score)
        self._embedder = shared_embedder()  # used only on the identity worker thread
        self._identity_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="identity")
        self._identity_job: tuple[Future, float, int] | None = None
        self._detection_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="detection")
        self._tracker = FaceSignalTracker()
        self._schedule = Schedule(policy)
        self._eyes = EyeWatch(policy)
        self._track = FaceTrack()
        self._several = False  # the last detection saw a second face
        self.looks = {"detection": 0, "landmarks": 0}  # frames each model looked at (bench, tests)
        self._tally = Tally(policy, self.steps,
                            "no_document" if document is None else
                            None if document.ok else f"document_{document.reason}",
                            passive is not None, prompt_at=prompt_at, locked=locked, head_motion=True)
        self._head_motion = HeadMotion(policy)
        self._challenge = self._tally.challenge
        self._lock = threading.Lock()
        self._key_frames: list[tuple[str, np.ndarray]] = []
        self._key_labels: set[str] = set()
        self._events_seen = 0
        self._previous_small: np.ndarray | None = None
        self._reference: np.ndarray | None = document.embedding if document is not None and document.ok else None
        self._last_identity_t = -1e9
        self._last_similarity: float | None = None
        self._verdict: Verdict | None = None
        self._last: FrameResult | None = None

    # -- per frame -------------------------------------------------------------------------

    @metrics.timed("frame")
    def process(self, frame: np.ndarray, timestamp_s: float) -> FrameResult:
        """Analyse one BGR frame taken at ``timestamp_s`` (seconds, increasing)."""
        with self._lock:
            if self._verdict is not None:
                return self._last
            result = self._analyse(frame, timestamp_s)
            self._last = result
            return result

    def _analyse(self, frame: np.ndarray, t: float) -> FrameResult:
        p = self.policy
        last = self._last
        index = self._tally.m.frames
        identity_due = t - self._last_identity_t >= p.continuity_every_s
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        looks = self._schedule.plan(index, t, last is not None and last.face is not None,
                                    last is not None and last.signals is not None, self._several,
                                    None if last is None else last.challenge.instruction, identity_due,
                                    eyes_changed=lambda: self._eyes.changed(grey))
        # YuNet on the detection worker while the landmarker runs here: both are
        # native code that releases the GIL, so on two cores they overlap.
        detection = self._detection_worker.submit(self._detector.detect, frame, p.detection_width) \
            if looks.detection else None
        frozen_diff = self._frozen_diff(grey)
        if looks.landmarks:
            self._looked("landmarks", index, t)
            tracked = self._tracker.process(frame, t)
            self._eyes.looked(grey, None if tracked is None else tracked.landmarks)
        else:
            tracked = last.signals
        face = None
        if detection is None:
            face = self._track.follow(tracked.face_box if tracked is not None else None) \
                if looks.landmarks else last.face
            if face is None:  # the landmarker lost the face, or it was never anchored: look with YuNet
                detection = self._detection_worker.submit(self._detector.detect, frame, p.detection_width)
        if detection is not None:
            self._looked("detection", index, t)
            faces = detection.result()
            face = faces[0] if faces else None
            self._several = face is not None and sum(
                f.area >= SECOND_FACE_AREA_FRACTION * face.area for f in faces) > 1
            if looks.landmarks:  # else the landmarks are an earlier frame's: keep the anchor
                self._track.anchor(face, tracked.face_box if tracked is not None else None)
        else:
            faces = [face]
        several = self._several
        signals = quality = passive_score = sample = None
        if face is not None:
            signals = tracked
            quality = assess_quality(frame, face, p)
            if self._passive is not None and self._tally.passive_due():
                passive_score = float(self._passive.score(frame, face))
            if not several:
                sample = self._check_identity(frame, face, t, due=identity_due)
        usable = signals if face is not None and not several else None
        residual = None if usable is None else \
            self._head_motion.observe(grey, usable.landmarks, usable.yaw, measured=looks.landmarks)
        status = self._tally.frame(FrameObservation(
            t, face is not None, several,
            None if usable is None else Gesture(float(usable.smile), float(usable.blink), float(usable.yaw)),
            None if quality is None else bool(quality.ok), passive_score, frozen_diff, residual), sample)
        self._collect_key_frames(frame, face, passive_score)
        if status.finished and self._verdict is None:
            self._finalize()
        return FrameResult(t, tuple(faces), face, signals, quality, passive_score,
                           self._last_similarity, status, self._verdict)

    def _looked(self, model: str, index: int, t: float) -> None:
        self.looks[model] += 1
        self._schedule.looked(model, index, t)

    def _frozen_diff(self, grey: np.ndarray) -> float | None:
        """Mean absolute difference of this frame's grey thumbnail to the previous one's."""
        small = cv2.resize(grey, _FROZEN_SIZE, interpolation=cv2.INTER_AREA).astype(np.int16)
        previous, self._previous_small = self._previous_small, small
        return None if previous is None else float(np.abs(small - previous).mean())

    def _check_identity(self, frame: np.ndarray, face: Face, t: float, due: bool) -> IdentitySample | None:
        """Sample the live face's identity when ``due`` (every ``continuity_every_s``); returns the
        sample finished by now.

        SFace (~20-30 ms) runs on the session's own worker thread, so the
        frame path never waits for it; its result is applied on a later frame.
        It aligns on YuNet's five points: the schedule makes YuNet look on every
        frame a sample is due, so ``face`` is then YuNet's.
        """
        # When the next sample is due the previous one is long finished: waiting
        # for it keeps the sampled frames, and so the verdict, deterministic.
        sample = self._identity_sample(wait=due)
        if due:
            self._last_identity_t = t
            job = self._identity_worker.submit(self._embedder.embed, frame.copy(), face)
            self._identity_job = (job, t, self._tally.m.frames)
        return sample

    def _identity_sample(self, wait: bool) -> IdentitySample | None:
        """The finished identity sample, compared with the reference (the tally then applies it)."""
        if self._identity_job is None or not (wait or self._identity_job[0].done()):
            return None
        job, t, taken = self._identity_job
        self._identity_job = None
        embedding = job.result()
        if self._reference is None:  # no document: the first live face is the reference
            self._reference = embedding
            return None
        self._last_similarity = cosine_similarity(self._reference, embedding)
        return IdentitySample(t, self._last_similarity, taken, self._tally.m.frames)

    def _collect_key_frames(self, frame: np.ndarray, face: Face | None, passive_score) -> None:
        """Keep the frames a reviewer needs: the first face, each challenge event, the first doubtful live score."""
        events = self._challenge.events
        labels = [f"{e.step}:{e.event}" for e in events[self._events_seen:]]
        self._events_seen = len(events)
        if face is not None and "first_face" not in self._key_labels:
            labels.insert(0, "first_face")
        if passive_score is not None and passive_score < self.policy.passive_threshold \
                and "first_low_live_score" not in self._key_labels:
            labels.append("first_low_live_score")
        for label in labels:
            if len(self._key_frames) < MAX_KEY_FRAMES:
                self._key_frames.append((label, frame.copy()))
                self._key_labels.add(label)

    # -- end -------------------------------------------------------------------------------

    def _finalize(self) -> Verdict:
        m = self._tally.finish(self._identity_sample(wait=True))
        self._verdict = decide(self.id, m, self.policy, model_versions(self._passive),
                               [s.value for s in self.steps],
                               [e.to_dict() for e in self._challenge.events])
        metrics.count_verdict(self._verdict.decision, self._verdict.reasons)
        log.info("verdict", extra=verdict_fields(self._verdict))
        return self._verdict

    def prompt_shown(self, index: int, t: float) -> None:
        """The first frame showing step ``index``'s prompt was sent to the customer at ``t``."""
        with self._lock:
            if self._verdict is None:
                self._tally.prompt_shown(index, t)

    def settle(self) -> None:
        """Wait for the identity sample in flight, so that a benchmark counts its cost
        on the frame that started it, not on whatever runs next."""
        job = self._identity_job
        if job is not None:
            job[0].exception()

    def finish(self) -> Verdict:
        """End the session now (the stream stopped, the video ended); idempotent."""
        with self._lock:
            return self._verdict or self._finalize()

    @property
    def verdict(self) -> Verdict | None:
        return self._verdict

    @property
    def measurements(self) -> SessionMeasurements:
        return self._tally.m

    def evidence(self) -> Evidence:
        with self._lock:
            return Evidence(list(self._key_frames), self._tally.trace.series(),
                            [e.to_dict() for e in self._challenge.events], self._tally.trace)

    def close(self) -> None:
        with self._lock:
            self._tracker.close()
            self._identity_worker.shutdown(wait=True)
            self._detection_worker.shutdown(wait=True)

    def __enter__(self) -> "VerificationSession":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
