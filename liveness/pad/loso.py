"""Leave one source out: the acceptance measure of the passive model.

``source`` (the data directory) is the unit: a camera, a set of people and
an attack instrument together. For each source S:

1. the recipe is trained on every other source;
2. its threshold is fixed on those training sources only, by an **inner
   leave-source-group-out**: the training sources are dealt (sorted by name,
   round-robin) into ``inner_groups`` groups, each group is scored by a model
   trained on the other groups, and the threshold is the EER point of those
   pooled out-of-group scores: a threshold set on sources the model had not
   seen, as deployment on a new camera will be;
3. S is scored: APCER of its attack species, BPCER, ACER at that threshold,
   AUC and EER, and every video session decided at that threshold (median of
   its frames, the policy's minimum frame count).

Then the mean over sources and the worst source. The threshold a model
trained on *all* sources ships with is the same rule one level up: the EER
point of the pooled left-out scores of every source (``shipped_threshold``),
and each source's BPCER and APCER at it are reported too.

Synthetic crops (``CropSet.synthetic_mask``, made by ``synth.py`` from live
faces) may be trained on but are never scored: the test set of every fold
is asserted free of them, and a synthetic attack made from a source's live
face is left out with that source (``synth.origin_sources``).

Training subsets are capped at ``max_per_group`` crops per (source, label),
taken evenly spaced (deterministic): NUAA's thousands of near-duplicate
frames would otherwise dominate the fits' cost without adding information.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..policy import DEFAULT_POLICY, Policy
from .crops import CropSet, group_weights
from .data import Presentation
from .evaluation import Scores, _scores
from .metrics import equal_error_rate, error_curve, pad_metrics, save_plots
from .artifact import ModelInfo
from .crops import CropSpec
from .recipes import MULTISCALE, PIXEL_FEATURES, RECIPES, Recipe
from .synth import origin_sources
from .texture import TextureModel

DEFAULT_INNER_GROUPS = 3
DEFAULT_MAX_PER_GROUP = 600
TRAINED_ON = " (trained on)"  # marks a fixed model's in-sample rows


def capped(crops: CropSet, candidates: np.ndarray, limit: int | None) -> np.ndarray:
    """Indices of ``candidates`` (a mask), at most ``limit`` per (source, label), evenly spaced."""
    chosen = np.flatnonzero(candidates)
    if not limit:
        return chosen
    sources = crops.sources()[chosen]
    keys = np.char.add(sources, crops.labels[chosen].astype(str))
    keep = []
    for key in np.unique(keys):
        members = chosen[keys == key]
        if len(members) > limit:
            members = members[np.linspace(0, len(members) - 1, limit).round().astype(int)]
        keep.append(members)
    return np.sort(np.concatenate(keep))


def _fit(recipe: Recipe, features: np.ndarray, crops: CropSet, index: np.ndarray):
    subset = crops.select(index)
    if len(np.unique(subset.labels)) < 2:
        raise ValueError("a training set needs live and attack faces")
    weights, _ = group_weights(subset)
    return recipe.fit(features[index], subset.labels, weights)


def inner_threshold(recipe: Recipe, features: np.ndarray, crops: CropSet, train_sources: Sequence[str],
                    inner_groups: int, max_per_group: int | None) -> float:
    """EER threshold of the training sources' out-of-group scores (see the module docstring).

    Only crops whose face comes from ``train_sources`` (or from no source under test, as
    synthetic attacks of verify/ and video/ faces) are ever fitted on: a synthetic attack
    made from a left-out source's live face stays out with that source."""
    names = sorted(train_sources)
    groups = [names[i::inner_groups] for i in range(min(inner_groups, len(names)))]
    sources, real, origins = crops.sources(), ~crops.synthetic_mask(), origin_sources(crops)
    outside = sorted(set(sources[real].tolist()) - set(names))
    live, attack = [], []
    for group in groups:
        held = np.isin(sources, group) & real
        train = ~np.isin(origins, [*group, *outside])
        model = _fit(recipe, features, crops, capped(crops, train, max_per_group))
        scored = np.flatnonzero(held)
        scores = recipe.score(model, features[scored])
        live.append(scores[crops.labels[scored] == 1])
        attack.append(scores[crops.labels[scored] == 0])
    live, attack = np.concatenate(live), np.concatenate(attack)
    if not live.size or not attack.size:
        raise ValueError("the inner groups hold no live or no attack face")
    return equal_error_rate(error_curve(live, attack))[1]


