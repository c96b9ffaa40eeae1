"""Per-stage timing of the per-frame path on a real video, the live page's
server side, and ``verify`` speed.

Frames are decoded once into memory (timed: the decode stage), then each
stage runs over the same frames on its own, so one stage's cost does not
hide in another's. The whole :meth:`VerificationSession.process` is timed
separately on the same frames: that is the number the live page pays. The
per-frame path (decode, analysis, overlay) is timed three ways frame by frame
in turn: the original prototype's per-frame work (``prototype.py``), every
model on every frame (``schedule.EVERY_FRAME``, the schedule up to policy
2026.11.2) and the policy's schedule, so their ratios hold on a busy machine.
The live measurement replays the frames in real time through what the server
does per WebRTC frame. Timing depends on the machine, so nothing here
asserts: it prints.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .challenge import parse_steps
from .detection import Face, FaceDetector
from .matching import FaceEmbedder
from .media import iter_video, probe_video
from .overlay import draw_frame
from .policy import DEFAULT_POLICY, Policy
from .schedule import EVERY_FRAME
from .session import VerificationSession
from .signals import FaceSignalTracker

DEFAULT_FRAMES = 150
# Analysis rates for the verify projection: every frame of a 30 fps video, or every other.
PROJECTED_ANALYSIS_FPS = (30.0, 15.0)
# Issue 13 measured verify at 2.35x real time with every model on every frame and asked for 4x:
# on a machine of another speed the goal is that ratio to every frame, measured in the same run.
ISSUE_EVERY_FRAME_VERIFY = 2.35
VERIFY_GOAL_RATIO = 4.0 / ISSUE_EVERY_FRAME_VERIFY
# Sessions over the bench frames must not end early (a finished session skips
# its frames), so the benchmark gives the challenge all the time it wants.
_NO_DEADLINE = {"step_timeout_s": 1e9, "session_timeout_s": 1e9}


class Timings:
    """Milliseconds of repeated calls: wall clock, and CPU time of this process
    (all its threads), which other work on the machine inflates far less."""

    def __init__(self):
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def __call__(self, work: Callable, *args):
        wall, cpu = time.perf_counter(), time.process_time()
        result = work(*args)
        self.cpu.append((time.process_time() - cpu) * 1000)
        self.wall.append((time.perf_counter() - wall) * 1000)
        return result

    def over(self, items: Iterable, work: Callable) -> "Timings":
        for item in items:
            self(work, item)
        return self


def _median(values: list[float]) -> float:
    return float(np.median(values)) if values else float("nan")


@dataclass(frozen=True)
class StageTiming:
    """One stage: how often it runs, at what size, and its cost in ms."""

    stage: str
    runs: str             # e.g. "every frame", "every 0.5 s"
    size: str             # the image size it works on
    timings: Timings = field(repr=False)
    per_frame_share: float = 1.0  # calls per processed frame (amortisation)
    in_session: bool = True       # part of VerificationSession.process

    @property
    def samples(self) -> list[float]:
        return self.timings.wall

    @property
    def median_ms(self) -> float:
        return _median(self.samples)

    @property
    def p95_ms(self) -> float:
        return float(np.percentile(self.samples, 95)) if self.samples else float("nan")

    @property
    def cpu_median_ms(self) -> float:
        return _median(self.timings.cpu)

    @property
    def per_frame_ms(self) -> float:
        return self.median_ms * self.per_frame_share

    def to_dict(self) -> dict:
        return {"stage": self.stage, "runs": self.runs, "size": self.size, "calls": len(self.samples),
                "median_ms": round(self.median_ms, 2), "p95_ms": round(self.p95_ms, 2),
                "cpu_median_ms": round(self.cpu_median_ms, 2),
                "per_frame_ms": round(self.per_frame_ms, 2), "in_session": self.in_session}


@dataclass(frozen=True)
class VerifySpeed:
    video_s: float      # video time covered by the analysed frames
    elapsed_s: float    # wall time of verify_video, model loading included
    frames_analysed: int
    verdict: str
    reasons: tuple[str, ...]

    @property
    def realtime_factor(self) -> float:
        return self.video_s / self.elapsed_s if self.elapsed_s else float("inf")

    def to_dict(self) -> dict:
        return {"video_s": round(self.video_s, 2), "elapsed_s": round(self.elapsed_s, 2),
                "frames_analysed": self.frames_analysed,
                "realtime_factor": round(self.realtime_factor, 2), "verdict": self.verdict,
                "reasons": list(self.reasons)}


@dataclass(frozen=True)
class LiveSpeed:
    """The live page's server side with no browser on the machine: VP8 frames arriving at the
    clip's rate are decoded, go through :meth:`LiveCheck.on_frame` (the engine analyses on its
    own thread) and are encoded back, with aiortc's own codec settings."""

    video_s: float         # clip time replayed
    elapsed_s: float
    frames_returned: int
    frames_analysed: int
    on_frame: Timings      # the delay the callback adds to each frame
    decode: Timings
    encode: Timings

    @property
    def returned_fps(self) -> float:
        return self.frames_returned / self.elapsed_s

    @property
    def analysed_fps(self) -> float:
        return self.frames_analysed / self.elapsed_s

    def to_dict(self) -> dict:
        def ms(t: Timings) -> dict:
            return {"median_ms": round(_median(t.wall), 2), "p95_ms": round(float(np.percentile(t.wall, 95)), 2)}
        return {"video_s": round(self.video_s, 2), "elapsed_s": round(self.elapsed_s, 2),
                "frames_returned": self.frames_returned, "frames_analysed": self.frames_analysed,
                "returned_fps": round(self.returned_fps, 1), "analysed_fps": round(self.analysed_fps, 1),
                "added_delay": {**ms(self.on_frame), "mean_ms": round(float(np.mean(self.on_frame.wall)), 2)},
                "vp8_decode": ms(self.decode), "vp8_encode": ms(self.encode)}


