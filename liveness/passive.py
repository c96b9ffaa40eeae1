"""Passive liveness: the probability that a face is live, per frame.

The model (``models/passive/passive_cnn.tflite``, see its MODEL_CARD.md) is a
CNN run on LiteRT, not TensorFlow, with one thread. When its JSON sidecar
holds a colour-texture model (``liveness/pad/texture.py``), the two are fused:
p = sigmoid((logit(p_cnn) + texture logit) / 2). Crop, features and both
models take a few milliseconds per face on one core.
The session scores every ``policy.passive_every_n``-th frame, then decides on
:func:`aggregate` of the scores against ``policy.passive_threshold``.

A model may also be a linear model alone (a ``.json``, no CNN: see
``liveness/pad/artifact.py``): p = sigmoid(its logit).

Thread safety: a :class:`PassiveLiveness` owns one LiteRT interpreter, which
is not thread-safe. Use one instance per stream or thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from .config import PROJECT_ROOT
from .detection import Face
from .metrics import timed
from .pad.artifact import ModelInfo
from .pad.crops import face_input
from .pad.recipes import pixel_features
from .pad.texture import fuse_mean_logit, sigmoid

PASSIVE_MODEL_PATH = PROJECT_ROOT / "models" / "passive" / "passive_cnn.tflite"
TRIM_FRACTION = 0.1  # trimmed_mean drops this share of the scores at each end


class PassiveLiveness:
    """The shipped passive-liveness model on one LiteRT interpreter (one per thread)."""

    def __init__(self, path: Path | str = PASSIVE_MODEL_PATH):
        path = Path(path)
        if not path.is_file():
            raise ValueError(f"passive liveness model {path} does not exist")
        self.path = path
        self.info = ModelInfo.load(path)
        self.version: str = self.info.version
        self.crop = self.info.crop
        self._interpreter = None
        if self.info.cnn:
            self._interpreter = Interpreter(model_path=str(path), num_threads=1)
            self._interpreter.allocate_tensors()
            self._input = self._interpreter.get_input_details()[0]["index"]
            self._output = self._interpreter.get_output_details()[0]["index"]

    @property
    def has_cnn(self) -> bool:
        return self._interpreter is not None

    def cnn_probability(self, crops: np.ndarray) -> float | None:
        """The CNN's live probability alone for one prepared input; None without a CNN."""
        if self._interpreter is None:
            return None
        self._interpreter.set_tensor(self._input, crops[np.newaxis].astype(np.float32))
        self._interpreter.invoke()
        return float(np.clip(self._interpreter.get_tensor(self._output).reshape(-1)[0], 0.0, 1.0))

    def texture_logit(self, crops: np.ndarray):
        """The texture model's live logit for one prepared input (a float), or for a batch of
        them (an array); None without a texture model."""
        texture = self.info.texture
        if texture is None:
            return None
        logits = texture.logits(pixel_features(texture.features, crops))
        return float(logits) if np.ndim(logits) == 0 else logits

    def fuse(self, cnn_probability, texture_logit):
        """The live probability from the parts, by the sidecar's rule: the CNN's alone, the
        linear model's alone, or the mean of the two logits (one input or a batch)."""
        if texture_logit is None:
            return cnn_probability
        if cnn_probability is None:
            return sigmoid(texture_logit) if np.ndim(texture_logit) else float(sigmoid(texture_logit))
        return fuse_mean_logit(cnn_probability, texture_logit)

    def score_input(self, crops: np.ndarray) -> float:
        """Live probability for one prepared input (see :func:`liveness.pad.crops.face_input`)."""
        return float(self.fuse(self.cnn_probability(crops), self.texture_logit(crops)))

    @timed("passive")
    def score(self, frame_bgr: np.ndarray, face: Face) -> float:
        """Live probability in [0, 1] for ``face`` (a detection in ``frame_bgr``)."""
        return self.score_input(face_input(frame_bgr, face, self.crop))


def load_passive_model(path: Path | str | None = None) -> PassiveLiveness | None:
    """The model at ``path`` (default: the shipped one), or None when that file does not exist."""
    path = Path(path) if path is not None else PASSIVE_MODEL_PATH
    return PassiveLiveness(path) if path.is_file() else None


def aggregate(scores: Sequence[float], method: str = "median") -> float | None:
    """One session score from per-frame scores; None when there are none.

    "median", or "trimmed_mean": the mean after dropping 10% of the scores at
    each end (robust to a few frames of motion blur or a bad detection).
    """
    values = np.sort(np.asarray(scores, dtype=np.float64))
    if values.size == 0:
        return None
    if method == "median":
        return float(np.median(values))
    if method == "trimmed_mean":
        cut = int(values.size * TRIM_FRACTION)
        return float(values[cut:values.size - cut].mean())
    raise ValueError(f"unknown aggregate method {method!r}: use 'median' or 'trimmed_mean'")
