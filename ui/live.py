"""The live check behind the webrtc stream: one engine session per customer check.

A :class:`LiveCheck` lives in ``st.session_state`` (page globals are reset on
every rerun while the stream keeps running). The frame callback runs on
streamlit-webrtc's worker thread and calls :meth:`LiveCheck.on_frame`; the
page thread reads the latest results from a queue, as streamlit-webrtc
documents. The challenge and the verdict are decided by the engine session,
server-side: the browser only sends pictures.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import av
import numpy as np

from liveness.challenge import Step
from liveness.matching import EnrolledFace
from liveness.overlay import draw_frame
from liveness.policy import Policy
from liveness.session import FrameResult, VerificationSession
from liveness.verdict import Verdict

SPEED_WINDOW = 60  # frames over which the processing rate is measured


@dataclass(frozen=True)
class Speed:
    frames: int           # processed since the stream started
    fps: float            # processed frames per second over the last SPEED_WINDOW frames
    mean_ms: float        # engine + overlay time per frame, i.e. the latency the check adds
    p95_ms: float


class _SpeedMeter:
    def __init__(self):
        self._ends: deque[float] = deque(maxlen=SPEED_WINDOW)
        self._costs: deque[float] = deque(maxlen=SPEED_WINDOW)
        self.frames = 0

    def add(self, start: float, end: float) -> None:
        self.frames += 1
        self._ends.append(end)
        self._costs.append(end - start)

    def snapshot(self) -> Speed | None:
        if len(self._ends) < 2:
            return None
        span = self._ends[-1] - self._ends[0]
        costs = np.array(self._costs) * 1000
        return Speed(self.frames, (len(self._ends) - 1) / span if span > 0 else 0.0,
                     float(costs.mean()), float(np.percentile(costs, 95)))


class LiveCheck:
    """One customer's check: document, engine session, results for the page.

    session_id, nonce: the store's single-use grant for this check.
    on_verdict(session, verdict) is called once per session, from whichever
    thread ends it, to record the case; its return value (the case) or its
    exception is kept in ``recorded`` / ``record_error`` for the page.
    """

    def __init__(self, document: EnrolledFace | None, policy: Policy, steps: list[Step] | None,
                 lang: str, show_scores: bool, session_id: str | None = None, nonce: str | None = None,
                 on_verdict: Callable[[VerificationSession, Verdict], object] | None = None):
        self.session = VerificationSession(document=document, policy=policy, steps=steps,
                                           session_id=session_id, nonce=nonce)
        self.recorded = None
        self.record_error: Exception | None = None
        self._record_done = threading.Event()
        self.results: queue.Queue[FrameResult] = queue.Queue(maxsize=1)
        self.lang = lang
        self._show_scores = show_scores
        self._on_verdict = on_verdict
        self._lock = threading.Lock()
        self._t0: float | None = None
        self._speed = _SpeedMeter()
        self._reported = False

    def on_frame(self, frame: av.VideoFrame) -> av.VideoFrame:
        """The video_frame_callback body: analyse, draw, hand the result to the page."""
        start = time.monotonic()
        image = frame.to_ndarray(format="bgr24")
        with self._lock:
            if self._t0 is None:
                self._t0 = start
        # Server clock, not the browser's timestamps: the deadlines are ours to keep.
        result = self.session.process(image, start - self._t0)
        annotated = draw_frame(image, result, lang=self.lang, show_scores=self._show_scores,
                               policy=self.session.policy)
        self._publish(result)
        if result.verdict is not None:
            self._report(result.verdict)
        out = av.VideoFrame.from_ndarray(annotated, format="bgr24")  # streamlit-webrtc stamps it
        with self._lock:
            self._speed.add(start, time.monotonic())
        return out

    def _publish(self, result: FrameResult) -> None:
        # Keep only the newest result: the page draws the present, not a backlog.
        try:
            self.results.get_nowait()
        except queue.Empty:
            pass
        try:
            self.results.put_nowait(result)
        except queue.Full:
            pass

    def _report(self, verdict: Verdict) -> None:
        with self._lock:
            if self._reported:
                return
            self._reported = True
        if self._on_verdict is not None:
            try:
                self.recorded = self._on_verdict(self.session, verdict)
            except Exception as error:  # shown on the page; the stream must go on
                self.record_error = error
        self._record_done.set()

    def finish(self) -> Verdict:
        """End the check (the stream stopped); idempotent."""
        verdict = self.session.finish()
        self._report(verdict)
        return verdict

    def wait_recorded(self, timeout_s: float) -> bool:
        """Wait for on_verdict (it may still run on the worker thread when the page sees the verdict)."""
        return self._record_done.wait(timeout_s)

    @property
    def started(self) -> bool:
        return self._t0 is not None

    @property
    def verdict(self) -> Verdict | None:
        return self.session.verdict

    def speed(self) -> Speed | None:
        with self._lock:
            return self._speed.snapshot()

    def close(self) -> None:
        self.session.close()
