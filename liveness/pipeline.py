"""A whole verification from a recorded video: the reviewer's path and the CLI's.

The same :class:`session.VerificationSession` as the live page runs over the
video's frames (thinned to ``policy.video_analysis_fps``); optionally an
annotated H.264 copy is written for replay.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from fractions import Fraction
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .challenge import Step
from .challenge_script import ChallengeScript
from .matching import EnrolledFace, enroll_face
from .media import VideoInfo, iter_video, probe_video
from .overlay import draw_frame
from .policy import DEFAULT_POLICY, Policy
from .session import SHIPPED_PASSIVE, Evidence, VerificationSession
from .verdict import Verdict

_MS = Fraction(1, 1000)


@dataclass(frozen=True)
class VideoVerification:
    verdict: Verdict
    evidence: Evidence
    info: VideoInfo
    frames_analysed: int
    elapsed_s: float
    annotated_path: Path | None

    def to_dict(self) -> dict:
        return {
            **self.verdict.to_dict(),
            "video": {"width": self.info.width, "height": self.info.height, "fps": self.info.fps,
                      "kind": self.info.kind, "frames_analysed": self.frames_analysed},
            "elapsed_s": round(self.elapsed_s, 3),
            "annotated": str(self.annotated_path) if self.annotated_path else None,
        }


class AnnotatedVideoWriter:
    """H.264 MP4 (plays in browsers) through PyAV, opened on the first frame.

    Frames keep their source timestamps, so a variable-rate recording (as
    browsers make) plays back at its real speed.
    """

    def __init__(self, path: Path, fps: float):
        self.path, self._fps = Path(path), fps
        self._container = self._stream = None
        self._first_t: float | None = None
        self._last_pts = -1

    def write(self, frame: np.ndarray, timestamp_s: float) -> None:
        import av

        if self._container is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._container = av.open(str(self.path), mode="w")
            self._stream = self._container.add_stream("libx264", rate=round(self._fps))
            self._stream.width = frame.shape[1] - frame.shape[1] % 2  # yuv420p needs even sizes
            self._stream.height = frame.shape[0] - frame.shape[0] % 2
            self._stream.pix_fmt = "yuv420p"
            self._stream.codec_context.time_base = _MS
            self._stream.options = {"preset": "veryfast", "crf": "26"}
            self._first_t = timestamp_s
        even = frame[: self._stream.height, : self._stream.width]
        video_frame = av.VideoFrame.from_ndarray(even, format="bgr24")
        self._last_pts = max(round((timestamp_s - self._first_t) * 1000), self._last_pts + 1)
        video_frame.pts, video_frame.time_base = self._last_pts, _MS
        for packet in self._stream.encode(video_frame):
            self._container.mux(packet)

    def close(self) -> None:
        if self._container is not None:
            for packet in self._stream.encode():
                self._container.mux(packet)
            self._container.close()
            self._container = None


_END = object()


def prefetched(items: Iterator, depth: int = 8) -> Iterator:
    """Iterate ``items`` produced on a background thread, ``depth`` ahead.

    Decoding then overlaps the analysis on a second core. An exception in the
    producer is raised in the consumer; a consumer that stops early releases
    the producer.
    """
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        """Hand ``item`` over, unless the consumer has stopped meanwhile."""
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                pass
        return False

    def produce():
        try:
            for item in items:
                if not put(item):
                    return
            put(_END)
        except BaseException as exc:  # handed to the consumer, raised there
            put(exc)

    thread = threading.Thread(target=produce, name="video-decode", daemon=True)
    thread.start()
    try:
        while True:
            item = buffer.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def verify_video(path: str | Path, document: np.ndarray | EnrolledFace | None = None,
                 steps: list[Step] | None = None, policy: Policy = DEFAULT_POLICY,
                 passive=SHIPPED_PASSIVE, progress: Callable[[int, int | None], None] | None = None,
                 annotated_out: str | Path | None = None, lang: str = "pt",
                 show_scores: bool = True, script: ChallengeScript | None = None,
                 session_id: str | None = None) -> VideoVerification:
    """Run a verification session over a recorded video.

    document: the ID photo (BGR image) or an already enrolled face, or None.
    script: the signed challenge script the recording answers (its steps and prompt
    times from the recording's start, the same windows as the live check). Without
    one the recording is analysed but never accepted on the active layer
    (``no_challenge_script``); ``steps`` then names what the customer was asked, checked
    unlocked for the reviewers (None: a random challenge).
    progress: called as ``progress(frames_read, frames_expected_or_None)``.
    session_id: the store's session this verdict is recorded against (default: a new id).
    """
    if script is not None:
        steps = script.step_list
    started = time.perf_counter()
    info = probe_video(path)
    if isinstance(document, np.ndarray):
        document = enroll_face(document, policy)
    writer = AnnotatedVideoWriter(Path(annotated_out), min(info.fps, policy.video_analysis_fps)) \
        if annotated_out else None
    # Keep a frame once 3/4 of the analysis period has passed: variable-rate
    # recordings jitter around their nominal rate and must not lose frames.
    min_gap = 0.75 / policy.video_analysis_fps
    last_t = None
    analysed = 0
    with VerificationSession(document=document, policy=policy, steps=steps, passive=passive, session_id=session_id,
                             prompt_at=script.prompt_times if script else None,
                             locked=script is not None) as session:
        try:
            for frame in prefetched(iter_video(path)):
                if progress:
                    progress(frame.index + 1, info.frame_count)
                if last_t is not None and frame.timestamp_s - last_t < min_gap:
                    continue
                last_t = frame.timestamp_s
                result = session.process(frame.image, frame.timestamp_s)
                analysed += 1
                if writer:
                    writer.write(draw_frame(frame.image, result, lang, show_scores, policy), frame.timestamp_s)
                if result.verdict is not None:
                    break
        finally:
            if writer:
                writer.close()
        verdict = session.finish()
        evidence = session.evidence()
    return VideoVerification(verdict, evidence, info, analysed, time.perf_counter() - started,
                             writer.path if writer else None)