def presentation_scores(crops: CropSet, index: np.ndarray, face_scores: np.ndarray,
                        policy: Policy = DEFAULT_POLICY) -> Scores:
    """Frame and session scores of the presentations owning the crops at ``index``
    (every crop of each of them must be in ``index``)."""
    owners = np.unique(crops.presentation_index[index])
    remap = np.full(len(crops.presentations), -1)
    remap[owners] = np.arange(len(owners))
    subset = CropSet(crops.inputs[index], crops.labels[index], remap[crops.presentation_index[index]],
                     [crops.presentations[i] for i in owners], crops.frames_without_face[owners])
    return _scores(subset, face_scores, policy)


@dataclass
class SourceResult:
    source: str
    threshold: float  # fixed on the other sources (inner leave-source-group-out)
    metrics: dict  # PadMetrics at ``threshold``
    sessions: list[dict]  # each video's decision at ``threshold``
    scores: Scores = field(repr=False)

    def as_dict(self) -> dict:
        return {"source": self.source, "threshold": self.threshold, **self.metrics,
                "sessions": self.sessions}


@dataclass
class LosoResult:
    recipe: str
    sources: list[SourceResult]
    shipped_threshold: float  # EER point of every source's left-out scores, pooled
    at_shipped_threshold: dict  # per source: APCER, BPCER at shipped_threshold
    seconds: float
    fixed: bool = False  # a shipped model at its own threshold (fixed_model_result), not trained here

    def summary(self) -> dict:
        """Mean and worst over the left-out sources (ACER, AUC, EER over those with both classes);
        a fixed model's rows for sources it was trained on are left out of them."""
        unseen = [s for s in self.sources if not s.source.endswith(TRAINED_ON)]
        both = [s for s in unseen if s.metrics["acer"] is not None]
        sessions = [x for s in unseen for x in s.sessions]
        body = {"sources": len(self.sources), "sources_with_both_classes": len(both)}
        for key, worst in (("acer", max), ("auc", min), ("eer", max), ("bpcer", max), ("apcer", max)):
            values = {s.source: s.metrics[key] for s in unseen if s.metrics[key] is not None}
            if values:
                name = worst(values, key=values.get)
                body[f"mean_{key}"] = float(np.mean(list(values.values())))
                body[f"worst_{key}"] = {"source": name, "value": values[name]}
        body["sessions_correct"] = f"{sum(x['correct'] for x in sessions)}/{len(sessions)}"
        return body

    def as_dict(self) -> dict:
        return {"recipe": self.recipe, "fixed_model": self.fixed, "summary": self.summary(), "shipped_threshold": self.shipped_threshold,
                "at_shipped_threshold": self.at_shipped_threshold, "seconds": self.seconds,
                "per_source": [s.as_dict() for s in self.sources]}


def _source_result(label: str, name: str, scores, threshold: float, policy: Policy) -> SourceResult:
    """Source ``name``'s rates and each of its videos' decision at ``threshold``, reported as ``label``."""
    metrics = pad_metrics(scores.live_by_source.get(name, []), scores.attacks, threshold).as_dict()
    sessions = [{"path": s.path, "live": s.live, "score": s.score, "scored": s.scored,
                 "accepted": s.accepted_at(threshold, policy),
                 "correct": s.accepted_at(threshold, policy) == s.live} for s in scores.sessions]
    return SourceResult(label, threshold, metrics, sessions, scores)


