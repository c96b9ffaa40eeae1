"""Model recipes compared under the leave-one-source-out protocol (``loso.py``).

A recipe turns cached face crops into a live probability, and is trained on
some sources and scored on others. Each prepares every crop's features once
(the slow part), then fits on any subset in seconds, so the protocol's
dozens of fits stay CPU-cheap:

* ``size_blur``: the baseline that sees no pixels, only the frame's and the
  face box's size and the face's sharpness (variance of the Laplacian): within
  a source live and attack crops often differ in size and blur, and a model
  that wins only by that has learnt nothing about attacks;
* ``texture``: the shipped colour-LBP features of the 1.3x crop (``texture.py``);
* ``texture_fft``: the same plus the FFT magnitude spectrum of the 1.3x crop
  (radial profile and high-frequency orientation energy: screens' pixel grids
  and moiré, print halftone, recapture blur);
* ``multiscale``: ``texture_fft`` plus LBP (r = 1) and FFT of the 2.7x and 4x
  context crops, where bezels, paper edges and fingers lie (MiniFASNet's scales);
* ``lite0``: frozen ImageNet features (EfficientNet-Lite0, ``pretrained.py``) of the
  1.3x and 2.7x crops: whether pretraining carries across cameras (needs PyTorch,
  installed for the evaluation only); ``lite0_fft``: those beside ``texture_fft``'s.

Today's shipped model (from-scratch CNNs fused with ``texture`` trained on
NUAA) is compared as it is, at its own threshold, on the sources it never
saw (``loso.fixed_model_result``): retraining its CNNs ~40 times for the
protocol is beyond the 2-core machine (an epoch takes minutes).

Each is an L2 logistic regression on their features (``fit_logistic``),
each (source, label) group weighted equally.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from .crops import META_COLUMNS, CropSet
from .texture import DEFAULT_L2, colour_planes, fit_logistic, lbp_histograms, sigmoid, texture_features

FFT_SIZE = 64
RADIAL_BINS = 24
ANGLE_BINS = 8
MULTISCALE = (1.3, 2.7, 4.0)  # the crop scales multiscale reads, in this order


def _window() -> np.ndarray:
    hann = np.hanning(FFT_SIZE)
    return np.outer(hann, hann)


def _fft_bins() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Radial bin of every frequency (DC excluded), angle bin, and the high-frequency mask."""
    f = np.fft.fftshift(np.fft.fftfreq(FFT_SIZE))
    fy, fx = np.meshgrid(f, f, indexing="ij")
    radius = np.hypot(fx, fy) / 0.5  # 1 at the Nyquist frequency of each axis
    radial = np.minimum((radius * RADIAL_BINS).astype(int), RADIAL_BINS)  # RADIAL_BINS: corners
    angle = ((np.arctan2(fy, fx) % np.pi) / np.pi * ANGLE_BINS).astype(int) % ANGLE_BINS
    return radial, angle, (radius > 0.5) & (radius <= 1.0)


WINDOW = _window()
RADIAL, ANGLE, HIGH = _fft_bins()


def fft_features(views: np.ndarray) -> np.ndarray:
    """(N, RADIAL_BINS + ANGLE_BINS) of (N, h, w, 3) BGR uint8 views: the windowed grey
    view's log magnitude spectrum averaged in rings (DC ring dropped), then the high
    frequencies' mean by orientation; both relative to the spectrum's mean, so that
    exposure and contrast cancel out."""
    out = np.empty((len(views), RADIAL_BINS + ANGLE_BINS))
    radial, angle = RADIAL.ravel(), ANGLE.ravel()
    for i, view in enumerate(views):
        grey = cv2.resize(cv2.cvtColor(np.ascontiguousarray(view), cv2.COLOR_BGR2GRAY),
                          (FFT_SIZE, FFT_SIZE), interpolation=cv2.INTER_AREA).astype(np.float64)
        spectrum = np.log1p(np.abs(np.fft.fftshift(np.fft.fft2((grey - grey.mean()) * WINDOW)))).ravel()
        rings = np.bincount(radial, spectrum, RADIAL_BINS + 1) / np.maximum(
            np.bincount(radial, minlength=RADIAL_BINS + 1), 1)
        high = HIGH.ravel()
        orientations = np.bincount(angle[high], spectrum[high], ANGLE_BINS) / np.maximum(
            np.bincount(angle[high], minlength=ANGLE_BINS), 1)
        level = spectrum.mean()
        out[i] = np.concatenate([rings[1:RADIAL_BINS + 1] - level, orientations - level])
    return out


