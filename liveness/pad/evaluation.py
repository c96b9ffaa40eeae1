"""Scoring labelled data with a shipped-format model: frame and session results.

Every sampled frame of every presentation is a scored attempt. A frame where
no face is found gets score 0 (rejected): against BPCER for a live, a correct
rejection for an attack. A video is also a session: its face scores are
combined with :func:`liveness.passive.aggregate` and compared with the policy
threshold, as the engine does, and it is accepted only with at least
``passive_min_frames`` scored frames.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..detection import FaceDetector
from ..passive import PassiveLiveness, aggregate
from ..policy import DEFAULT_POLICY, Policy
from .crops import CropSet, load_crops
from .data import LIVE, Presentation, iter_frames
from .metrics import PadMetrics, pad_metrics, save_plots
from .synth import refuse_synthetic
from .texture import sigmoid


@dataclass(frozen=True)
class SessionResult:
    path: str
    subject: str
    source: str
    live: bool
    frames: int
    scored: int
    score: float | None
    accepted: bool

    @property
    def correct(self) -> bool:
        return self.accepted == self.live

    def accepted_at(self, threshold: float, policy: Policy = DEFAULT_POLICY) -> bool:
        return _session_accepted(self.score, self.scored, threshold, policy)


def _session_accepted(score: float | None, scored: int, threshold: float, policy: Policy) -> bool:
    """The engine's session rule at ``threshold``: enough scored frames, aggregate high enough."""
    return score is not None and scored >= policy.passive_min_frames and score >= threshold


@dataclass
class Scores:
    """Per-frame scores by class (attacks by species = source) and per-video sessions."""

    live: list[float] = field(default_factory=list)
    attacks: dict[str, list[float]] = field(default_factory=dict)
    live_by_source: dict[str, list[float]] = field(default_factory=dict)
    sessions: list[SessionResult] = field(default_factory=list)
    live_without_face: int = 0
    attacks_without_face: int = 0

    def add(self, presentation: Presentation, scores: Sequence[float]) -> None:
        refuse_synthetic([presentation])  # test data only: synthetic attacks are for training
        if presentation.label == LIVE:
            self.live.extend(scores)
            self.live_by_source.setdefault(presentation.source, []).extend(scores)
        else:
            self.attacks.setdefault(presentation.source, []).extend(scores)

    def extend(self, other: "Scores") -> None:
        self.live.extend(other.live)
        for name, values in other.attacks.items():
            self.attacks.setdefault(name, []).extend(values)
        for name, values in other.live_by_source.items():
            self.live_by_source.setdefault(name, []).extend(values)
        self.sessions.extend(other.sessions)
        self.live_without_face += other.live_without_face
        self.attacks_without_face += other.attacks_without_face

    @classmethod
    def pooled(cls, parts: Sequence["Scores"]) -> "Scores":
        pooled = cls()
        for part in parts:
            pooled.extend(part)
        return pooled

    def by_source(self) -> dict[str, tuple[list[float], dict[str, list[float]]]]:
        """``(live, {source: attacks})`` of every source holding both classes, as
        :func:`liveness.pad.metrics.pad_metrics` takes them."""
        return {source: (self.live_by_source[source], {source: attacks})
                for source, attacks in self.attacks.items() if attacks and self.live_by_source.get(source)}


@dataclass(frozen=True)
class EvaluationReport:
    model: str
    model_version: str
    policy_version: str
    threshold: float
    aggregate: str
    frame_step: int
    frames: PadMetrics
    per_source: dict[str, PadMetrics]
    sessions: list[SessionResult]
    live_without_face: int
    attacks_without_face: int
    ms_per_face_median: float | None = None

    @property
    def sessions_correct(self) -> int:
        return sum(s.correct for s in self.sessions)

    def as_dict(self) -> dict:
        """JSON body: the frame-level headline rates at top level, then the details."""
        body = asdict(self)
        headline = {k: getattr(self.frames, k) for k in (
            "apcer", "bpcer", "acer", "eer", "auc", "threshold", "apcer_per_species",
            "bpcer_at_apcer_1pct", "bpcer_at_apcer_5pct")}
        body["sessions"] = [{**asdict(s), "correct": s.correct} for s in self.sessions]
        return {**headline, **body, "sessions_correct": self.sessions_correct}


def score_presentations(model: PassiveLiveness, presentations: Sequence[Presentation],
                        policy: Policy = DEFAULT_POLICY, frame_step: int = 1,
                        cache_dir: Path | None = None, progress: bool = True) -> Scores:
    """Score every sampled frame (cached face crops, the model's own crop recipe)."""
    return score_parts(model, presentations, policy, frame_step, cache_dir, progress)["model"]


def score_parts(model: PassiveLiveness, presentations: Sequence[Presentation],
                policy: Policy = DEFAULT_POLICY, frame_step: int = 1,
                cache_dir: Path | None = None, progress: bool = True) -> dict[str, Scores]:
    """``{"model": ...}`` as :func:`score_presentations`; for a fused model also ``"cnn"`` and
    ``"texture"``, each part alone, from the same pass (each part runs once per face)."""
    refuse_synthetic(presentations)
    crops = load_crops(presentations, model.crop, frame_step, cache_dir=cache_dir, progress=progress)
    cnn = np.array([model.cnn_probability(x) for x in crops.inputs]) if model.has_cnn else None
    texture = model.texture_logit(crops.inputs)
    scored = {"model": _scores(crops, np.asarray(model.fuse(cnn, texture)), policy)}
    if texture is not None and cnn is not None:
        scored.update(cnn=_scores(crops, cnn, policy), texture=_scores(crops, sigmoid(texture), policy))
    return scored


