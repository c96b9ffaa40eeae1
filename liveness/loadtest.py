"""Capacity of one server: K customers' live checks at once, through what the server does per
WebRTC frame.

Each simulated customer is a thread standing in for its peer connection: VP8 packets of a
real clip arrive at 30 frames/s (the clip loops), are decoded, go through
:meth:`LiveCheck.on_frame` (the engine analyses on the shared analysis pool) and are encoded
back, with aiortc's own codec settings; a customer whose check reaches its verdict is
followed by the next one. The camera's side (encoding the clip to VP8) is done once,
beforehand. When a customer's thread falls behind, it decodes every packet that is due (VP8
frames depend on the previous ones) and hands on only the newest, as streamlit-webrtc's
asynchronous processing does.

Per K: analysed frames/s per session (min and median: an even degradation keeps them
close), the delay added to each returned frame (from the moment its packet was due to the
end of its encoding, so a session falling behind counts), the process's CPU and memory, and
the verdicts (the checks run under the shipped policy, deadlines included, against a
document photo of the clip's person). The capacity is the largest K at which every session
still gets ``TARGET_ANALYSED_FPS``; since wall-clock rates collapse when other work shares
the machine, each step also gives the CPU time per analysed and per returned frame and the
sessions one idle core would hold at those costs. Timing depends on the machine: nothing
here asserts, it prints.
"""

from __future__ import annotations

import os
import resource
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .bench import camera_packets, decode_frames
from .challenge import parse_steps
from .matching import enroll_face
from .policy import DEFAULT_POLICY, Policy

DEFAULT_SESSIONS = (1, 2, 4, 8, 16)
DEFAULT_SECONDS = 20.0
# Measured after this much streaming: the first frames of a check start its models
# (a landmarker's first graph run), the steady state is what a machine plans with.
WARMUP_S = 3.0
CAMERA_FPS = 30.0
TARGET_ANALYSED_FPS = 15.0  # what a session must keep for the capacity to count it
CLIP_FRAMES = 300
DOCUMENT_FRAME = 15  # the clip's person in its first second stands in for their ID photo


@dataclass(frozen=True)
class SessionLoad:
    """One simulated customer over a step (one or more successive checks)."""

    analysed: int              # frames the engine analysed
    returned: int              # frames returned to the customer
    delays_ms: list[float]     # per returned frame
    frame_cpu_s: float         # CPU time of this customer's frame path (decode, on_frame, encode)
    verdicts: list[tuple[str, tuple[str, ...], float]]  # decision, reasons, analysed frames/s of the check


@dataclass(frozen=True)
class LoadStep:
    sessions: int
    elapsed_s: float
    loads: list[SessionLoad]
    cpu_s: float       # this process's CPU time over the step (every thread)
    cpu_window_s: float  # from the measurement's start until every customer stopped streaming
    rss_mb: float      # the process's largest resident memory during the step

    @property
    def cpu_ms_per_analysed(self) -> float:
        """Engine CPU per analysed frame: the process's CPU less the customers' frame paths."""
        analysis = self.cpu_s - sum(load.frame_cpu_s for load in self.loads)
        return 1000 * analysis / max(sum(load.analysed for load in self.loads), 1)

    @property
    def cpu_ms_per_returned(self) -> float:
        return 1000 * sum(load.frame_cpu_s for load in self.loads) / max(sum(load.returned for load in self.loads), 1)

    def projected_sessions_per_core(self) -> float:
        """Sessions one idle core would hold at the target, from CPU time (which other work on
        the machine inflates far less than wall time): each needs TARGET_ANALYSED_FPS analyses
        and CAMERA_FPS returned frames per second."""
        core_ms = TARGET_ANALYSED_FPS * self.cpu_ms_per_analysed + CAMERA_FPS * self.cpu_ms_per_returned
        return 1000 / core_ms

    def analysed_fps(self) -> list[float]:
        return [load.analysed / self.elapsed_s for load in self.loads]

    def returned_fps(self) -> list[float]:
        return [load.returned / self.elapsed_s for load in self.loads]

    @property
    def delay_p95_ms(self) -> float:
        delays = [d for load in self.loads for d in load.delays_ms]
        return float(np.percentile(delays, 95)) if delays else float("nan")

    @property
    def cores_used(self) -> float:
        return self.cpu_s / self.cpu_window_s

    @property
    def meets_target(self) -> bool:
        return min(self.analysed_fps()) >= TARGET_ANALYSED_FPS

    def verdict_counts(self) -> Counter:
        counts: Counter = Counter()
        for load in self.loads:
            for decision, reasons, _ in load.verdicts:
                counts[decision] += 1
                counts.update(f"reason:{r}" for r in reasons)
        return counts

    def to_dict(self) -> dict:
        analysed = self.analysed_fps()
        return {"sessions": self.sessions, "elapsed_s": round(self.elapsed_s, 2),
                "analysed_fps": [round(v, 2) for v in analysed],
                "analysed_fps_min": round(min(analysed), 2),
                "analysed_fps_median": round(float(np.median(analysed)), 2),
                "returned_fps_min": round(min(self.returned_fps()), 2),
                "added_delay_p95_ms": round(self.delay_p95_ms, 1),
                "cores_used": round(self.cores_used, 2), "rss_mb": round(self.rss_mb, 1),
                "cpu_ms_per_analysed_frame": round(self.cpu_ms_per_analysed, 2),
                "cpu_ms_per_returned_frame": round(self.cpu_ms_per_returned, 2),
                "projected_sessions_per_core": round(self.projected_sessions_per_core(), 2),
                "verdicts": dict(self.verdict_counts()),
                "meets_target": self.meets_target}

    def accepted_below(self, min_rate: float) -> int:
        """Checks accepted although the engine analysed them below ``min_rate`` frames/s
        (the policy's minimum: must be 0, such a check goes to review)."""
        return sum(decision == "accepted" and rate < min_rate
                   for load in self.loads for decision, _, rate in load.verdicts)


