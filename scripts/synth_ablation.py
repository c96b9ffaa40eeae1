"""Does attack synthesis help on real attack sources never trained on? A quick ablation.

Two protocols, each recipe (``liveness/pad/recipes.py``) trained with and
without synthetic attacks (``liveness/pad/synth.py``), scored only on real data:

* ``nuaa-only``: trained on NUAA alone (its live faces; its printed photos
  and/or synthetic attacks made from its live faces), scored on every other
  source of ``pad/``: cameras, people and instruments (mostly screens) it never saw;
* ``loso``: each source left out in turn; trained on the others' real data,
  with or without the synthetic attacks made from every live face whose source
  is not the left-out one (``verify/`` and ``video/`` included).

Each protocol also trains with the camera twins of the same live faces
(``camera_twin``: the recapture's camera alone, labelled live) beside the
synthetic attacks, so that only the print or screen tells them apart.

The threshold is the EER point of the training scores (in-sample: a quick
ablation, not the acceptance protocol of ``liveness/pad/loso.py``); AUC and
EER do not depend on it. Synthetic attacks are made from at most
``--live-per-source`` live files per source (evenly spaced) and every live
clip's every 10th frame; real crops come from the crop cache.

    PYTHONPATH=. .venv/bin/python scripts/synth_ablation.py --out var/synth_ablation
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

import liveness  # noqa: F401  (load order)
from liveness.config import settings
from liveness.pad.crops import CropSet, CropSpec, group_weights, load_crops
from liveness.pad.data import discover
from liveness.pad.loso import capped, presentation_scores
from liveness.pad.metrics import equal_error_rate, error_curve, pad_metrics
from liveness.pad.recipes import MULTISCALE, RECIPES
from liveness.pad.synth import CAMERA, live_presentations, origin_sources, synthetic_crops


def _spaced(items: list, limit: int) -> list:
    return items if len(items) <= limit else [items[i] for i in np.linspace(0, len(items) - 1, limit).round().astype(int)]


def _fit_and_score(recipe, features, crops, train, test, cap):
    train = capped(crops, train, cap)
    subset = crops.select(train)
    weights, samples = group_weights(subset)
    model = recipe.fit(features[train], subset.labels, weights)
    fitted = recipe.score(model, features[train])
    threshold = equal_error_rate(error_curve(fitted[subset.labels == 1], fitted[subset.labels == 0]))[1]
    index = np.flatnonzero(test)
    scores = presentation_scores(crops, index, recipe.score(model, features[index]))
    return threshold, scores, samples


def _row(name: str, scores, threshold: float) -> dict:
    m = pad_metrics(scores.live, scores.attacks, threshold)
    return {"source": name, "threshold": threshold, "auc": m.auc, "eer": m.eer, "apcer": m.apcer,
            "bpcer": m.bpcer, "acer": m.acer, "live": m.bona_fide, "attacks": sum(m.attacks_per_species.values())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=settings().data_dir)
    parser.add_argument("--out", type=Path, default=settings().var_dir / "synth_ablation")
    parser.add_argument("--recipes", nargs="+", default=["texture", "multiscale"], choices=sorted(RECIPES))
    parser.add_argument("--live-per-source", type=int, default=60)
    parser.add_argument("--nuaa-live", type=int, default=450, help="NUAA live files made into synthetic attacks")
    parser.add_argument("--max-per-group", type=int, default=600)
    parser.add_argument("--protocols", nargs="+", default=["nuaa-only", "loso"], choices=["nuaa-only", "loso"])
    args = parser.parse_args()

    spec = CropSpec(scales=MULTISCALE)
    sources = sorted(p for p in (args.data / "pad").iterdir() if p.is_dir())
    real = load_crops([p for s in sources for p in discover(s)], spec, frame_step=3)
    origins: dict[str, list] = {}
    for p in live_presentations(args.data):
        origins.setdefault(p.source, []).append(p)
    chosen = []
    for source, items in sorted(origins.items(), key=lambda kv: kv[0] != "nuaa"):  # NUAA first
        stills = [p for p in items if not p.is_video]
        chosen += _spaced(stills, args.nuaa_live if source == "nuaa" else args.live_per_source)
        chosen += [p for p in items if p.is_video]
    synthetic = synthetic_crops(chosen, spec)
    twins = synthetic_crops(chosen, spec, species=[CAMERA])
    crops = CropSet.concat([real, synthetic, twins])
    print(f"real crops {len(real.inputs)}, synthetic {len(synthetic.inputs)} "
          f"({int(synthetic.frames_without_face.sum())} without a face) from {len(chosen)} live files",
          file=sys.stderr, flush=True)

    labels, crop_sources, origin = crops.labels, crops.sources(), origin_sources(crops)
    is_synthetic = crops.synthetic_mask()
    twin = is_synthetic & (labels == 1)
    attack = is_synthetic & (labels == 0)
    testable = sorted({s for s in crop_sources[~is_synthetic]
                       if (labels[(crop_sources == s)] == 0).any() and (labels[(crop_sources == s)] == 1).any()})
    report = {}
    for name in args.recipes:
        recipe = RECIPES[name]
        features = recipe.featurize(crops)
        if "nuaa-only" in args.protocols:
            nuaa_live = (crop_sources == "nuaa") & (labels == 1)
            variants = {"real print": nuaa_live | ((crop_sources == "nuaa") & (labels == 0)),
                        "synthetic only": nuaa_live | (attack & (origin == "nuaa")),
                        "synthetic + camera twins": nuaa_live | (is_synthetic & (origin == "nuaa")),
                        "real print + synthetic": (crop_sources == "nuaa") | (attack & (origin == "nuaa")),
                        "real print + synthetic + twins": (crop_sources == "nuaa") | (is_synthetic & (origin == "nuaa"))}
            for variant, train in variants.items():
                rows = []
                for source in testable:
                    if source == "nuaa":
                        continue
                    threshold, scores, samples = _fit_and_score(
                        recipe, features, crops, train, (crop_sources == source) & ~is_synthetic, args.max_per_group)
                    rows.append(_row(source, scores, threshold))
                report[f"{name} | nuaa-only | {variant}"] = {"train": samples, "rows": rows}
                _print(f"{name} | nuaa-only | {variant}", rows)
        if "loso" in args.protocols:
            for variant, made in (("real only", None), ("real + synthetic", attack),
                                  ("real + synthetic + camera twins", is_synthetic)):
                rows = []
                for source in testable:
                    train = (crop_sources != source) & ~is_synthetic
                    if made is not None:
                        train |= made & (origin != source)
                    threshold, scores, samples = _fit_and_score(
                        recipe, features, crops, train, (crop_sources == source) & ~is_synthetic, args.max_per_group)
                    rows.append(_row(source, scores, threshold))
                report[f"{name} | loso | {variant}"] = {"rows": rows}
                _print(f"{name} | loso | {variant}", rows)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"report in {args.out / 'report.json'}")
    return 0


def _print(title: str, rows: list[dict]) -> None:
    def pct(v):
        return "  n/a" if v is None else f"{100 * v:5.1f}"
    print(f"{title}\n  {'left out / test':<20} {'AUC':>6} {'EER%':>6} {'APCER%':>7} {'BPCER%':>7} {'ACER%':>6}")
    for r in rows:
        print(f"  {r['source']:<20} {r['auc']:6.3f} {pct(r['eer']):>6} {pct(r['apcer']):>7} {pct(r['bpcer']):>7} "
              f"{pct(r['acer']):>6}")
    print(f"  {'mean':<20} {np.mean([r['auc'] for r in rows]):6.3f} {pct(np.mean([r['eer'] for r in rows])):>6} "
          f"{pct(np.mean([r['apcer'] for r in rows])):>7} {pct(np.mean([r['bpcer'] for r in rows])):>7} "
          f"{pct(np.mean([r['acer'] for r in rows])):>6}  (worst AUC {min(r['auc'] for r in rows):.3f})",
          flush=True)


if __name__ == "__main__":
    sys.exit(main())
