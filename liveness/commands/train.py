"""``train DATA... --out MODEL.tflite``: train the passive-liveness model.

DATA are folders holding ``live`` and ``attack`` images or videos (see
``liveness/pad/data.py``). The CNN is trained on all of them, the
colour-texture model fused with it only on ``--texture-sources`` (default
``nuaa``). With ``--cross-validate K`` the subjects are split into K folds
instead, one fused model per fold is trained and scored on the subjects it
never saw, and ``--out`` is a folder for the fold models and the pooled
reports (also rated at nested thresholds: ``nested.json``); ``--jobs N``
trains N fold models at a time. ``--ensemble N`` trains N CNNs from
consecutive seeds and exports them as one network (mean of their logits).

``--leave-one-source-out`` runs the acceptance protocol instead
(``liveness/pad/loso.py``): for each DATA folder, every ``--recipe`` is
trained on the other folders, its threshold fixed on them alone, and scored
on the folder left out; ``--out`` is a folder for ``report.json`` and plots.
"""

from __future__ import annotations

from pathlib import Path

from ..cli import CommandError
from ..pad.crops import CropSpec
from ..policy import DEFAULT_POLICY
from ..pad.texture import DEFAULT_L2, TEXTURE_SOURCES

TEXTURE_SOURCES_HELP = (
    "data folder names (e.g. nuaa) the colour-texture model is trained on; it is fused with the CNN "
    "by the mean of their logits. Default: nuaa only: printed photos teach it paper texture, while "
    "with even one replay person in its training set it learns that person's screen and inverts "
    "on other people (models/passive/MODEL_CARD.md). Give no name to train the CNN alone")


def _case_crops(args, spec):
    """The store's decided cases as crops (``--from-cases``), or None without the flag."""
    if not args.from_cases:
        return None
    from ..pad.cases import CASES_SOURCE, case_crops
    from ..store import open_store

    store = open_store()
    try:
        read = case_crops(store, spec, actor="cli:train")
    finally:
        store.close()
    if not read.cases:
        raise CommandError("--from-cases: the store holds no decided case with evidence"
                           + (f" ({read.purged} decided case(s) purged)" if read.purged else ""))
    if not args.quiet:
        print(f"{CASES_SOURCE}: {read.cases} decided case(s), {len(read.crops.labels)} key-frame face(s)"
              + (f"; {read.purged} purged case(s) skipped" if read.purged else ""))
    return read.crops


def _linear_crops(args, spec):
    """The crops the linear recipes read: every DATA folder, the decided cases
    (``--from-cases``) and synthetic attacks (``--synthetic N``)."""
    from ..config import settings
    from ..pad.crops import CropSet, load_crops
    from ..pad.data import LIVE, discover, discover_all
    from ..pad.loso import synthetic_training_crops

    presentations = discover_all(args.data)
    parts = [load_crops(presentations, spec, args.frame_step, progress=not args.quiet)]
    cases = _case_crops(args, spec)
    if cases is not None:
        parts.append(cases)
    if args.synthetic:
        faces = list(presentations)
        for folder in ("verify", "video"):  # live faces that no source under test holds
            if (settings().data_dir / folder).is_dir():
                faces += discover(settings().data_dir / folder, label=LIVE)
        parts.append(synthetic_training_crops(faces, spec, args.synthetic, progress=not args.quiet))
        if not args.quiet:
            print(f"synthetic attacks: {len(parts[-1].labels)} crops", flush=True)
    return CropSet.concat(parts) if len(parts) > 1 else parts[0]