def leave_one_source_out(recipe: Recipe, crops: CropSet, inner_groups: int = DEFAULT_INNER_GROUPS,
                         max_per_group: int | None = DEFAULT_MAX_PER_GROUP,
                         policy: Policy = DEFAULT_POLICY, progress: bool = True,
                         features: np.ndarray | None = None) -> LosoResult:
    """Run the protocol of the module docstring for one recipe on ``crops`` (every source).
    ``features``: the recipe's features of ``crops``, when already computed."""
    started = time.monotonic()
    features = recipe.featurize(crops) if features is None else features
    sources, synthetic, origins = crops.sources(), crops.synthetic_mask(), origin_sources(crops)
    names = sorted(set(sources[~synthetic].tolist()))
    if len(names) < 3:
        raise ValueError("leave-one-source-out needs at least 3 sources")
    results = []
    for name in names:
        others = [n for n in names if n != name]
        threshold = inner_threshold(recipe, features, crops, others, inner_groups, max_per_group)
        model = _fit(recipe, features, crops, capped(crops, origins != name, max_per_group))
        test = np.flatnonzero((sources == name) & ~synthetic)
        assert not synthetic[test].any(), "synthetic crops are never test data"
        scores = presentation_scores(crops, test, recipe.score(model, features[test]), policy)
        results.append(_source_result(name, name, scores, threshold, policy))
        if progress:
            m, sessions = results[-1].metrics, results[-1].sessions
            rate = lambda v: "  n/a " if v is None else f"{v:6.3f}"  # noqa: E731
            print(f"{recipe.name:>12} | {name:>20}: thr {threshold:.3f} APCER {rate(m['apcer'])} "
                  f"BPCER {rate(m['bpcer'])} ACER {rate(m['acer'])} AUC {rate(m['auc'])} "
                  f"EER {rate(m['eer'])} sessions {sum(s['correct'] for s in sessions)}/{len(sessions)}",
                  flush=True)
    pooled = Scores.pooled([r.scores for r in results])
    attack = np.concatenate([np.asarray(v) for v in pooled.attacks.values()])
    shipped = equal_error_rate(error_curve(np.asarray(pooled.live), attack))[1]
    at_shipped = {}
    for r in results:
        m = pad_metrics(r.scores.live, r.scores.attacks, shipped)
        at_shipped[r.source] = {"apcer": m.apcer, "bpcer": m.bpcer, "sessions_correct": sum(
            s.accepted_at(shipped, policy) == s.live for s in r.scores.sessions), "sessions": len(r.scores.sessions)}
    return LosoResult(recipe.name, results, float(shipped), at_shipped, time.monotonic() - started)


SYNTHETIC_VIDEO_STEP = 75  # every 75th frame of a live clip (2.5-5 s): each recapture takes ~1 s


def synthetic_training_crops(presentations: Sequence[Presentation], spec: CropSpec, per_source: int,
                             progress: bool = True) -> CropSet:
    """Synthetic attacks (``synth.py``, print and screen) of at most ``per_source`` live stills
    of each source, evenly spaced, and of every live clip (every ``SYNTHETIC_VIDEO_STEP``-th
    frame): the simulation costs about a second per image on this machine, so the ablation
    samples the live faces rather than using all of them."""
    from .synth import synthetic_crops

    chosen = []
    for source in sorted({p.source for p in presentations}):
        live = [p for p in presentations if p.source == source and p.label == 1]
        stills = [p for p in live if not p.is_video]
        if len(stills) > per_source:
            stills = [stills[i] for i in np.linspace(0, len(stills) - 1, per_source).round().astype(int)]
        chosen += stills + [p for p in live if p.is_video]
    return synthetic_crops(chosen, spec, video_step=SYNTHETIC_VIDEO_STEP, progress=progress)


def fixed_model_result(model, crops: CropSet, threshold: float, policy: Policy = DEFAULT_POLICY) -> LosoResult:
    """A shipped-format model (``PassiveLiveness``) on every source at its own fixed threshold, in
    the protocol's table, for comparison. Its sidecar's training data names the sources it saw:
    their rows are in-sample (``SourceResult.source`` gets " (trained on)")."""
    started = time.monotonic()
    channels = model.crop.channels
    if tuple(model.crop.scales) != MULTISCALE[:len(model.crop.scales)]:
        raise ValueError(f"the model's crop scales {model.crop.scales} are not a prefix of {MULTISCALE}")
    inputs = crops.inputs[..., :channels]
    cnn = np.array([model.cnn_probability(x) for x in inputs]) if model.has_cnn else None
    face_scores = np.asarray(model.fuse(cnn, model.texture_logit(inputs)))
    seen = set(model.info.training.get("data", []))
    sources, synthetic = crops.sources(), crops.synthetic_mask()
    results = []
    for name in sorted(set(sources[~synthetic].tolist())):
        test = np.flatnonzero((sources == name) & ~synthetic)
        scores = presentation_scores(crops, test, face_scores[test], policy)
        results.append(_source_result(f"{name}{TRAINED_ON}" if name in seen else name, name, scores,
                                      threshold, policy))
    at_fixed = {r.source: {"apcer": r.metrics["apcer"], "bpcer": r.metrics["bpcer"],
                           "sessions_correct": sum(x["correct"] for x in r.sessions), "sessions": len(r.sessions)}
                for r in results}
    return LosoResult(f"fixed-{model.version}", results, threshold, at_fixed, time.monotonic() - started, True)


