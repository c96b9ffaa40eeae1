"""The passive-liveness CNN (Keras) and its export to a LiteRT ``.tflite``.

A compact MobileNet-style network: a strided stem, then depthwise-separable
blocks that halve the resolution four times, global pooling and one sigmoid
unit (probability of a live face). About 50 k parameters and a few MFLOPs at
96 px, so one face takes about a millisecond on one CPU core. The input is
the raw uint8 crop stack as float32 0..255; scaling happens inside the graph
so the engine feeds pixels as they are.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

import keras
import tensorflow as tf
from keras import layers, ops

from .texture import PROBABILITY_CLIP

# (filters, stride) of the depthwise-separable blocks after the stem.
BLOCKS = ((32, 1), (48, 2), (48, 1), (64, 2), (64, 1), (96, 2), (96, 1), (128, 2))


def _separable(x, filters: int, stride: int, name: str):
    x = layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False, name=f"{name}_dw")(x)
    x = layers.BatchNormalization(name=f"{name}_dw_bn")(x)
    x = layers.ReLU(6.0, name=f"{name}_dw_relu")(x)
    x = layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_pw")(x)
    x = layers.BatchNormalization(name=f"{name}_pw_bn")(x)
    return layers.ReLU(6.0, name=f"{name}_pw_relu")(x)


def build_model(size: int, channels: int, dropout: float = 0.3, name: str = "passive_cnn") -> keras.Model:
    inputs = keras.Input((size, size, channels), name="crops")
    x = layers.Rescaling(1 / 127.5, offset=-1.0, name="scale")(inputs)
    x = layers.Conv2D(24, 3, strides=2, padding="same", use_bias=False, name="stem")(x)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.ReLU(6.0, name="stem_relu")(x)
    for i, (filters, stride) in enumerate(BLOCKS):
        x = _separable(x, filters, stride, f"block{i}")
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(1, activation="sigmoid", name="live")(x)
    return keras.Model(inputs, outputs, name=name)


def ensemble_model(members: Sequence[keras.Model]) -> keras.Model:
    """One network whose live probability is the sigmoid of the mean of the members' logits
    (each clipped as :func:`liveness.pad.texture.probability_logit` clips), the same rule
    as the texture fusion. Members trained from different seeds disagree on held-out
    subjects; their mean varies far less from one training run to the next than any one.
    """
    if len(members) == 1:
        return members[0]
    inputs = keras.Input(members[0].input_shape[1:], name="crops")
    logits = []
    for member in members:
        p = ops.clip(member(inputs), PROBABILITY_CLIP, 1.0 - PROBABILITY_CLIP)
        logits.append(ops.log(p) - ops.log(1.0 - p))
    return keras.Model(inputs, ops.sigmoid(ops.mean(ops.stack(logits), axis=0)), name="passive_cnn_ensemble")


def export_tflite(model: keras.Model, path: Path) -> int:
    """Write ``model`` as a float32 ``.tflite``; returns its size in bytes.

    Through a SavedModel: converting a traced function directly would keep
    the weights as uninitialised resource variables.
    """
    with tempfile.TemporaryDirectory() as saved:
        model.export(saved, format="tf_saved_model", verbose=False)
        blob = tf.lite.TFLiteConverter.from_saved_model(saved).convert()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(blob)
    return len(blob)