def _leave_one_source_out(args) -> int:
    from ..pad.loso import DEFAULT_MAX_PER_GROUP, format_loso, leave_one_source_out, save_loso
    from ..pad.recipes import MULTISCALE, PIXEL_FEATURES, RECIPES, nested_features

    unknown = sorted(set(args.recipe) - set(RECIPES))
    if unknown:
        raise CommandError(f"unknown recipe {', '.join(unknown)}: choose from {', '.join(RECIPES)}")
    if args.inner_groups < 2:
        raise CommandError("--inner-groups must be at least 2")
    crops = _linear_crops(args, CropSpec(scales=MULTISCALE, size=args.size))
    results = []
    for path in args.compare_model:
        from ..passive import load_passive_model
        from ..pad.loso import fixed_model_result

        model = load_passive_model(path)
        if model is None:
            raise CommandError(f"--compare-model: no model at {path}")
        results.append(fixed_model_result(model, crops, DEFAULT_POLICY.passive_threshold))
        print(format_loso(results[-1]), flush=True)
    shared = nested_features([n for n in args.recipe if n in PIXEL_FEATURES], crops.inputs) if set(
        args.recipe) & set(PIXEL_FEATURES) else {}
    for name in args.recipe:
        try:
            result = leave_one_source_out(RECIPES[name], crops, args.inner_groups,
                                          args.max_per_group or DEFAULT_MAX_PER_GROUP, progress=not args.quiet,
                                          features=shared.get(name))
        except ValueError as error:
            raise CommandError(str(error)) from None
        results.append(result)
        print(format_loso(result), flush=True)
    print(f"report and plots in {save_loso(results, args.out).parent}")
    return 0


def _train_linear(args) -> int:
    """``--out MODEL.json --recipe NAME``: a linear recipe alone on every DATA folder (no CNN)."""
    from ..pad.loso import DEFAULT_MAX_PER_GROUP, train_linear
    from ..pad.recipes import MULTISCALE, PIXEL_FEATURES

    if len(args.recipe) != 1 or args.recipe[0] not in PIXEL_FEATURES:
        raise CommandError(f"a .json model is one linear recipe: --recipe one of {', '.join(PIXEL_FEATURES)}")
    crops = _linear_crops(args, CropSpec(scales=MULTISCALE, size=args.size))
    info = train_linear(args.recipe[0], crops, args.out, args.version, args.max_per_group or DEFAULT_MAX_PER_GROUP)
    print(f"wrote {args.out}: {info.version}, recipe {args.recipe[0]}, "
          f"{sum(info.training['samples'].values())} samples from {', '.join(info.training['data'])}")
    return 0


def _run(args) -> int:
    if args.ensemble < 1 or args.jobs < 1:
        raise CommandError("--ensemble and --jobs must be at least 1")
    if args.leave_one_source_out:
        return _leave_one_source_out(args)
    if args.out.suffix == ".json":
        return _train_linear(args)
    from ..pad.training import TrainConfig, train  # TensorFlow: only when training

    config = TrainConfig(
        crop=CropSpec(scales=tuple(args.scales), size=args.size), epochs=args.epochs,
        batch_size=args.batch_size, learning_rate=args.learning_rate, frame_step=args.frame_step,
        seed=args.seed, ensemble=args.ensemble, exclude_subjects=tuple(args.exclude_subjects),
        max_per_group=args.max_per_group, texture_sources=tuple(args.texture_sources),
        texture_l2=args.texture_l2, version=args.version)
    progress = not args.quiet
    if args.cross_validate:
        from ..pad.crossval import cross_validate, format_nested, format_parts
        from ..pad.evaluation import format_report

        result = cross_validate(args.data, args.out, args.cross_validate, config,
                                cross_domain_dirs=args.cross_domain, progress=progress, jobs=args.jobs)
        print("held-out subjects, pooled over folds:\n" + format_report(result.in_domain))
        print("at nested thresholds (each fold at the EER threshold of the other folds' pooled "
              "scores; per source: that source's scores only):\n" + format_nested(result.nested))
        if result.parts:
            print("the parts of the fused fold models alone:\n" + format_parts(result.parts))
        if result.cross_domain:
            print("cross-domain, every fold model:\n" + format_report(result.cross_domain))
        print(f"reports in {args.out}")
        return 0
    if args.out.suffix != ".tflite":
        raise CommandError("--out must be a .tflite path, a .json for a linear recipe alone (--recipe), "
                           "or a folder with --cross-validate or --leave-one-source-out")
    result = train(args.data, args.out, config, progress=progress, extra=_case_crops(args, config.crop))
    print(f"wrote {result.model_path} ({result.model_path.stat().st_size / 1024:.0f} KiB) and "
          f"{result.model_path.with_suffix('.json').name}: {sum(result.samples.values())} samples, "
          f"final loss {result.final_loss:.4f}, {result.seconds:.0f} s")
    return 0


