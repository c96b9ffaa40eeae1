"""PAD error rates as ISO/IEC 30107-3 defines them, and their plots.

Scores are live probabilities; a presentation is accepted as bona fide when
``score >= threshold``.

* APCER of one attack species (PAI species): the share of its attack
  presentations accepted. The reported APCER is the worst species'.
* BPCER: the share of bona fide (live) presentations rejected.
* ACER = (APCER + BPCER) / 2 (deprecated by the standard but still asked for).
* EER: where APCER (all attacks pooled) equals BPCER, interpolated linearly
  between the two neighbouring thresholds where they cross.
* AUC: probability that a random live scores above a random attack (ties 1/2).
* BPCER@APCER=x: the lowest BPCER over thresholds whose pooled APCER <= x.

For cross-validation, :func:`nested_threshold_rates` fixes each fold's
threshold in advance, as deployment must: the EER threshold of the *other*
folds' pooled scores, applied to the held-out fold; the errors are pooled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from statistics import NormalDist

import numpy as np

from .synth import refuse_synthetic


@dataclass(frozen=True)
class PadMetrics:
    """Rates of one score set. With one class only (e.g. live webcam clips, no attacks), the
    rates that need the other class (APCER or BPCER, ACER, EER, AUC, BPCER@APCER) are None."""

    threshold: float
    apcer: float | None
    apcer_per_species: dict[str, float]
    bpcer: float | None
    acer: float | None
    eer: float | None
    eer_threshold: float | None
    auc: float | None
    bpcer_at_apcer_1pct: float | None
    bpcer_at_apcer_5pct: float | None
    bona_fide: int
    attacks_per_species: dict[str, int]

    @property
    def both_classes(self) -> bool:
        return self.bona_fide > 0 and bool(self.attacks_per_species)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ErrorCurve:
    """APCER (pooled) and BPCER at each candidate threshold, thresholds ascending."""

    thresholds: np.ndarray
    apcer: np.ndarray
    bpcer: np.ndarray


def apcer_at(attack: np.ndarray, threshold: float) -> float:
    return float(np.mean(attack >= threshold)) if attack.size else 0.0


def bpcer_at(live: np.ndarray, threshold: float) -> float:
    return float(np.mean(live < threshold)) if live.size else 0.0


def error_curve(live: np.ndarray, attack: np.ndarray) -> ErrorCurve:
    """Rates at every distinct score, plus one threshold above all (accept nothing)."""
    scores = np.unique(np.concatenate([live, attack]))
    thresholds = np.append(scores, np.nextafter(scores[-1], np.inf))
    attack_sorted, live_sorted = np.sort(attack), np.sort(live)
    apcer = 1.0 - np.searchsorted(attack_sorted, thresholds, side="left") / attack.size
    bpcer = np.searchsorted(live_sorted, thresholds, side="left") / live.size
    return ErrorCurve(thresholds, apcer, bpcer)


def equal_error_rate(curve: ErrorCurve) -> tuple[float, float]:
    """(EER, threshold): APCER falls and BPCER rises with the threshold; find where they meet."""
    crossed = np.flatnonzero(curve.bpcer >= curve.apcer)[0]  # exists: the last point has APCER 0
    if crossed == 0:
        return float(curve.apcer[0] + curve.bpcer[0]) / 2, float(curve.thresholds[0])
    a1, a2 = curve.apcer[crossed - 1], curve.apcer[crossed]
    b1, b2 = curve.bpcer[crossed - 1], curve.bpcer[crossed]
    t = (a1 - b1) / ((a1 - a2) + (b2 - b1))  # fraction of the way from point 1 to point 2
    thresholds = curve.thresholds
    return (float(a1 + t * (a2 - a1)),
            float(thresholds[crossed - 1] + t * (thresholds[crossed] - thresholds[crossed - 1])))


def area_under_roc(live: np.ndarray, attack: np.ndarray) -> float:
    """Mann-Whitney: P(live > attack) + P(live == attack) / 2."""
    ranks_below = np.searchsorted(np.sort(attack), live, side="left")
    ties = np.searchsorted(np.sort(attack), live, side="right") - ranks_below
    return float((ranks_below + ties / 2).sum() / (live.size * attack.size))


def bpcer_at_apcer(curve: ErrorCurve, max_apcer: float) -> float:
    return float(curve.bpcer[curve.apcer <= max_apcer + 1e-12].min())


def pad_metrics(live: Sequence[float], attacks: Mapping[str, Sequence[float]],
                threshold: float) -> PadMetrics:
    """All the rates for live scores and attack scores grouped by species (one class alone
    gives its own rate only, see :class:`PadMetrics`). Synthetic attack species are refused."""
    refuse_synthetic(attacks)
    live = np.asarray(live, dtype=np.float64)
    per_species = {name: np.asarray(s, dtype=np.float64) for name, s in attacks.items() if len(s)}
    if live.size == 0 and not per_species:
        raise ValueError("metrics need at least one score")
    apcers = {name: apcer_at(s, threshold) for name, s in per_species.items()}
    apcer = max(apcers.values()) if apcers else None
    bpcer = bpcer_at(live, threshold) if live.size else None
    counts = dict(threshold=float(threshold), apcer=apcer, apcer_per_species=apcers, bpcer=bpcer,
                  bona_fide=int(live.size), attacks_per_species={n: int(s.size) for n, s in per_species.items()})
    if apcer is None or bpcer is None:
        return PadMetrics(**counts, acer=None, eer=None, eer_threshold=None, auc=None,
                          bpcer_at_apcer_1pct=None, bpcer_at_apcer_5pct=None)
    pooled = np.concatenate(list(per_species.values()))
    curve = error_curve(live, pooled)
    eer, eer_threshold = equal_error_rate(curve)
    return PadMetrics(**counts, acer=(apcer + bpcer) / 2, eer=eer, eer_threshold=eer_threshold,
                      auc=area_under_roc(live, pooled),
                      bpcer_at_apcer_1pct=bpcer_at_apcer(curve, 0.01),
                      bpcer_at_apcer_5pct=bpcer_at_apcer(curve, 0.05))


@dataclass(frozen=True)
class NestedThresholdRates:
    """Pooled rates when each fold is decided at the EER threshold of the other folds."""

    thresholds: list[float]  # per fold
    apcer: float  # worst species, pooled over folds
    apcer_per_species: dict[str, float]
    bpcer: float
    acer: float
    per_fold: list[dict]  # threshold, apcer_per_species, bpcer of each fold

    def as_dict(self) -> dict:
        return asdict(self)


def nested_threshold_rates(folds: Sequence[tuple[Sequence[float], Mapping[str, Sequence[float]]]]
                           ) -> NestedThresholdRates:
    """``folds``: (live scores, attack scores by species) of each held-out fold."""
    thresholds, per_fold = [], []
    live_rejected = live_total = 0
    accepted: dict[str, int] = {}
    totals: dict[str, int] = {}
    for i, (live, attacks) in enumerate(folds):
        others = [f for j, f in enumerate(folds) if j != i]
        other_live = np.concatenate([np.asarray(l, np.float64) for l, _ in others])
        other_attack = np.concatenate([np.asarray(s, np.float64) for _, a in others for s in a.values()])
        if other_live.size == 0 or other_attack.size == 0:
            raise ValueError("every fold needs live and attack scores in the other folds")
        _, threshold = equal_error_rate(error_curve(other_live, other_attack))
        live = np.asarray(live, np.float64)
        live_rejected += int(np.sum(live < threshold))
        live_total += live.size
        fold_apcer = {}
        for name, values in attacks.items():
            values = np.asarray(values, np.float64)
            if values.size:
                accepted[name] = accepted.get(name, 0) + int(np.sum(values >= threshold))
                totals[name] = totals.get(name, 0) + values.size
                fold_apcer[name] = apcer_at(values, threshold)
        thresholds.append(float(threshold))
        per_fold.append({"threshold": float(threshold), "apcer_per_species": fold_apcer,
                         "bpcer": bpcer_at(live, threshold)})
    if not live_total or not totals:
        raise ValueError("metrics need at least one live and one attack score")
    apcers = {name: accepted[name] / totals[name] for name in totals}
    apcer, bpcer = max(apcers.values()), live_rejected / live_total
    return NestedThresholdRates(thresholds=thresholds, apcer=apcer, apcer_per_species=apcers,
                                bpcer=bpcer, acer=(apcer + bpcer) / 2, per_fold=per_fold)


def _save_curves(live: np.ndarray, pooled: np.ndarray, threshold: float, title: str, save) -> list[Path]:
    """ROC and DET of live against pooled attack scores, saved by ``save(fig, name)``."""
    import matplotlib.pyplot as plt

    curve = error_curve(live, pooled)
    paths = []
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot(curve.apcer, 1 - curve.bpcer, lw=2)
    ax.plot([0, 1], [0, 1], ls=":", c="grey")
    ax.scatter([apcer_at(pooled, threshold)], [1 - bpcer_at(live, threshold)], c="red", zorder=3,
               label=f"threshold {threshold:.2f}")
    ax.set(xlabel="APCER (attacks accepted)", ylabel="1 - BPCER (live accepted)",
           title=f"ROC {title} AUC={area_under_roc(live, pooled):.4f}", xlim=(0, 1), ylim=(0, 1.01))
    ax.legend(loc="lower right")
    paths.append(save(fig, "roc.png"))

    # DET: both error rates on normal-deviate axes, clipped away from 0 and 1.
    probit = NormalDist().inv_cdf
    clip = lambda v: np.clip(v, 1e-4, 1 - 1e-4)  # noqa: E731
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([probit(v) for v in clip(curve.apcer)], [probit(v) for v in clip(curve.bpcer)], lw=2)
    ticks = [0.001, 0.01, 0.05, 0.2, 0.5, 0.8]
    ax.set_xticks([probit(t) for t in ticks], [f"{t:g}" for t in ticks])
    ax.set_yticks([probit(t) for t in ticks], [f"{t:g}" for t in ticks])
    ax.set(xlabel="APCER", ylabel="BPCER", title=f"DET {title}".strip(),
           xlim=(probit(1e-4), probit(0.9)), ylim=(probit(1e-4), probit(0.9)))
    ax.grid(True, ls=":")
    paths.append(save(fig, "det.png"))
    return paths


def save_plots(live: Sequence[float], attacks: Mapping[str, Sequence[float]], threshold: float,
               out_dir: Path, title: str = "") -> list[Path]:
    """ROC, DET (both classes only) and score histograms as PNG files in ``out_dir``;
    returns their paths."""
    import matplotlib
    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    def save(fig, name: str) -> Path:
        fig.tight_layout()
        fig.savefig(out_dir / name, dpi=110)
        plt.close(fig)
        return out_dir / name

    live = np.asarray(live, dtype=np.float64)
    per_species = {n: np.asarray(s, dtype=np.float64) for n, s in attacks.items() if len(s)}
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    if live.size and per_species:  # ROC and DET need both classes
        paths += _save_curves(live, np.concatenate(list(per_species.values())), threshold, title, save)

    fig, ax = plt.subplots(figsize=(6, 4))
    bins = np.linspace(0, 1, 41)
    if live.size:
        ax.hist(live, bins=bins, alpha=0.6, label=f"live ({live.size})", density=True)
    for name, scores in per_species.items():
        ax.hist(scores, bins=bins, alpha=0.6, label=f"attack: {name} ({scores.size})", density=True)
    ax.axvline(threshold, c="red", ls="--", label="threshold")
    ax.set(xlabel="live probability", ylabel="density", title=f"Scores {title}".strip())
    ax.legend()
    paths.append(save(fig, "histogram.png"))
    return paths