@dataclass(frozen=True)
class BenchReport:
    video: str
    width: int
    height: int
    fps: float
    frames: int
    faces_found: int
    stages: list[StageTiming]
    session: StageTiming
    passive: str           # the model's version, or why it was not timed
    verify: VerifySpeed | None
    live: LiveSpeed | None
    load: tuple[float, float]  # 1-minute load average before and after: other work skews timings
    prototype: PathTiming      # the reference, measured in the same run
    paths: list[PathTiming]    # every model on every frame, then the policy's schedule
    policy_version: str
    verify_every_frame: VerifySpeed | None  # the same verify with every model on every frame

    @property
    def session_fps(self) -> float:
        return 1000.0 / self.session.median_ms

    def realtime_factor_at(self, video_fps: float, analysed_fps: float) -> float:
        """Projected verify speed on a ``video_fps`` video of which ``analysed_fps``
        frames per second are analysed (every frame is decoded); means, not
        medians, because this is throughput."""
        decode = float(np.mean(self.stages[0].samples))
        process = float(np.mean(self.session.samples))
        return 1000.0 / (video_fps * decode + min(video_fps, analysed_fps) * process)

    def to_dict(self) -> dict:
        return {
            "video": self.video, "width": self.width, "height": self.height, "fps": self.fps,
            "frames": self.frames, "frames_with_face": self.faces_found,
            "stages": [s.to_dict() for s in self.stages],
            "session_process": {**self.session.to_dict(), "mean_ms": round(float(np.mean(self.session.samples)), 2)},
            "session_fps": round(self.session_fps, 1),
            "projected_realtime_factor_30fps": {
                str(rate): round(self.realtime_factor_at(30.0, rate), 2) for rate in PROJECTED_ANALYSIS_FPS},
            "per_frame_path": {"prototype": self.prototype.to_dict(),
                               "schedules": [p.to_dict() for p in self.paths],
                               "speedup_over_prototype": {p.name: round(self.prototype.mean_ms / p.mean_ms, 2)
                                                          for p in self.paths},
                               "speedup_over_every_frame": round(self.paths[0].mean_ms / self.paths[-1].mean_ms, 2),
                               "cpu_speedup_over_prototype": {
                                   p.name: round(self.prototype.cpu_mean_ms / p.cpu_mean_ms, 2) for p in self.paths}},
            "passive": self.passive,
            "verify": self.verify.to_dict() if self.verify else None,
            "verify_every_frame": self.verify_every_frame.to_dict() if self.verify_every_frame else None,
            "live": self.live.to_dict() if self.live else None,
            "cpus": os.cpu_count(), "load_average": list(self.load),
        }


