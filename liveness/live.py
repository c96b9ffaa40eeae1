"""The live check behind the webrtc stream: one engine session per customer check.

A :class:`LiveCheck` lives in ``st.session_state`` (page globals are reset on
every rerun while the stream keeps running). Two threads share it:

- streamlit-webrtc's frame thread calls :meth:`LiveCheck.on_frame`, which
  hands the frame to the analysis pool and returns it at once with the
  latest result drawn on it: the video the customer sees is never held back
  by the engine (the overlay may describe a frame or so earlier);
- a worker of the process's analysis pool (:mod:`liveness.analysis_pool`,
  shared by every check, taken round robin) runs the engine session on the
  newest frame (older unanalysed frames are dropped when the engine is busy)
  and hands each result to the page through a queue, as streamlit-webrtc
  documents.

The challenge and the verdict are decided by the engine session, server-side:
the browser only sends pictures.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import av
import numpy as np

from . import metrics
from .analysis_pool import AnalysisPool, shared_pool
from .challenge import Step
from .matching import EnrolledFace
from .overlay import draw_frame, prompt_drawn
from .policy import Policy
from .session import SHIPPED_PASSIVE, FrameResult, VerificationSession
from .verdict import Verdict

SPEED_WINDOW = 60  # frames over which rates are measured
# No rate from less time than this: the first frames arrive in a burst (queued while the stream
# set up), and two of them 1 ms apart would read as 1000 frames/s.
SPEED_MIN_SPAN_S = 1.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rate:
    frames: int      # since the stream started
    fps: float       # over the last SPEED_WINDOW frames
    mean_ms: float   # time spent per frame
    p95_ms: float


class _RateMeter:
    def __init__(self):
        self._ends: deque[float] = deque(maxlen=SPEED_WINDOW)
        self._costs: deque[float] = deque(maxlen=SPEED_WINDOW)
        self.frames = 0

    def add(self, start: float, end: float) -> None:
        self.frames += 1
        self._ends.append(end)
        self._costs.append(end - start)

    def snapshot(self) -> Rate | None:
        """The rate over the last frames, or None before they span SPEED_MIN_SPAN_S."""
        span = self._ends[-1] - self._ends[0] if self._ends else 0.0
        if span < SPEED_MIN_SPAN_S:
            return None
        costs = np.array(self._costs) * 1000
        return Rate(self.frames, (len(self._ends) - 1) / span, float(costs.mean()), float(np.percentile(costs, 95)))


@dataclass(frozen=True)
class Speed:
    analysed: Rate   # engine: frames analysed per second and ms per analysis
    shown: Rate      # frame thread: frames returned per second and the latency added to each


class LiveCheck:
    """One customer's check: document, engine session, results for the page.

    session_id, nonce: the store's single-use grant for this check.
    on_verdict(session, verdict) is called once per session, from whichever
    thread ends it, to record the case; its return value (the case) or its
    exception is kept in ``recorded`` / ``record_error`` for the page.
    pool: the analysis threads (default: the process's shared pool).
    """

    def __init__(self, document: EnrolledFace | None, policy: Policy, steps: list[Step] | None,
                 lang: str, show_scores: bool, session_id: str | None = None, nonce: str | None = None,
                 on_verdict: Callable[[VerificationSession, Verdict], object] | None = None,
                 passive=SHIPPED_PASSIVE, pool: AnalysisPool | None = None):
        self._pool = pool or shared_pool()
        self.session = VerificationSession(document=document, policy=policy, steps=steps, passive=passive,
                                           session_id=session_id, nonce=nonce)
        self.lang = lang
        self.results: queue.Queue[FrameResult] = queue.Queue(maxsize=1)
        self.recorded = None
        self.record_error: Exception | None = None
        self.show_scores = show_scores
        self._on_verdict = on_verdict
        self._record_done = threading.Event()
        self._reported = False
        self._lock = threading.Lock()  # guards everything below
        self._t0: float | None = None
        self._pending: tuple[np.ndarray, float] | None = None
        self._latest: FrameResult | None = None
        self._stopped = False
        self._active = False  # counted in metrics.ACTIVE_CHECKS
        self._analysed = _RateMeter()
        self._shown = _RateMeter()
        # Per source (frame, page), the steps whose prompt it has shown; the reports not yet applied.
        self._prompts_in_frames: set[int] = set()
        self._prompts_on_page: set[int] = set()
        self._prompt_reports: list[tuple[int, float]] = []

    # -- frame thread ----------------------------------------------------------------------

    def on_frame(self, frame: av.VideoFrame) -> av.VideoFrame:
        """The video_frame_callback body: queue the frame for analysis, return it annotated."""
        arrived = time.monotonic()
        image = frame.to_ndarray(format="bgr24")
        with self._lock:
            started = self._t0 is None and not self._stopped
            if self._t0 is None:
                self._t0 = arrived
                self._active = started
            # Server clock, not the browser's timestamps: the deadlines are ours to keep.
            analyse = not self._stopped and self.session.verdict is None
            if analyse:
                self._pending = (image, arrived - self._t0)
            latest = self._latest
        if started:
            metrics.ACTIVE_CHECKS.inc()
            log.info("live check started", extra={"session_id": self.session.id,
                                                  "steps": tuple(s.value for s in self.session.steps)})
        if analyse:
            self._pool.submit(self)
        if latest is not None:
            image = draw_frame(image, latest, lang=self.lang, show_scores=self.show_scores,
                               policy=self.session.policy)
        out = av.VideoFrame.from_ndarray(image, format="bgr24")  # streamlit-webrtc stamps it
        sent = time.monotonic()
        with self._lock:
            self._shown.add(arrived, sent)
            # The prompt's time is when the first frame showing it leaves: the reaction window counts from then.
            if prompt_drawn(latest) and latest.challenge.index not in self._prompts_in_frames:
                self._prompts_in_frames.add(latest.challenge.index)
                self._prompt_reports.append((latest.challenge.index, sent - self._t0))
        return out

    # -- analysis pool ---------------------------------------------------------------------

    def has_pending(self) -> bool:
        with self._lock:
            return self._pending is not None and not self._stopped

    def analyse_pending(self) -> None:
        with self._lock:
            if self._pending is None or self._stopped:
                return
            image, t = self._pending
            self._pending = None
            prompts, self._prompt_reports = self._prompt_reports, []
        for index, at in prompts:
            self.session.prompt_shown(index, at)
        started = time.monotonic()
        result = self.session.process(image, t)
        with self._lock:
            self._latest = result
            self._analysed.add(started, time.monotonic())
        self._publish(result)
        if result.verdict is not None:
            self._report(result.verdict)

    def analysis_failed(self, error: Exception) -> None:
        """The engine raised on a frame: end the check on what it saw (never accepted unfinished)."""
        metrics.count_error("analysis")
        self.finish()

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
        self._leave_active()
        if self._on_verdict is not None:
            try:
                self.recorded = self._on_verdict(self.session, verdict)
            except Exception as error:  # shown on the page; the stream must go on
                self.record_error = error
                metrics.count_error("record")
                log.error("case not recorded", extra={"session_id": self.session.id,
                                                      "error": type(error).__name__})
        self._record_done.set()
        self.session.close()  # decided: free the landmarker now, not when the browser session ends

    # -- page thread -----------------------------------------------------------------------

    def _stop(self) -> None:
        with self._lock:
            self._stopped = True
            self._pending = None
        self._leave_active()

    def _leave_active(self) -> None:
        with self._lock:
            was_active, self._active = self._active, False
        if was_active:
            metrics.ACTIVE_CHECKS.dec()

    def finish(self) -> Verdict:
        """End the check now (the stream stopped); idempotent."""
        self._stop()
        verdict = self.session.finish()
        self._report(verdict)
        return verdict

    def prompt_on_page(self, index: int) -> None:
        """The page has just written step ``index``'s prompt in text (it may beat the video frame)."""
        now = time.monotonic()
        with self._lock:
            if self._t0 is not None and index not in self._prompts_on_page:
                self._prompts_on_page.add(index)
                self._prompt_reports.append((index, now - self._t0))

    def wait_recorded(self, timeout_s: float) -> bool:
        """Wait for on_verdict (it may still run on the analysis thread when the page sees the verdict)."""
        return self._record_done.wait(timeout_s)

    @property
    def started(self) -> bool:
        return self._t0 is not None

    @property
    def verdict(self) -> Verdict | None:
        return self.session.verdict

    @property
    def analysed_frames(self) -> int:
        with self._lock:
            return self._analysed.frames

    def speed(self) -> Speed | None:
        with self._lock:
            analysed, shown = self._analysed.snapshot(), self._shown.snapshot()
        return Speed(analysed, shown) if analysed and shown else None

    def close(self) -> None:
        self._stop()
        self.session.close()