def train_linear(name: str, crops: CropSet, out: Path, version: str,
                 max_per_group: int | None = DEFAULT_MAX_PER_GROUP) -> ModelInfo:
    """The linear recipe ``name`` trained on every crop (capped as in the protocol), written as a
    model file ``out`` (.json, no CNN) that the engine loads like any passive model."""
    if name not in PIXEL_FEATURES:
        raise ValueError(f"only a recipe on pixels can be shipped: {', '.join(PIXEL_FEATURES)}")
    recipe = RECIPES[name]
    index = capped(crops, np.ones(len(crops.labels), bool), max_per_group)
    features = recipe.featurize(crops.select(index))
    weights, samples = group_weights(crops.select(index))
    coefficients, bias = recipe.fit(features, crops.labels[index], weights)
    training = {"data": sorted({p.source for p in crops.presentations}), "samples": samples,
                "max_per_group": max_per_group, "recipe": name, "l2": recipe.l2}
    scales = PIXEL_FEATURES[name][1]
    info = ModelInfo(version=version, crop=CropSpec(scales=scales, size=crops.inputs.shape[1]),
                     training=training, cnn=False,
                     texture=TextureModel(coefficients, bias, training=training, features=name))
    info.save(out)
    return info


def save_loso(results: Sequence[LosoResult], out_dir: Path) -> Path:
    """``report.json`` (every recipe's table) and, per recipe, ROC/DET/histogram of its pooled
    left-out scores (attack species = source) at its shipped threshold."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for result in results:
        pooled = Scores.pooled([r.scores for r in result.sources])
        save_plots(pooled.live, pooled.attacks, result.shipped_threshold, out_dir / result.recipe,
                   f"{result.recipe}, each source left out")
    path = out_dir / "report.json"
    path.write_text(json.dumps({"protocol": "leave one source out", "inner_groups_doc": __doc__.split("\n\n")[1],
                                "recipes": [r.as_dict() for r in results]}, indent=2) + "\n")
    return path


def format_loso(result: LosoResult) -> str:
    """One line per left-out source, then mean and worst."""
    def rate(v):
        return "   n/a" if v is None else f"{100 * v:5.1f}%"

    lines = [f"model {result.recipe} at its fixed threshold {result.shipped_threshold:.3f}" if result.fixed else
             f"recipe {result.recipe} ({result.seconds:.0f} s); threshold per source fixed on the others; "
             f"shipped threshold (pooled EER) {result.shipped_threshold:.3f}",
             f"  {'left out':<20} {'thr':>6} {'APCER':>6} {'BPCER':>6} {'ACER':>6} {'AUC':>6} {'EER':>6} "
             f"sessions  | BPCER, APCER at shipped thr."]
    for r in result.sources:
        m, s = r.metrics, result.at_shipped_threshold[r.source]
        auc = "   n/a" if m["auc"] is None else f"{m['auc']:6.3f}"
        lines.append(f"  {r.source:<20} {r.threshold:6.3f} {rate(m['apcer'])} {rate(m['bpcer'])} "
                     f"{rate(m['acer'])} {auc} {rate(m['eer'])} "
                     f"{sum(x['correct'] for x in r.sessions)}/{len(r.sessions):<7} | "
                     f"{rate(s['bpcer'])} {rate(s['apcer'])}")
    summary = result.summary()
    lines.append("  mean ACER {} (worst {} {}), mean AUC {:.3f} (worst {} {:.3f}), sessions {}".format(
        rate(summary.get("mean_acer")), summary["worst_acer"]["source"], rate(summary["worst_acer"]["value"]),
        summary["mean_auc"], summary["worst_auc"]["source"], summary["worst_auc"]["value"],
        summary["sessions_correct"]))
    return "\n".join(lines)
