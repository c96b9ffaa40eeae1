"""Colour-texture features and the linear model on them, fused with the CNN.

Recipe (after Boulkenafet et al., "Face anti-spoofing based on colour
texture analysis"): the CNN's own face crop (the first crop scale, 1.3x the
box) resized to 64x64 (INTER_AREA), converted to HSV and YCrCb; for each of
those 6 channels and each radius r = 1, 2, 3 the histogram of uniform LBP(8, r)
codes (58 uniform patterns + 1 bin for all others = 59 bins), normalised to
sum 1; the square roots of the 18 histograms, concatenated: 1,062 values.
An L2-regularised logistic regression on the standardised features gives a
live logit; standardisation is folded into the exported weights.

The LBP neighbours of a pixel are the 8 pixels at offsets (dy, dx) * r with
dy, dx in {-1, 0, 1} (the square of radius r, no interpolation), in the
order of :data:`NEIGHBOURS`; neighbour k sets bit k when it is >= the centre.

Printed photos differ from skin in colour gamut and in fine texture (paper
grain, halftone), which a histogram of local patterns captures without
learning the person or the room: on NUAA it generalises across subjects far
better than the from-scratch CNN (models/passive/MODEL_CARD.md). Everything
is vectorised numpy/OpenCV: about a millisecond per face.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

TEXTURE_SIZE = 64
RADII = (1, 2, 3)
COLOUR_CONVERSIONS = (("HSV", cv2.COLOR_BGR2HSV), ("YCrCb", cv2.COLOR_BGR2YCrCb))
NEIGHBOURS = ((-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1))  # clockwise from top-left
PROBABILITY_CLIP = 1e-4  # probabilities are clipped to [1e-4, 1 - 1e-4] before taking logits
LOGIT_LIMIT = float(np.log(1 / PROBABILITY_CLIP - 1))
DEFAULT_L2 = 10.0  # 1 and 100 give the same cross-validated EER within half a point
# The texture model learns from printed-photo data only: with one replay person in its
# training set it learns that person's screen and inverts on the next (MODEL_CARD.md).
TEXTURE_SOURCES = ("nuaa",)
NEWTON_ITERATIONS = 25
CHUNK = 256  # faces per batch of features: bounds the memory of the per-pixel arrays


def _uniform_bins(points: int = 8) -> np.ndarray:
    """Bin of every LBP code: uniform codes (<= 2 circular 0/1 transitions) numbered
    in increasing code order, every other code in one last bin."""
    codes = np.arange(2 ** points)
    bits = (codes[:, None] >> np.arange(points)) & 1
    transitions = np.sum(bits != np.roll(bits, -1, axis=1), axis=1)
    uniform = transitions <= 2
    bins = np.full(codes.size, uniform.sum(), np.uint8)
    bins[uniform] = np.arange(uniform.sum())
    return bins


UNIFORM_BINS = _uniform_bins()
BINS = int(UNIFORM_BINS.max()) + 1  # 59
FEATURES = len(COLOUR_CONVERSIONS) * 3 * len(RADII) * BINS  # 1,062


def lbp_histograms(planes: np.ndarray, radius: int) -> np.ndarray:
    """(..., H, W) uint8 planes -> (..., BINS) uniform LBP(8, radius) histograms summing to 1."""
    planes = np.asarray(planes)
    h, w = planes.shape[-2:]
    centre = planes[..., radius:h - radius, radius:w - radius]
    codes = np.zeros(centre.shape, np.uint8)
    for bit, (dy, dx) in enumerate(NEIGHBOURS):
        y, x = radius + dy * radius, radius + dx * radius
        codes |= (planes[..., y:y + h - 2 * radius, x:x + w - 2 * radius] >= centre).astype(np.uint8) << bit
    labels = UNIFORM_BINS[codes.reshape(-1, codes.shape[-2] * codes.shape[-1])]
    offsets = np.arange(labels.shape[0])[:, None] * BINS  # one bincount for every plane at once
    counts = np.bincount((labels + offsets).ravel(), minlength=labels.shape[0] * BINS)
    return counts.reshape(*planes.shape[:-2], BINS) / labels.shape[1]


def colour_planes(crop_bgr: np.ndarray) -> np.ndarray:
    """(6, 64, 64) uint8: H, S, V, Y, Cr, Cb of one BGR crop resized to 64x64."""
    small = cv2.resize(crop_bgr, (TEXTURE_SIZE, TEXTURE_SIZE), interpolation=cv2.INTER_AREA)
    # Contiguous planes: the LBP comparisons then read memory in order (~20 % faster).
    return np.ascontiguousarray(np.concatenate(
        [cv2.cvtColor(small, code) for _, code in COLOUR_CONVERSIONS], axis=2).transpose(2, 0, 1))


def texture_features(crops: np.ndarray) -> np.ndarray:
    """(N, 1062) float64 features of (N, size, size, 3*scales) uint8 model inputs (first scale),
    or (1062,) for one input. Order: channel-major (H, S, V, Y, Cr, Cb), then radius."""
    crops = np.asarray(crops)
    if crops.ndim == 3:
        return texture_features(crops[np.newaxis])[0]
    if not len(crops):
        return np.zeros((0, FEATURES))
    return np.concatenate([_features(crops[start:start + CHUNK]) for start in range(0, len(crops), CHUNK)])


def _features(crops: np.ndarray) -> np.ndarray:
    planes = np.stack([colour_planes(np.ascontiguousarray(c[..., :3])) for c in crops])
    histograms = np.stack([lbp_histograms(planes, r) for r in RADII], axis=2)  # N, 6, radii, BINS
    return np.sqrt(histograms.reshape(len(crops), -1))  # square roots: Hellinger kernel


@dataclass(frozen=True)
class TextureModel:
    """Linear live logit on :func:`texture_features` (standardisation folded in)."""

    weights: np.ndarray  # (FEATURES,), or the length of ``features``'s vector
    bias: float
    training: dict
    features: str = "texture"  # which features it reads (liveness.pad.recipes.PIXEL_FEATURES)

    def logits(self, features: np.ndarray) -> np.ndarray:
        return np.clip(features @ self.weights + self.bias, -LOGIT_LIMIT, LOGIT_LIMIT)

    def as_dict(self) -> dict:
        return {"features": {"size": TEXTURE_SIZE, "radii": list(RADII), "bins": BINS,
                             "colour_spaces": [name for name, _ in COLOUR_CONVERSIONS],
                             "lbp": "uniform LBP(8, r), square neighbourhood", "scaling": "sqrt",
                             "recipe": self.features},
                "training": self.training, "bias": self.bias, "weights": self.weights.tolist()}

    @classmethod
    def from_dict(cls, body: dict, dimensions: dict[str, int] | None = None) -> "TextureModel":
        """``dimensions``: the feature vector's length by recipe name (default: this module's
        texture features only)."""
        recipe = body["features"]
        if (recipe["size"], tuple(recipe["radii"]), recipe["bins"]) != (TEXTURE_SIZE, RADII, BINS):
            raise ValueError(f"texture model made for another feature recipe: {recipe}")
        name = recipe.get("recipe", "texture")
        expected = (dimensions or {"texture": FEATURES}).get(name)
        if expected is None:
            raise ValueError(f"texture model reads unknown features {name!r}")
        weights = np.asarray(body["weights"], np.float64)
        if weights.shape != (expected,):
            raise ValueError(f"texture model has {weights.size} weights, expected {expected}")
        return cls(weights=weights, bias=float(body["bias"]), training=body.get("training", {}), features=name)


def fit_texture_model(features: np.ndarray, labels: np.ndarray, sample_weights: np.ndarray,
                      l2: float = DEFAULT_L2, training: dict | None = None) -> TextureModel:
    """:func:`fit_logistic` on texture features, as a :class:`TextureModel`."""
    weights, bias = fit_logistic(features, labels, sample_weights, l2)
    return TextureModel(weights=weights, bias=bias, training=training or {})


def fit_logistic(features: np.ndarray, labels: np.ndarray, sample_weights: np.ndarray,
                 l2: float = DEFAULT_L2) -> tuple[np.ndarray, float]:
    """Weighted L2 logistic regression by Newton's method (deterministic, no seed needed):
    (weights, bias) of the live logit on the raw features.

    Features are standardised first (the penalty then treats every feature alike);
    the bias is not penalised; the standardisation is folded into the result.
    Sample weights are rescaled to mean 1. Each Newton step is solved by conjugate
    gradients on Hessian-vector products (never forming the d x d Hessian): the
    leave-one-source-out protocol fits thousands of features dozens of times.
    """
    mean, scale = features.mean(axis=0), features.std(axis=0) + 1e-6
    design = np.hstack([(features - mean) / scale, np.ones((len(features), 1))])
    penalty = np.full(design.shape[1], l2)
    penalty[-1] = 0.0
    weights = sample_weights / sample_weights.sum() * len(sample_weights)
    beta = np.zeros(design.shape[1])
    for _ in range(NEWTON_ITERATIONS):
        p = sigmoid(design @ beta)
        gradient = design.T @ (weights * (p - labels)) + penalty * beta
        curvature = weights * p * (1 - p)
        step = _conjugate_gradient(lambda v: design.T @ (curvature * (design @ v)) + penalty * v, gradient)
        beta -= step
        if np.abs(step).max() < 1e-6:
            break
    folded = beta[:-1] / scale
    return folded, float(beta[-1] - folded @ mean)


def _conjugate_gradient(apply, b: np.ndarray, tolerance: float = 1e-3, limit: int = 500) -> np.ndarray:
    """x with apply(x) = b for a symmetric positive definite linear map ``apply``, to a relative
    residual of ``tolerance``: an inexact Newton step; the scores it gives differ from the
    exact solution by about 1e-11 on random features."""
    x = np.zeros_like(b)
    residual = b.copy()
    direction = residual.copy()
    norm = residual @ residual
    target = tolerance * tolerance * max(norm, 1e-300)
    for _ in range(limit):
        if norm <= target:
            break
        mapped = apply(direction)
        alpha = norm / (direction @ mapped)
        x += alpha * direction
        residual -= alpha * mapped
        new_norm = residual @ residual
        direction = residual + (new_norm / norm) * direction
        norm = new_norm
    return x


def sigmoid(logit):
    return 1.0 / (1.0 + np.exp(-np.asarray(logit, np.float64)))


def probability_logit(p: np.ndarray | float) -> np.ndarray:
    """log(p / (1 - p)) of a probability clipped to [1e-4, 1 - 1e-4]: a saturated
    model cannot outvote the other one without limit."""
    p = np.clip(np.asarray(p, np.float64), PROBABILITY_CLIP, 1 - PROBABILITY_CLIP)
    return np.log(p / (1 - p))


def fuse_mean_logit(cnn_probability, texture_logit):
    """The fused live probability: sigmoid of the mean of the two (clipped) logits."""
    return sigmoid((probability_logit(cnn_probability) + np.asarray(texture_logit)) / 2)
