"""The analysis threads every live check of a process shares, taken in turn.

One thread per check let K checks fight over the cores (and the GIL) with no
order: with two customers on two cores one got 17 analysed frames/s and the
other 5. Here a fixed number of workers (one per core by default,
``LIVENESS_ANALYSIS_WORKERS``) serve the checks round robin: a check with a
frame waiting joins the back of the line once, a worker analyses its newest
frame (older ones were already replaced: latest frame wins) and puts it back
at the end if another frame came meanwhile. Overloaded, every check is slowed
by the same factor, none starves; a check analysed too slowly for the policy
ends in review (``insufficient_frames``), never on a sparse sample.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from typing import Protocol

log = logging.getLogger(__name__)


class Analysable(Protocol):
    def analyse_pending(self) -> None:
        """Analyse the newest waiting frame, if any (called by one worker at a time)."""

    def has_pending(self) -> bool: ...

    def analysis_failed(self, error: Exception) -> None: ...


class AnalysisPool:
    def __init__(self, workers: int):
        if workers < 1:
            raise ValueError("an analysis pool needs at least one worker")
        self.workers = workers
        self._cond = threading.Condition()
        self._line: deque[Analysable] = deque()
        self._scheduled: set[Analysable] = set()  # in the line or being analysed
        self._threads: list[threading.Thread] = []

    def submit(self, check: Analysable) -> None:
        """``check`` has a frame waiting: queue it unless it is queued or being analysed already
        (the worker then sees the new frame when it finishes)."""
        with self._cond:
            if check in self._scheduled:
                return
            self._scheduled.add(check)
            self._line.append(check)
            if len(self._threads) < self.workers:  # started on first use, not at import
                thread = threading.Thread(target=self._work, name=f"liveness-analysis-{len(self._threads)}",
                                          daemon=True)
                self._threads.append(thread)
                thread.start()
            self._cond.notify()

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._line:
                    self._cond.wait()
                check = self._line.popleft()
            try:
                check.analyse_pending()
            except Exception as error:  # one broken check must not take a worker with it
                log.error("analysis failed", extra={"error": type(error).__name__})
                check.analysis_failed(error)
            with self._cond:
                if check.has_pending():
                    self._line.append(check)  # to the back: the others go first
                    self._cond.notify()
                else:
                    self._scheduled.discard(check)


def _default_workers() -> int:
    text = os.environ.get("LIVENESS_ANALYSIS_WORKERS", "").strip()
    if text:
        workers = int(text)
        if workers < 1:
            raise ValueError(f"LIVENESS_ANALYSIS_WORKERS must be at least 1, not {text}")
        return workers
    return os.cpu_count() or 1


_shared: AnalysisPool | None = None
_shared_lock = threading.Lock()


def shared_pool() -> AnalysisPool:
    """The process's pool (created on first use)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = AnalysisPool(_default_workers())
        return _shared