@dataclass(frozen=True)
class LoadReport:
    clip: str
    min_analysed_fps: float  # the policy's
    steps: list[LoadStep]
    idle_rss_mb: float
    cpus: int
    load: tuple[float, float]

    @property
    def capacity(self) -> int:
        """Sessions one machine holds: the largest K meeting the target (0: not even one)."""
        return max((s.sessions for s in self.steps if s.meets_target), default=0)

    def to_dict(self) -> dict:
        return {"clip": self.clip, "camera_fps": CAMERA_FPS, "target_analysed_fps": TARGET_ANALYSED_FPS,
                "cpus": self.cpus, "min_analysed_fps": self.min_analysed_fps, "idle_rss_mb": round(self.idle_rss_mb, 1),
                "load_average": list(self.load),
                "steps": [{**s.to_dict(), "accepted_below_min_rate": s.accepted_below(self.min_analysed_fps)}
                          for s in self.steps],
                "capacity_sessions": self.capacity,
                "sessions_per_core": round(self.capacity / self.cpus, 2)}


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class _Customer(threading.Thread):
    """One customer's peer connection: packets due every 1/CAMERA_FPS (see :meth:`schedule`)."""

    def __init__(self, packets: list, new_check):
        super().__init__(name="loadtest-customer", daemon=True)
        self._packets, self._new_check = packets, new_check
        # Made before the stream starts, as the page makes it before START is pressed.
        self._first_check = new_check()
        self._begin = self._measured_from = self._end = 0.0
        self.streamed = threading.Event()  # the stream has ended (its checks not yet closed)
        self.load: SessionLoad | None = None
        self.error: BaseException | None = None

    def schedule(self, start: float, measured_from: float, stop: float) -> None:
        """Stream from ``start`` to ``stop``, counting from ``measured_from`` (monotonic clock)."""
        self._begin, self._measured_from, self._end = start, measured_from, stop

    def run(self) -> None:
        try:
            self.load = self._stream()
        except BaseException as error:  # reported by run_step, not lost in a thread
            self.error = error

    def _stream(self) -> SessionLoad:
        from aiortc.codecs.vpx import Vp8Decoder, Vp8Encoder

        decoder, encoder = Vp8Decoder(), Vp8Encoder()
        period, n = 1.0 / CAMERA_FPS, len(self._packets)
        checks, delays, verdicts, returned, index = [self._first_check], [], [], 0, 0
        analysed_before = None  # frames analysed when the measurement started
        cpu_before = 0.0
        try:
            while True:
                due = self._begin + index * period
                if due >= self._end:
                    break
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                newest = None
                # Every packet due by now is decoded (VP8 needs them all); only the newest goes on.
                # A machine too slow to even decode in real time stays behind until the step ends.
                while True:
                    decoded = decoder.decode(self._packets[index % n])
                    newest = decoded[-1] if decoded else newest
                    index += 1
                    now = time.monotonic()
                    if self._begin + index * period > now or now >= self._end:
                        break
                if checks[-1].verdict is not None:
                    checks.append(self._new_check())
                measured = due >= self._measured_from
                if measured and analysed_before is None:
                    analysed_before = sum(c.analysed_frames for c in checks)
                    cpu_before = time.thread_time()
                if newest is not None:
                    encoder.encode(checks[-1].on_frame(newest))
                    if measured:
                        returned += 1
                        delays.append((time.monotonic() - (self._begin + (index - 1) * period)) * 1000)
            frame_cpu = time.thread_time() - cpu_before if analysed_before is not None else 0.0
        finally:
            self.streamed.set()
            for check in checks:
                check.close()
        for check in checks:
            if check.verdict is not None:
                verdict = check.verdict
                rate = verdict.scores["frames"] / max(verdict.scores["duration_s"], 1e-9)
                verdicts.append((verdict.decision, verdict.reasons, rate))
        analysed = sum(c.analysed_frames for c in checks) - (analysed_before or 0)
        return SessionLoad(analysed, returned, delays, frame_cpu, verdicts)


