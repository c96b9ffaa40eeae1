"""Subject-disjoint k-fold cross-validation, plus cross-domain scoring of each fold.

Subjects are dealt into k folds (:func:`liveness.pad.data.subject_folds`);
each fold's model is trained on the other folds' subjects and scored on its
own, so every score comes from a subject the model never saw. The held-out
scores of all folds are pooled into one report (at the policy threshold), and
rated again at nested thresholds fixed in advance (each fold at the EER
threshold of the other folds' pooled scores: ``nested.json``), over all
sources and per source. Each fold model is also scored on
``cross_domain_dirs`` (data never trained on, e.g. screen replays for a model
trained on printed photos), pooled likewise. The parts of a fused fold model
(the CNN alone, the texture model alone) are rated the same way
(``parts.json``), to show what the fusion adds.
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..passive import PassiveLiveness
from ..policy import DEFAULT_POLICY
from .crops import load_crops
from .data import discover_all, subject_folds
from .evaluation import EvaluationReport, Scores, build_report, save_report, score_parts, score_presentations
from .metrics import NestedThresholdRates, PadMetrics, nested_threshold_rates, pad_metrics
from .training import TrainConfig, TrainResult, train


@dataclass(frozen=True)
class FoldResult:
    held_out: list[str]
    model_path: str
    in_domain: PadMetrics


@dataclass(frozen=True)
class CrossValidation:
    folds: list[FoldResult]
    in_domain: EvaluationReport  # pooled held-out scores of every fold
    cross_domain: EvaluationReport | None
    nested: dict[str, NestedThresholdRates]  # "all" sources, then each source with >= 2 folds
    parts: dict[str, dict] = field(default_factory=dict)  # "cnn", "texture" of fused fold models


def _summary(fold_scores: Sequence[Scores]) -> dict:
    """Pooled rates (at the policy threshold), per-source rates and nested-threshold rates."""
    pooled = Scores.pooled(fold_scores)
    threshold = DEFAULT_POLICY.passive_threshold
    return {"pooled": pad_metrics(pooled.live, pooled.attacks, threshold).as_dict(),
            "per_source": {source: pad_metrics(*pair, threshold).as_dict()
                           for source, pair in pooled.by_source().items()},
            "nested": {name: r.as_dict() for name, r in nested_rates(fold_scores).items()}}


def nested_rates(fold_scores: Sequence[Scores]) -> dict[str, NestedThresholdRates]:
    """Nested-threshold rates over all sources (attack species = source), then per source
    (thresholds from that source's scores alone), over the folds holding that source."""
    rates = {"all": nested_threshold_rates([(s.live, s.attacks) for s in fold_scores])}
    per_fold = [s.by_source() for s in fold_scores]
    for source in sorted({name for s in fold_scores for name in s.attacks}):
        folds = [sources[source] for sources in per_fold if source in sources]
        if len(folds) >= 2:
            rates[source] = nested_threshold_rates(folds)
    return rates


def _sessions_at(scores: Scores, threshold: float) -> list[dict]:
    """The fold's video sessions decided at ``threshold`` (with the policy's minimum frames)."""
    return [{"subject": s.subject, "live": s.live, "score": s.score,
             "correct": s.accepted_at(threshold) == s.live} for s in scores.sessions]


def _train_folds(data_dirs: Sequence[Path], out_dir: Path, configs: Sequence[TrainConfig],
                 cache_dir: Path | None, progress: bool, jobs: int) -> list[TrainResult]:
    """The fold models, ``jobs`` at a time. Training runs TensorFlow on one thread, so a
    fold model is the same whether trained here or in a worker process."""
    paths = [out_dir / f"fold{index}.tflite" for index in range(len(configs))]
    if jobs <= 1:
        return [train(data_dirs, path, c, cache_dir, progress) for path, c in zip(paths, configs)]
    if progress:
        print(f"training {len(configs)} fold models, {jobs} at a time", flush=True)
    # spawn: TensorFlow's threads do not survive a fork
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(train, data_dirs, path, c, cache_dir, False) for path, c in zip(paths, configs)]
        return [future.result() for future in futures]