def _scores(crops: CropSet, face_scores: np.ndarray, policy: Policy) -> Scores:
    """Frame and session scores of every presentation; a frame without a face scores 0."""
    scores = Scores()
    for index, presentation in enumerate(crops.presentations):
        found = face_scores[crops.presentation_index == index].tolist()
        missing = int(crops.frames_without_face[index])
        scores.add(presentation, found + [0.0] * missing)
        if presentation.label == LIVE:
            scores.live_without_face += missing
        else:
            scores.attacks_without_face += missing
        if presentation.is_video:
            score = aggregate(found, policy.passive_aggregate)
            scores.sessions.append(SessionResult(
                path=str(presentation.path), subject=presentation.subject, source=presentation.source,
                live=presentation.label == LIVE, frames=len(found) + missing, scored=len(found), score=score,
                accepted=_session_accepted(score, len(found), policy.passive_threshold, policy)))
    return scores


def build_report(scores: Scores, model_path: Path | str, model_version: str,
                 policy: Policy = DEFAULT_POLICY, frame_step: int = 1,
                 ms_per_face: float | None = None) -> EvaluationReport:
    threshold = policy.passive_threshold
    per_source = {source: pad_metrics(*pair, threshold) for source, pair in scores.by_source().items()}
    return EvaluationReport(
        model=str(model_path), model_version=model_version, policy_version=policy.version,
        threshold=threshold, aggregate=policy.passive_aggregate, frame_step=frame_step,
        frames=pad_metrics(scores.live, scores.attacks, threshold), per_source=per_source,
        sessions=scores.sessions, live_without_face=scores.live_without_face,
        attacks_without_face=scores.attacks_without_face, ms_per_face_median=ms_per_face)


def save_report(report: EvaluationReport, scores: Scores, out_dir: Path, title: str = "") -> list[Path]:
    """``report.json`` plus ROC, DET and histogram PNGs in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "report.json"
    path.write_text(json.dumps(report.as_dict(), indent=2) + "\n")
    return [path, *save_plots(scores.live, scores.attacks, report.threshold, out_dir, title)]


def benchmark_ms_per_face(model: PassiveLiveness, presentations: Sequence[Presentation],
                          faces: int = 20, repeats: int = 25) -> float | None:
    """Median milliseconds of ``model.score(frame, face)`` (crop + inference) on real faces."""
    detector = FaceDetector()
    timings = []
    for presentation in presentations[:: max(1, len(presentations) // faces)][:faces]:
        frame = next(iter_frames(presentation))[1]
        found = detector.detect(frame, max_side=DEFAULT_POLICY.detection_width)
        if not found:
            continue
        model.score(frame, found[0])  # warm-up
        for _ in range(repeats):
            started = time.perf_counter()
            model.score(frame, found[0])
            timings.append((time.perf_counter() - started) * 1000)
    return float(np.median(timings)) if timings else None


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def format_report(report: EvaluationReport) -> str:
    """Human-readable summary for the terminal."""
    m = report.frames
    counts = ", ".join([f"{m.bona_fide} live", *(f"{n} {k} attack" for k, n in m.attacks_per_species.items())])
    species = ", ".join(f"{k} {v:.4f}" for k, v in m.apcer_per_species.items())
    lines = [
        f"model {report.model_version} ({report.model}), policy {report.policy_version}, "
        f"threshold {report.threshold:.3f}",
        f"frames: {counts}; without a face: {report.live_without_face} live, "
        f"{report.attacks_without_face} attack",
        f"APCER {_rate(m.apcer)}" + (f" ({species})" if species else "")
        + f"  BPCER {_rate(m.bpcer)}  ACER {_rate(m.acer)}",
    ]
    if m.both_classes:
        lines.append(f"EER {m.eer:.4f} at {m.eer_threshold:.3f}  AUC {m.auc:.4f}  "
                     f"BPCER@APCER=1% {m.bpcer_at_apcer_1pct:.4f}  BPCER@APCER=5% {m.bpcer_at_apcer_5pct:.4f}")
    else:
        lines.append("one class only: no EER, AUC or ACER (they need live and attack presentations)")
    for source, sm in report.per_source.items():
        lines.append(f"  {source}: APCER {sm.apcer:.4f} BPCER {sm.bpcer:.4f} ACER {sm.acer:.4f} "
                     f"EER {sm.eer:.4f} AUC {sm.auc:.4f}")
    if report.sessions:
        lines.append(f"sessions ({report.aggregate} of frame scores): "
                     f"{report.sessions_correct}/{len(report.sessions)} correct")
        for s in report.sessions:
            score = "none" if s.score is None else f"{s.score:.3f}"
            lines.append(f"  {'live  ' if s.live else 'attack'} {s.source}/{s.subject} "
                         f"{Path(s.path).name}: {score} over {s.scored}/{s.frames} frames -> "
                         f"{'accepted' if s.accepted else 'rejected'} "
                         f"{'OK' if s.correct else 'WRONG'}")
    if report.ms_per_face_median is not None:
        lines.append(f"inference: median {report.ms_per_face_median:.2f} ms/face (crop + model, 1 thread)")
    return "\n".join(lines)
