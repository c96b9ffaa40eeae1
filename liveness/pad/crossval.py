"""Subject-disjoint k-fold cross-validation, plus cross-domain scoring of each fold.

Subjects are dealt into k folds (:func:`liveness.pad.data.subject_folds`);
each fold's model is trained on the other folds' subjects and scored on its
own, so every score comes from a subject the model never saw. The held-out
scores of all folds are pooled into one report. Each fold model is also
scored on ``cross_domain_dirs`` (data never trained on, e.g. screen replays
for a model trained on printed photos), pooled likewise.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ..passive import PassiveLiveness
from ..policy import DEFAULT_POLICY
from .evaluation import EvaluationReport, Scores, build_report, save_report, score_presentations
from .data import discover_all, subject_folds
from .metrics import PadMetrics, pad_metrics
from .training import TrainConfig, train


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


def cross_validate(data_dirs: Sequence[Path], out_dir: Path, k: int, config: TrainConfig = TrainConfig(),
                   cross_domain_dirs: Sequence[Path] = (), cache_dir: Path | None = None,
                   progress: bool = True) -> CrossValidation:
    out_dir.mkdir(parents=True, exist_ok=True)
    presentations = discover_all(data_dirs, exclude_subjects=config.exclude_subjects)
    outside = discover_all(cross_domain_dirs) if cross_domain_dirs else []
    pooled, pooled_outside, folds = Scores(), Scores(), []
    step = DEFAULT_POLICY.passive_every_n
    for index, held_out in enumerate(subject_folds(presentations, k)):
        if progress:
            print(f"fold {index + 1}/{k}: holding out subjects {', '.join(held_out)}", flush=True)
        fold_config = replace(config, exclude_subjects=(*config.exclude_subjects, *held_out))
        result = train(data_dirs, out_dir / f"fold{index}.tflite", fold_config, cache_dir, progress)
        model = PassiveLiveness(result.model_path)
        scores = score_presentations(model, [p for p in presentations if p.subject in held_out],
                                     frame_step=step, cache_dir=cache_dir, progress=progress)
        pooled.extend(scores)
        metrics = pad_metrics(scores.live, scores.attacks, DEFAULT_POLICY.passive_threshold)
        folds.append(FoldResult(held_out=list(held_out), model_path=str(result.model_path), in_domain=metrics))
        if progress:
            print(f"fold {index + 1}/{k}: APCER {metrics.apcer:.4f} BPCER {metrics.bpcer:.4f} "
                  f"ACER {metrics.acer:.4f} EER {metrics.eer:.4f} AUC {metrics.auc:.4f}", flush=True)
        if outside:
            pooled_outside.extend(score_presentations(model, outside, frame_step=step,
                                                      cache_dir=cache_dir, progress=progress))

    name = f"{config.version} ({k}-fold by subject)"
    in_domain = build_report(pooled, out_dir, name, frame_step=step)
    save_report(in_domain, pooled, out_dir / "in_domain", "held-out subjects")
    cross = None
    if outside:
        cross = build_report(pooled_outside, out_dir, name, frame_step=step)
        save_report(cross, pooled_outside, out_dir / "cross_domain", "cross-domain")
    (out_dir / "folds.json").write_text(json.dumps(
        [{"held_out": f.held_out, "model": f.model_path, **f.in_domain.as_dict()} for f in folds],
        indent=2) + "\n")
    return CrossValidation(folds=folds, in_domain=in_domain, cross_domain=cross)