def run_step(sessions: int, seconds: float, packets: list, new_check) -> LoadStep:
    """K customers at once, measured for ``seconds`` after WARMUP_S, their first frames spread
    over one frame interval."""
    customers = [_Customer(packets, new_check) for _ in range(sessions)]
    start = time.monotonic() + 0.5
    t0, stop = start + WARMUP_S, start + WARMUP_S + seconds
    for i, customer in enumerate(customers):
        customer.schedule(start + i / (sessions * CAMERA_FPS), t0, stop)
    for customer in customers:
        customer.start()
    time.sleep(max(0.0, t0 - time.monotonic()))
    peak = [_rss_mb()]
    done = threading.Event()

    def sample_memory() -> None:
        while not done.wait(0.25):
            peak[0] = max(peak[0], _rss_mb())

    sampler = threading.Thread(target=sample_memory, daemon=True)
    cpu = _cpu_s()
    sampler.start()
    for customer in customers:
        customer.streamed.wait()
    # Until the last frame a customer streamed (a late one overruns the stop), not the checks' closing.
    cpu, window = _cpu_s() - cpu, time.monotonic() - t0
    for customer in customers:
        customer.join()
    done.set()
    sampler.join()
    for customer in customers:
        if customer.error is not None:
            raise customer.error
    return LoadStep(sessions, stop - t0, [c.load for c in customers], cpu, window, peak[0])


def run_loadtest(clip: str | Path, sessions: tuple[int, ...] = DEFAULT_SESSIONS,
                 seconds: float = DEFAULT_SECONDS, challenge: str = "smile,blink",
                 policy: Policy = DEFAULT_POLICY, log=lambda _: None) -> LoadReport:
    from .live import LiveCheck
    from .passive import load_passive_model

    load_before = os.getloadavg()[0]
    images, _, _ = decode_frames(Path(clip), CLIP_FRAMES)
    if len(images) <= DOCUMENT_FRAME:
        raise ValueError(f"{clip}: fewer than {DOCUMENT_FRAME + 1} frames")
    stamps = [i / CAMERA_FPS for i in range(len(images))]
    packets = camera_packets(images, stamps)
    document = enroll_face(images[DOCUMENT_FRAME], policy)
    steps = parse_steps(challenge)
    load_passive_model()  # the first load initialises LiteRT: not part of any step
    idle_rss = _rss_mb()

    def new_check() -> LiveCheck:
        return LiveCheck(document, policy, steps, lang="pt", show_scores=True)

    results = []
    for k in sessions:
        log(f"{k} session(s) for {seconds:g} s")
        results.append(run_step(k, seconds, packets, new_check))
    return LoadReport(str(clip), policy.min_analysed_fps, results, idle_rss, os.cpu_count() or 1, (load_before, os.getloadavg()[0]))


def format_report(r: LoadReport) -> str:
    lines = [
        f"{r.clip}: {r.cpus} CPUs, load average {r.load[0]:.1f} before, {r.load[1]:.1f} after; "
        f"camera {CAMERA_FPS:g} frames/s per session (VP8 decode, LiveCheck.on_frame, VP8 encode)",
        "",
        f"{'K':>3} {'analysed/s min':>14} {'median':>7} {'min/med':>7} {'returned/s min':>14} "
        f"{'delay p95 ms':>12} {'cores':>6} {'RSS MB':>7} {'CPU ms/analysed':>15} {'/returned':>9} "
        f"{'proj./core':>10}  verdicts",
    ]
    for s in r.steps:
        analysed = s.analysed_fps()
        median = float(np.median(analysed))
        counts = s.verdict_counts()
        verdicts = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none yet"
        lines.append(f"{s.sessions:>3} {min(analysed):>14.1f} {median:>7.1f} {min(analysed) / median:>7.2f} "
                     f"{min(s.returned_fps()):>14.1f} {s.delay_p95_ms:>12.0f} {s.cores_used:>6.2f} "
                     f"{s.rss_mb:>7.0f} {s.cpu_ms_per_analysed:>15.1f} {s.cpu_ms_per_returned:>9.1f} "
                     f"{s.projected_sessions_per_core():>10.2f}  {verdicts}")
    lines += [
        "",
        f"idle process before the sessions: {r.idle_rss_mb:.0f} MB resident",
        f"capacity: {r.capacity} session(s) with every session at >= {TARGET_ANALYSED_FPS:g} analysed "
        f"frames/s -> {r.capacity / r.cpus:.2f} sessions per core",
        f"projected from CPU time at K={r.steps[0].sessions} (what an idle core would hold at the target; "
        f"other work on the machine inflates CPU time far less than wall time): "
        f"{r.steps[0].projected_sessions_per_core():.2f} sessions per core",
        f"checks accepted below the policy's minimum analysed rate "
        f"({r.min_analysed_fps:g} frames/s): "
        f"{sum(s.accepted_below(r.min_analysed_fps) for s in r.steps)} (must be 0)",
    ]
    return "\n".join(lines)