def decode_frames(path: Path, count: int) -> tuple[list[np.ndarray], list[float], Timings]:
    """The first ``count`` frames (BGR), their timestamps and decode times."""
    frames, stamps, timings = [], [], Timings()
    video = iter_video(path, max_frames=count)
    while (frame := timings(next, video, None)) is not None:
        frames.append(frame.image)
        stamps.append(frame.timestamp_s)
    timings.wall.pop()  # the call that found the end
    timings.cpu.pop()
    return frames, stamps, timings


class Customers:
    """Sessions of one policy over a run of frames: a new session, as the next customer
    would start, once one reaches its verdict (a finished session skips its frames)."""

    def __init__(self, policy: Policy, passive, steps):
        self._args = (policy, passive, steps)
        self._session = self._new()
        self.looks = {"frames": 0, "detection": 0, "landmarks": 0}

    def _new(self) -> VerificationSession:
        policy, passive, steps = self._args
        return VerificationSession(document=None, policy=policy, steps=steps, passive=passive)

    def process(self, frame: np.ndarray, t: float):
        """One frame, the identity sample it started included (see ``settle``)."""
        result = self._session.process(frame, t)
        self._session.settle()
        return result

    def next_customer(self, result) -> None:
        """After a timed frame: start a new session if this one has ended (not timed)."""
        if result.verdict is not None:
            self._count()
            self._session.close()
            self._session = self._new()

    def _count(self) -> None:
        self.looks["frames"] += self._session.measurements.frames
        for model, count in self._session.looks.items():
            self.looks[model] += count

    def close(self) -> None:
        self._count()
        self._session.close()


@dataclass(frozen=True)
class PathTiming:
    """The whole per-frame path of one way of working: decode, analysis, overlay."""

    name: str
    analysis: Timings  # per frame, an identity sample started on it included
    overlay: Timings
    decode: Timings

    def per_frame(self) -> np.ndarray:
        return np.array(self.decode.wall) + np.array(self.analysis.wall) + np.array(self.overlay.wall)

    @property
    def mean_ms(self) -> float:
        """Mean, not median: a schedule's cheap frames pay for its dear ones."""
        return float(self.per_frame().mean())

    @property
    def p95_ms(self) -> float:
        return float(np.percentile(self.per_frame(), 95))

    @property
    def cpu_mean_ms(self) -> float:
        return float(np.mean(self.decode.cpu) + np.mean(self.analysis.cpu) + np.mean(self.overlay.cpu))

    def to_dict(self) -> dict:
        return {"way": self.name, "mean_ms": round(self.mean_ms, 2), "p95_ms": round(self.p95_ms, 2),
                "cpu_mean_ms": round(self.cpu_mean_ms, 2),
                "analysis_mean_ms": round(float(np.mean(self.analysis.wall)), 2),
                "overlay_mean_ms": round(float(np.mean(self.overlay.wall)), 2)}


PROTOTYPE = "prototype (Haar face, 24x24 CNN predict, Haar smile)"
EVERY_FRAME_NAME = "every model on every frame (to 2026.11.2)"
SHIPPED_NAME = "the policy's schedule"


def measure_paths(frames, stamps, decode: Timings, policies: dict[str, Policy], passive,
                  steps) -> tuple[PathTiming, list[PathTiming], dict[str, dict], list]:
    """The prototype's per-frame work and each policy's, frame by frame in turn, so that a
    change of the machine's load falls on all of them alike. Returns the prototype, one
    timing per policy (in order), the models' looks per policy, and the results of the last."""
    from .prototype import PrototypeFrameWork

    prototype, prototype_ms = PrototypeFrameWork(), Timings()
    runs = {name: (Customers(policy, passive, steps), Timings(), Timings()) for name, policy in policies.items()}
    results = []
    try:
        for frame, t in zip(frames, stamps):
            prototype_ms(prototype, frame)
            for name, (customers, analysis, overlay) in runs.items():
                result = analysis(customers.process, frame, t)
                overlay(lambda r: draw_frame(frame, r, policy=policies[name]), result)
                customers.next_customer(result)
                if name == list(runs)[-1]:
                    results.append(result)
    finally:
        for customers, _, _ in runs.values():
            customers.close()
    none = Timings()
    none.wall, none.cpu = [0.0] * len(frames), [0.0] * len(frames)
    return (PathTiming(PROTOTYPE, prototype_ms, none, decode),
            [PathTiming(name, analysis, overlay, decode) for name, (_, analysis, overlay) in runs.items()],
            {name: customers.looks for name, (customers, _, _) in runs.items()}, results)