def lbp_features(views: np.ndarray, radii: tuple[int, ...]) -> np.ndarray:
    """Square roots of the uniform-LBP histograms of the HSV and YCrCb planes of each view
    (the texture recipe of ``texture.py`` at other radii)."""
    planes = np.stack([colour_planes(np.ascontiguousarray(v)) for v in views])
    return np.sqrt(np.concatenate([lbp_histograms(planes, r).reshape(len(views), -1) for r in radii], axis=1))


def size_blur_features(crops: CropSet) -> np.ndarray:
    """log frame width and height, log box width and height, log(1 + sharpness)."""
    meta = crops.meta
    columns = [META_COLUMNS.index(c) for c in ("frame_width", "frame_height", "box_width", "box_height")]
    return np.hstack([np.log(np.maximum(meta[:, columns], 1.0)),
                      np.log1p(meta[:, [META_COLUMNS.index("sharpness")]])])


def _view(inputs: np.ndarray, scale: float) -> np.ndarray:
    """The ``scale`` view of stacked inputs whose scales are :data:`MULTISCALE` or a prefix of it."""
    channel = 3 * MULTISCALE.index(scale)
    if inputs.shape[-1] < channel + 3:
        raise ValueError(f"these inputs hold no {scale}x crop")
    return inputs[..., channel:channel + 3]


def texture_only(inputs: np.ndarray) -> np.ndarray:
    return texture_features(_view(inputs, 1.3))


def texture_fft(inputs: np.ndarray) -> np.ndarray:
    return np.hstack([texture_only(inputs), fft_features(_view(inputs, 1.3))])


def multiscale(inputs: np.ndarray) -> np.ndarray:
    context = [np.hstack([lbp_features(_view(inputs, s), (1,)), fft_features(_view(inputs, s))])
               for s in MULTISCALE[1:]]
    return np.hstack([texture_fft(inputs), *context])


# Features computed from the pixels alone, by name: what a shipped linear model reads, and
# the crop scales it needs (a prefix of MULTISCALE).
PIXEL_FEATURES = {"texture": (texture_only, (1.3,)), "texture_fft": (texture_fft, (1.3,)),
                  "multiscale": (multiscale, MULTISCALE)}


def feature_dimensions() -> dict[str, int]:
    """The length of each :data:`PIXEL_FEATURES` vector (measured on one blank input)."""
    blank = np.zeros((1, 8, 8, 3 * len(MULTISCALE)), np.uint8)
    return {name: pixel_features(name, blank).shape[1] for name in PIXEL_FEATURES}


def pixel_features(name: str, inputs: np.ndarray) -> np.ndarray:
    """(N, d) features ``name`` of (N, size, size, 3k) inputs, or (d,) of one input."""
    if name not in PIXEL_FEATURES:
        raise ValueError(f"unknown features {name!r}: {', '.join(PIXEL_FEATURES)}")
    inputs = np.asarray(inputs)
    if inputs.ndim == 3:
        return pixel_features(name, inputs[np.newaxis])[0]
    return PIXEL_FEATURES[name][0](inputs)


@dataclass(frozen=True)
class Recipe:
    """Features of every crop (computed once), then a weighted L2 logistic regression."""

    name: str
    featurize: Callable[[CropSet], np.ndarray]
    l2: float = DEFAULT_L2

    def fit(self, features: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, float]:
        return fit_logistic(features, labels.astype(np.float64), weights, self.l2)

    @staticmethod
    def score(model: tuple[np.ndarray, float], features: np.ndarray) -> np.ndarray:
        weights, bias = model
        return sigmoid(features @ weights + bias)


def nested_features(names, inputs: np.ndarray) -> dict[str, np.ndarray]:
    """The features of each of ``names`` (pixel recipes), computed once: each recipe's vector
    begins with the previous one's (texture, then + FFT, then + context)."""
    widest = max(names, key=list(PIXEL_FEATURES).index)
    full = pixel_features(widest, inputs)
    dimensions = feature_dimensions()
    return {name: full[:, :dimensions[name]] for name in names}


def lite0_recipe_features(crops: CropSet) -> np.ndarray:
    from .pretrained import cached_lite0_features  # PyTorch: an evaluation-only dependency

    return np.hstack([cached_lite0_features(_view(crops.inputs, scale)) for scale in MULTISCALE[:2]])


def lite0_fft_features(crops: CropSet) -> np.ndarray:
    return np.hstack([lite0_recipe_features(crops), texture_fft(crops.inputs)])


def _from_pixels(name: str) -> Recipe:
    return Recipe(name, lambda crops: pixel_features(name, crops.inputs))


RECIPES = {r.name: r for r in (Recipe("size_blur", size_blur_features, l2=1.0),
                                *(_from_pixels(name) for name in PIXEL_FEATURES),
                                Recipe("lite0", lite0_recipe_features), Recipe("lite0_fft", lite0_fft_features))}
