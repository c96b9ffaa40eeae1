"""Training the passive-liveness model from live/attack folders and videos.

Two parts, one artifact: the CNN on every source, and the colour-texture
model (``texture.py``) on the crops of ``texture_sources`` only (default
NUAA's printed photos), written into the CNN's JSON sidecar to be fused with
it. The texture model sees no replay clip: with even one replay person in
its training set it learns that person's screen and inverts on other people
(subject-disjoint CV, models/passive/MODEL_CARD.md); nor the CNN's blur,
noise and JPEG augmentation, which wipe out the texture it measures.

Reproducible: one seed per CNN drives Keras/TensorFlow (deterministic ops, one
thread), the augmentation and the shuffling; the face crops and the texture
model's Newton fit are deterministic. ``ensemble`` CNNs from consecutive seeds
are exported as one network averaging their logits: a single from-scratch
CNN's held-out results moved by several points from one training run to the
next, which an average of a few damps (MODEL_CARD.md).
Each (source, label) group gets the same total weight, so 600 replay frames
count as much as 2,000 NUAA photos and neither class dominates.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from .artifact import ModelInfo
from .augment import augment_batch
from .crops import CropSet, CropSpec, group_weights, load_crops
from .data import discover_all
from .model import build_model, ensemble_model, export_tflite
from .texture import DEFAULT_L2, TEXTURE_SOURCES, TextureModel, fit_texture_model, texture_features



@dataclass(frozen=True)
class TrainConfig:
    crop: CropSpec = CropSpec()
    epochs: int = 14
    batch_size: int = 64
    learning_rate: float = 3e-3
    weight_decay: float = 1e-4
    label_smoothing: float = 0.1  # no 0/1 targets: keeps held-out scores off the extremes
    frame_step: int = 3  # every 3rd video frame: neighbours are near duplicates
    seed: int = 0
    ensemble: int = 1  # CNNs from seeds seed, seed + 1, ...; exported as one (mean of their logits)
    exclude_subjects: tuple[str, ...] = ()
    max_per_group: int | None = None  # cap per (source, label), for quick runs and tests
    texture_sources: tuple[str, ...] = TEXTURE_SOURCES  # () trains the CNN alone
    texture_l2: float = DEFAULT_L2
    version: str = "passive-dev"

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(range(self.seed, self.seed + self.ensemble))


@dataclass
class TrainResult:
    model_path: Path
    info: ModelInfo
    samples: dict[str, int]  # per "source/label" group
    final_loss: float
    seconds: float
    history: list[dict] = field(default_factory=list)


def train_texture(crops: CropSet, sources: Sequence[str], l2: float = DEFAULT_L2) -> TextureModel:
    """The texture model on the crops of ``sources`` (data folder names), groups weighted equally."""
    chosen = crops.select(np.isin(crops.sources(), list(sources)))
    if len(np.unique(chosen.labels)) < 2:
        raise ValueError(f"the texture model needs live and attack faces from {', '.join(sources)} "
                         "(data folder names; --texture-sources)")
    weights, samples = group_weights(chosen)
    return fit_texture_model(texture_features(chosen.inputs), chosen.labels.astype(np.float64), weights,
                             l2, training={"sources": list(sources), "samples": samples, "l2": l2,
                                           "subjects": sorted(set(chosen.subjects().tolist()))})


def _subsample(crops: CropSet, limit: int, rng: np.random.Generator) -> CropSet:
    groups = np.char.add(crops.sources(), crops.labels.astype(str))
    keep = np.sort(np.concatenate([
        rng.permutation(np.flatnonzero(groups == g))[:limit] for g in np.unique(groups)]))
    return crops.select(keep)


def _one_thread() -> None:
    """TensorFlow on one thread, so the weights do not depend on the machine's cores: the
    same seeded command gave different CNNs on one core and on two (MODEL_CARD.md)."""
    if tf.config.threading.get_intra_op_parallelism_threads() == 1:
        return
    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # TensorFlow already ran with other settings in this process
        print("warning: TensorFlow already initialised; training on its thread pools, whose "
              "size can change the weights", file=sys.stderr)


def _fit_cnn(crops: CropSet, weights: np.ndarray, config: TrainConfig, seed: int, member: int,
             verbose: int) -> tuple[keras.Model, list[dict]]:
    """One CNN of the ensemble, from ``seed`` (weights, augmentation, shuffling)."""
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    model = build_model(config.crop.size, config.crop.channels, name=f"passive_cnn_{member}")
    steps = config.epochs * int(np.ceil(len(crops.labels) / config.batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(config.learning_rate, steps, alpha=0.02)
    model.compile(optimizer=keras.optimizers.AdamW(schedule, weight_decay=config.weight_decay),
                  loss=keras.losses.BinaryCrossentropy(label_smoothing=config.label_smoothing), metrics=["binary_accuracy"])
    labels = crops.labels.astype(np.float32)
    history = []
    for epoch in range(config.epochs):
        inputs = augment_batch(crops.inputs, rng).astype(np.float32)
        fitted = model.fit(inputs, labels, sample_weight=weights, batch_size=config.batch_size,
                           initial_epoch=epoch, epochs=epoch + 1, shuffle=True, verbose=verbose)
        history.append({"member": member, "seed": seed, **{k: float(v[-1]) for k, v in fitted.history.items()}})
    return model, history


def train(data_dirs: Sequence[Path | str], out: Path, config: TrainConfig = TrainConfig(),
          cache_dir: Path | None = None, progress: bool = True, extra: CropSet | None = None) -> TrainResult:
    """Train on every labelled presentation under ``data_dirs``, plus ``extra`` crops (e.g. the
    reviewers' decided cases, ``cases.py``); write ``out`` (.tflite + .json)."""
    started = time.monotonic()
    _one_thread()
    tf.config.experimental.enable_op_determinism()

    presentations = discover_all(data_dirs, exclude_subjects=config.exclude_subjects)
    crops = load_crops(presentations, config.crop, config.frame_step, cache_dir=cache_dir,
                       progress=progress)
    if extra is not None:
        crops = CropSet.concat([crops, extra])
        presentations = crops.presentations
    if config.max_per_group:
        crops = _subsample(crops, config.max_per_group, np.random.default_rng(config.seed))
    if len(np.unique(crops.labels)) < 2:
        raise ValueError("training needs both live and attack faces")
    # Seconds, and no random numbers: fitted first so a wrong --texture-sources fails early.
    texture = train_texture(crops, config.texture_sources, config.texture_l2) if config.texture_sources else None
    weights, samples = group_weights(crops)
    if progress:
        print("training samples: " + ", ".join(f"{k} {v}" for k, v in samples.items()), file=sys.stderr)

    verbose = (1 if sys.stderr.isatty() else 2) if progress else 0
    members, history, final_losses = [], [], []
    for member, seed in enumerate(config.seeds):
        if progress and config.ensemble > 1:
            print(f"CNN {member + 1}/{config.ensemble} (seed {seed})", file=sys.stderr, flush=True)
        model, member_history = _fit_cnn(crops, weights, config, seed, member, verbose)
        members.append(model)
        history.extend(member_history)
        final_losses.append(member_history[-1]["loss"])

    out = Path(out)
    export_tflite(ensemble_model(members), out)
    info = ModelInfo(version=config.version, crop=config.crop, training={
        "data": [Path(d).name for d in data_dirs] + sorted({p.source for p in extra.presentations} if extra else []),
        "samples": samples,
        "subjects": sorted({p.subject for p in presentations}), "seeds": list(config.seeds),
        **{k: v for k, v in asdict(config).items() if k not in ("crop", "version")}},
        texture=texture)
    info.save(out)
    return TrainResult(model_path=out, info=info, samples=samples,
                       final_loss=float(np.mean(final_losses)), seconds=time.monotonic() - started,
                       history=history)