def measure_verify(path: Path, policy: Policy, passive, steps) -> VerifySpeed:
    from .pipeline import verify_video

    run = verify_video(path, steps=steps, policy=policy, passive=passive)
    # Video time the analysed frames cover, one frame interval included.
    video_s = run.verdict.scores["duration_s"] + 1.0 / run.info.fps
    return VerifySpeed(video_s, run.elapsed_s, run.frames_analysed,
                       run.verdict.decision, run.verdict.reasons)


def camera_packets(images: list[np.ndarray], stamps: list[float]) -> list:
    """The browser's part of a live check: ``images`` encoded to VP8 as aiortc's jitter buffer
    hands them to the decoder (one ``JitterFrame`` per frame, 90 kHz timestamps)."""
    from fractions import Fraction

    import av
    from aiortc.codecs.vpx import Vp8Encoder, vp8_depayload
    from aiortc.jitterbuffer import JitterFrame

    camera, clock = Vp8Encoder(), Fraction(1, 90_000)
    packets = []
    for image, t in zip(images, stamps):
        frame = av.VideoFrame.from_ndarray(image, format="bgr24")
        frame.pts, frame.time_base = round((t - stamps[0]) * 90_000), clock
        payloads, timestamp = camera.encode(frame)
        packets.append(JitterFrame(b"".join(vp8_depayload(p) for p in payloads), timestamp))
    return packets


def measure_live(images: list[np.ndarray], stamps: list[float], policy: Policy, passive,
                 steps) -> LiveSpeed:
    """Replay ``images`` at their timestamps through the live page's server path (see LiveSpeed).

    The browser's part, encoding the camera to VP8, is done beforehand and not timed. A check
    that reaches its verdict is followed by a new one, as the next customer would be.
    """
    from aiortc.codecs.vpx import Vp8Decoder, Vp8Encoder

    from .live import LiveCheck

    packets = camera_packets(images, stamps)

    def new_check() -> LiveCheck:
        return LiveCheck(None, policy, steps, lang="pt", show_scores=True, passive=passive)

    decoder, encoder = Vp8Decoder(), Vp8Encoder()
    on_frame, decode, encode = Timings(), Timings(), Timings()
    checks = [new_check()]
    returned = 0
    start = time.monotonic()
    try:
        for packet, t in zip(packets, stamps):
            wait = start + (t - stamps[0]) - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            if checks[-1].verdict is not None:
                checks[-1].close()
                checks.append(new_check())
            for frame in decode(decoder.decode, packet):
                encode(encoder.encode, on_frame(checks[-1].on_frame, frame))
                returned += 1
        elapsed = time.monotonic() - start
    finally:
        for check in checks:
            check.close()
    analysed = sum(check.analysed_frames for check in checks)
    return LiveSpeed(stamps[-1] - stamps[0], elapsed, returned, analysed, on_frame, decode, encode)