def cross_validate(data_dirs: Sequence[Path], out_dir: Path, k: int, config: TrainConfig = TrainConfig(),
                   cross_domain_dirs: Sequence[Path] = (), cache_dir: Path | None = None,
                   progress: bool = True, jobs: int = 1) -> CrossValidation:
    out_dir.mkdir(parents=True, exist_ok=True)
    presentations = discover_all(data_dirs, exclude_subjects=config.exclude_subjects)
    outside = discover_all(cross_domain_dirs) if cross_domain_dirs else []
    pooled_outside, folds, fold_scores = Scores(), [], []
    part_scores: dict[str, list[Scores]] = {}
    step = DEFAULT_POLICY.passive_every_n
    held_out_folds = subject_folds(presentations, k)
    # Detect faces once, here: the fold trainings then only read the crop cache.
    load_crops(presentations, config.crop, config.frame_step, cache_dir=cache_dir, progress=progress)
    trained = _train_folds(data_dirs, out_dir, [
        replace(config, exclude_subjects=(*config.exclude_subjects, *held_out)) for held_out in held_out_folds],
        cache_dir, progress, jobs)
    for index, (held_out, result) in enumerate(zip(held_out_folds, trained)):
        if progress:
            print(f"fold {index + 1}/{k}: scoring held-out subjects {', '.join(held_out)}", flush=True)
        model = PassiveLiveness(result.model_path)
        held = [p for p in presentations if p.subject in held_out]
        scored = score_parts(model, held, frame_step=step, cache_dir=cache_dir, progress=progress)
        scores = scored.pop("model")
        for part, part_score in scored.items():  # a fused model's CNN and texture model alone
            part_scores.setdefault(part, []).append(part_score)
        fold_scores.append(scores)
        metrics = pad_metrics(scores.live, scores.attacks, DEFAULT_POLICY.passive_threshold)
        folds.append(FoldResult(held_out=list(held_out), model_path=str(result.model_path), in_domain=metrics))
        if progress:
            print(f"fold {index + 1}/{k}: APCER {metrics.apcer:.4f} BPCER {metrics.bpcer:.4f} "
                  f"ACER {metrics.acer:.4f} EER {metrics.eer:.4f} AUC {metrics.auc:.4f}", flush=True)
        if outside:
            pooled_outside.extend(score_presentations(model, outside, frame_step=step,
                                                      cache_dir=cache_dir, progress=progress))

    name = f"{config.version} ({k}-fold by subject)"
    pooled = Scores.pooled(fold_scores)
    in_domain = build_report(pooled, out_dir, name, frame_step=step)
    save_report(in_domain, pooled, out_dir / "in_domain", "held-out subjects")
    cross = None
    if outside:
        cross = build_report(pooled_outside, out_dir, name, frame_step=step)
        save_report(cross, pooled_outside, out_dir / "cross_domain", "cross-domain")
    (out_dir / "folds.json").write_text(json.dumps(
        [{"held_out": f.held_out, "model": f.model_path, **f.in_domain.as_dict()} for f in folds],
        indent=2) + "\n")
    nested = nested_rates(fold_scores)
    sessions = [_sessions_at(s, t) for s, t in zip(fold_scores, nested["all"].thresholds)]
    (out_dir / "nested.json").write_text(json.dumps(
        {**{name: r.as_dict() for name, r in nested.items()},
         "sessions_at_nested_threshold": sessions}, indent=2) + "\n")
    parts = {part: _summary(scores) for part, scores in part_scores.items()}
    if parts:
        (out_dir / "parts.json").write_text(json.dumps(parts, indent=2) + "\n")
    return CrossValidation(folds=folds, in_domain=in_domain, cross_domain=cross, nested=nested,
                           parts=parts)


def format_nested(nested: dict[str, NestedThresholdRates | dict]) -> str:
    """One line per scope: pooled rates at the nested thresholds, and the thresholds."""
    lines = []
    for name, r in nested.items():
        r = r if isinstance(r, dict) else r.as_dict()
        species = ", ".join(f"{k} {v:.4f}" for k, v in r["apcer_per_species"].items())
        lines.append(f"  {name}: APCER {r['apcer']:.4f} ({species})  BPCER {r['bpcer']:.4f}  "
                     f"ACER {r['acer']:.4f}  thresholds " + " ".join(f"{t:.3f}" for t in r["thresholds"]))
    return "\n".join(lines)


def format_parts(parts: dict[str, dict]) -> str:
    """Each part of the fused fold models alone: pooled and per-source EER/AUC, nested rates."""
    lines = []
    for part, summary in parts.items():
        m = summary["pooled"]
        sources = ", ".join(f"{k} EER {v['eer']:.4f} AUC {v['auc']:.4f}" for k, v in summary["per_source"].items())
        lines.append(f"{part} alone: pooled EER {m['eer']:.4f} at {m['eer_threshold']:.3f} AUC {m['auc']:.4f}"
                     f"; {sources}\n" + format_nested(summary["nested"]))
    return "\n".join(lines)