def register(sub) -> None:
    parser = sub.add_parser("train", help="train the passive-liveness CNN (TensorFlow) and its "
                                          "texture model, export .tflite + .json")
    parser.add_argument("data", nargs="+", type=Path, help="folders with live/ and attack/ images or videos")
    parser.add_argument("--out", type=Path, required=True, help="the .tflite to write (.json beside it)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ensemble", type=int, default=1, metavar="N",
                        help="train N CNNs (seeds SEED..SEED+N-1) and export them as one network "
                             "averaging their logits: steadier on unseen people than one CNN")
    parser.add_argument("--epochs", type=int, default=14)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--frame-step", type=int, default=3, help="use every Nth video frame")
    parser.add_argument("--scales", type=float, nargs="+", default=list(CropSpec().scales),
                        help="face-box multiples of the stacked crops")
    parser.add_argument("--size", type=int, default=CropSpec().size, help="crop side in pixels")
    parser.add_argument("--exclude-subjects", nargs="*", default=[], metavar="SUBJECT",
                        help="keep these subjects out of training (to test on them)")
    parser.add_argument("--max-per-group", type=int, help="at most N faces per source and label")
    parser.add_argument("--texture-sources", nargs="*", default=list(TEXTURE_SOURCES), metavar="NAME",
                        help=TEXTURE_SOURCES_HELP)
    parser.add_argument("--texture-l2", type=float, default=DEFAULT_L2,
                        help="L2 penalty of the texture logistic regression (standardised features)")
    parser.add_argument("--version", default="passive-dev", help="recorded in the model and verdicts")
    parser.add_argument("--cross-validate", type=int, metavar="K",
                        help="K-fold by subject; --out is then a folder")
    parser.add_argument("--jobs", type=int, default=1, metavar="N",
                        help="with --cross-validate: train N fold models at a time (one process "
                             "and one core each; the models are the same as with 1)")
    parser.add_argument("--cross-domain", type=Path, nargs="*", default=[], metavar="DIR",
                        help="with --cross-validate: also score every fold model on these folders")
    parser.add_argument("--leave-one-source-out", action="store_true",
                        help="the acceptance protocol: each DATA folder scored by models trained on the "
                             "others, thresholds fixed on the others; --out is then a folder")
    parser.add_argument("--recipe", nargs="+", default=["size_blur", "texture", "texture_fft", "multiscale"],
                        help="with --leave-one-source-out: the recipes to compare (liveness/pad/recipes.py); "
                             "with --out MODEL.json: the one linear recipe to train (no CNN)")
    parser.add_argument("--compare-model", type=Path, nargs="*", default=[], metavar="MODEL",
                        help="with --leave-one-source-out: also score these shipped-format models (.tflite) "
                             "on every source at the policy threshold, in the same table")
    parser.add_argument("--inner-groups", type=int, default=3, metavar="K",
                        help="with --leave-one-source-out: the training sources are dealt into K groups to "
                             "fix the threshold on scores of sources each inner model never saw")
    parser.add_argument("--synthetic", type=int, default=0, metavar="N",
                        help="linear recipes: also train on synthetic print and screen attacks "
                             "(liveness/pad/synth.py) of N live stills of each source, of verify/ and "
                             "video/ and of every live clip; never tested on, and left out with the "
                             "source their face came from")
    parser.add_argument("--from-cases", action="store_true",
                        help="also train on the store's decided cases (their key frames, decrypted with "
                             "the evidence key; approved = live, rejected = attack; each read audited), "
                             "as the source review_cases")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.set_defaults(run=_run)