def run_bench(path: str | Path, frames: int = DEFAULT_FRAMES, policy: Policy = DEFAULT_POLICY,
              challenge: str = "smile,blink", with_verify: bool = True, with_live: bool = True,
              log: Callable[[str], None] = lambda _: None) -> BenchReport:
    from .passive import load_passive_model

    path = Path(path)
    load_before = os.getloadavg()[0]
    policy = policy.replace(**_NO_DEADLINE)
    steps = parse_steps(challenge)

    log("decoding")
    images, stamps, decode_ms = decode_frames(path, frames)
    h, w = images[0].shape[:2]
    native = f"{w}x{h}"
    # From the timestamps, not the container's nominal rate (WebM from a browser is variable).
    fps = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else probe_video(path).fps

    log("detection")
    small, full = FaceDetector(policy.detection_score), FaceDetector(policy.detection_score)
    faces: list[Face | None] = []
    detect_small = Timings().over(images, lambda im: faces.append(
        next(iter(small.detect(im, max_side=policy.detection_width)), None)))
    detect_full = Timings().over(images, lambda im: full.detect(im, max_side=640))
    with_face = [(im, f) for im, f in zip(images, faces) if f is not None]

    log("landmarks")
    with FaceSignalTracker() as tracker:
        landmark_ms = Timings().over(zip(images, stamps), lambda item: tracker.process(*item))

    log("matching")
    embedder = FaceEmbedder()
    embed_ms = Timings().over(with_face, lambda item: embedder.embed(*item))
    identity_share = 1.0 / max(1.0, fps * policy.continuity_every_s)

    log("passive")
    passive = load_passive_model()
    passive_ms = Timings().over(with_face, lambda item: passive.score(*item)) if passive else Timings()
    passive_note = passive.version if passive else "not available (no model file)"

    log("per-frame paths")
    every_frame = policy.replace(**EVERY_FRAME)
    prototype, paths, looks, results = measure_paths(
        images, stamps, decode_ms, {EVERY_FRAME_NAME: every_frame, SHIPPED_NAME: policy}, passive, steps)
    shipped = paths[-1]
    share = {model: count / max(1, looks[SHIPPED_NAME]["frames"]) for model, count in looks[SHIPPED_NAME].items()}

    scale = min(1.0, policy.detection_width / max(w, h))
    stages = [
        StageTiming("decode", "every frame", native, decode_ms, in_session=False),
        StageTiming("detection YuNet (policy)",
                    f"1 in {policy.detection_every_n}, lost, 2 faces ({share['detection']:.0%} of frames)",
                    f"{round(w * scale)}x{round(h * scale)}", detect_small, per_frame_share=share["detection"]),
        StageTiming("detection YuNet (alternative)", "not used", "640 max side", detect_full,
                    per_frame_share=0.0, in_session=False),
        StageTiming("landmarks FaceLandmarker",
                    f"1 in {policy.landmarks_every_n}, lost, eyes moved ({share['landmarks']:.0%} of frames)",
                    native, landmark_ms, per_frame_share=share["landmarks"]),
        StageTiming("matching SFace", f"every {policy.continuity_every_s:g} s",
                    "112x112 aligned", embed_ms, per_frame_share=identity_share),
        StageTiming("passive CNN", f"every {policy.passive_every_n} frame(s) with a face",
                    "face crops", passive_ms, per_frame_share=1.0 / policy.passive_every_n),
        StageTiming("overlay draw_frame", "every frame (live page, annotated video)", native,
                    shipped.overlay, in_session=False),
    ]
    live = None
    if with_live:
        log("live")
        live = measure_live(images, stamps, policy, passive, steps)
    verify = verify_every_frame = None
    if with_verify:
        log("verify")
        verify = measure_verify(path, policy, passive, steps)
        verify_every_frame = measure_verify(path, every_frame, passive, steps)
    return BenchReport(str(path), w, h, fps, len(images), len(with_face), stages,
                       StageTiming("VerificationSession.process", "every frame", native, shipped.analysis),
                       passive_note, verify, live, (load_before, os.getloadavg()[0]), prototype, paths,
                       policy.version, verify_every_frame)


def format_report(r: BenchReport) -> str:
    def fmt(value: float) -> str:
        return "    n/a" if np.isnan(value) else f"{value:7.2f}"

    lines = [
        f"{r.video}: {r.width}x{r.height} at {r.fps:.1f} frames/s (from the timestamps); {r.frames} frames, "
        f"a face in {r.faces_found}",
        f"load average {r.load[0]:.1f} before, {r.load[1]:.1f} after, on {os.cpu_count()} CPUs "
        "(above the CPU count, other work inflates these timings)",
        "",
        f"{'stage':<32} {'runs':<40} {'size':<16} {'median':>7} {'p95':>7} {'cpu':>7} {'ms/frame':>8}",
    ]
    for s in r.stages:
        amortised = fmt(s.per_frame_ms) if s.in_session or s.stage == "decode" else "      -"
        note = "" if s.samples else "  (not available)"
        lines.append(f"{s.stage:<32} {s.runs:<40} {s.size:<16} {fmt(s.median_ms)} "
                     f"{fmt(s.p95_ms)} {fmt(s.cpu_median_ms)} {amortised:>8}{note}")
    parts = sum(s.per_frame_ms for s in r.stages if s.in_session and s.samples)
    lines += [
        "",
        f"sum of the session's stages, amortised: {parts:.2f} ms/frame "
        "(plus quality gates, frozen check, bookkeeping)",
        f"whole VerificationSession.process: median {r.session.median_ms:.2f} ms, "
        f"p95 {r.session.p95_ms:.2f} ms, mean {np.mean(r.session.samples):.2f} ms, "
        f"CPU median {r.session.cpu_median_ms:.2f} ms -> "
        f"{r.session_fps:.1f} frames/s at the median (goal: median <= 20 ms)",
        f"with decode and overlay: {1000.0 / r.paths[-1].mean_ms:.1f} frames/s (means: the schedule's cheap "
        "frames pay for its dear ones)",
        f"passive liveness: {r.passive}",
        "",
        f"per-frame path: decode + analysis (an identity sample started on the frame included) + overlay, "
        f"{r.frames} frames, each frame through all three in turn",
        f"{'way':<48} {'mean':>7} {'p95':>7} {'cpu':>7}  prototype/this: wall, cpu",
    ]
    for path in [r.prototype, *r.paths]:
        name = f"{path.name} ({r.policy_version})" if path is r.paths[-1] else path.name
        lines.append(f"{name:<48} {fmt(path.mean_ms)} {fmt(path.p95_ms)} {fmt(path.cpu_mean_ms)}  "
                     f"{r.prototype.mean_ms / path.mean_ms:13.1f}x {r.prototype.cpu_mean_ms / path.cpu_mean_ms:5.1f}x")
    every, shipped = r.paths[0], r.paths[-1]
    lines += [
        f"the policy's schedule against every model on every frame: {every.mean_ms / shipped.mean_ms:.2f}x "
        f"(wall), {every.cpu_mean_ms / shipped.cpu_mean_ms:.2f}x (cpu) faster; goal against the prototype: "
        ">= 12x on one core (taskset -c 0)",
    ]
    lines += [f"projected verify speed on a 30 fps video analysed at {rate:g} frames/s: "
              f"{r.realtime_factor_at(30.0, rate):.2f}x real time (goal at 30: >= 4x)"
              for rate in PROJECTED_ANALYSIS_FPS]
    if r.live:
        v = r.live
        lines.append(
            f"live page, server side at {r.width}x{r.height} (VP8 decode, LiveCheck.on_frame, VP8 encode; "
            f"frames paced at the clip's rate, no browser on this machine): {v.video_s:.1f} s of video in "
            f"{v.elapsed_s:.1f} s -> {v.returned_fps:.1f} frames/s returned, {v.analysed_fps:.1f} frames/s "
            f"analysed by the engine; delay added per frame median {_median(v.on_frame.wall):.1f} ms, "
            f"mean {np.mean(v.on_frame.wall):.1f} ms, p95 {np.percentile(v.on_frame.wall, 95):.1f} ms; "
            f"VP8 decode {_median(v.decode.wall):.1f} ms, encode {_median(v.encode.wall):.1f} ms")
    if r.verify:
        v = r.verify
        lines.append(
            f"verify measured: {v.frames_analysed} frames analysed "
            f"({v.frames_analysed / v.video_s:.1f} per second of video) covering "
            f"{v.video_s:.1f} s of video in {v.elapsed_s:.1f} s, model loading included -> "
            f"{v.realtime_factor:.2f}x real time (goal: >= 4x); verdict {v.verdict} "
            f"({', '.join(v.reasons) or 'no reasons'})")
        e = r.verify_every_frame
        lines.append(
            f"verify with every model on every frame, same run: {e.realtime_factor:.2f}x real time "
            f"(the schedule {v.realtime_factor / e.realtime_factor:.2f}x faster; goal {VERIFY_GOAL_RATIO:.2f}x, "
            f"that is 4x where every frame ran at the issue's {ISSUE_EVERY_FRAME_VERIFY}x); verdict {e.verdict} "
            f"({', '.join(e.reasons) or 'no reasons'})")
    return "\n".join(lines)
